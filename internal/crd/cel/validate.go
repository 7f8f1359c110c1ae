package cel

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/crd/schema"
)

// Validate evaluates every rule against obj (the new object) and old (nil
// on create), starting at fldPath (nil for the resource root), within
// RuntimeCostBudget. Rules reading oldSelf run only where an old value
// exists at the same position (same property, same map key, same
// list-map key), unless optionalOldSelf is set. Null values are not
// validated; rules on their parents may check them. A nil Validator
// validates nothing.
func (v *Validator) Validate(ctx context.Context, fldPath *field.Path, obj, old any) field.ErrorList {
	errs, _ := v.ValidateWithBudget(ctx, fldPath, obj, old, RuntimeCostBudget)
	return errs
}

// ValidateWithBudget is Validate with an explicit cost budget; it returns
// what is left of it (negative once exhausted), for callers that validate
// several parts of one object under one budget.
func (v *Validator) ValidateWithBudget(ctx context.Context, fldPath *field.Path, obj, old any, budget int64) (field.ErrorList, int64) {
	if v == nil || v.root == nil {
		return nil, budget
	}
	return v.root.validate(ctx, fldPath, obj, old, budget, nil)
}

// unchanged reports whether the nearest part of the object that has a
// counterpart in the old object (this node, or the closest ancestor that
// has one) is unchanged; nil on create. Errors of rules that do not read
// oldSelf are forgiven there (validation ratcheting, as upstream).
type unchanged func() bool

func equalOnce(obj, old any, s *schema.Structural) unchanged {
	var done, eq bool
	return func() bool {
		if !done {
			eq, done = equalValues(obj, old, s), true
		}
		return eq
	}
}

// equalValues compares as upstream's ratcheting does: list-map items by
// their keys regardless of order, everything else deeply.
func equalValues(a, b any, s *schema.Structural) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok {
				return false
			}
			var cs *schema.Structural
			if s != nil {
				if p, ok := s.Properties[k]; ok {
					cs = p
				} else {
					cs = s.AdditionalProperties
				}
			}
			if !equalValues(av, bv, cs) {
				return false
			}
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		var items *schema.Structural
		if s != nil {
			items = s.Items
		}
		if s != nil && s.Props != nil && s.Props.XListType != nil && *s.Props.XListType == "map" {
			match := mapListMatcher(s, bl)
			for _, av := range a {
				bv := match(av)
				if bv == nil || !equalValues(av, bv, items) {
					return false
				}
			}
			return true
		}
		for i := range a {
			if !equalValues(a[i], bl[i], items) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func (n *node) validate(ctx context.Context, path *field.Path, obj, old any, budget int64, same unchanged) (field.ErrorList, int64) {
	if n == nil || obj == nil {
		return nil, budget
	}
	if old != nil {
		same = equalOnce(obj, old, n.s)
	}
	errs, budget := n.validateRules(ctx, path, obj, old, budget, same)
	if budget < 0 {
		return errs, budget
	}
	switch obj := obj.(type) {
	case []any:
		if n.items == nil {
			return errs, budget
		}
		oldList, _ := old.([]any)
		match := mapListMatcher(n.s, oldList)
		for i, item := range obj {
			var more field.ErrorList
			more, budget = n.items.validate(ctx, path.Index(i), item, match(item), budget, same)
			errs = append(errs, more...)
			if budget < 0 {
				return errs, budget
			}
		}
	case map[string]any:
		oldMap, _ := old.(map[string]any)
		if !mapIsCorrelatable(n.s) {
			oldMap = nil
		}
		if n.additional != nil {
			for _, k := range sortedKeys(obj) {
				var more field.ErrorList
				more, budget = n.additional.validate(ctx, path.Key(k), obj[k], oldValue(oldMap, k), budget, same)
				errs = append(errs, more...)
				if budget < 0 {
					return errs, budget
				}
			}
		}
		for _, k := range sortedKeys(n.properties) {
			v, ok := obj[k]
			if !ok {
				continue
			}
			var more field.ErrorList
			more, budget = n.properties[k].validate(ctx, path.Child(k), v, oldValue(oldMap, k), budget, same)
			errs = append(errs, more...)
			if budget < 0 {
				return errs, budget
			}
		}
	}
	return errs, budget
}

func oldValue(m map[string]any, k string) any {
	if m == nil {
		return nil
	}
	return m[k]
}

// mapListMatcher finds, for an item of a new x-kubernetes-list-type: map
// list, the old item with the same keys; other lists do not correlate.
func mapListMatcher(s *schema.Structural, old []any) func(any) any {
	var keys []string
	if s.Props != nil && s.Props.XListType != nil && *s.Props.XListType == "map" {
		keys = s.Props.XListMapKeys
	}
	if len(keys) == 0 || len(old) == 0 {
		return func(any) any { return nil }
	}
	index := make(map[string]any, len(old))
	for _, o := range old {
		if m, ok := o.(map[string]any); ok {
			index[mapKey(m, keys)] = o
		}
	}
	return func(x any) any {
		m, ok := x.(map[string]any)
		if !ok {
			return nil
		}
		return index[mapKey(m, keys)]
	}
}

func mapKey(m map[string]any, keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		// %#v keeps "1" and 1 apart; absent keys are <nil>.
		fmt.Fprintf(&b, "%#v\x00", m[k])
	}
	return b.String()
}

type activation struct {
	self, oldSelf ref.Val
	hasOldSelf    bool
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case selfVar:
		return a.self, true
	case oldSelfVar:
		return a.oldSelf, a.hasOldSelf
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

func (n *node) validateRules(ctx context.Context, path *field.Path, obj, old any, budget int64, same unchanged) (field.ErrorList, int64) {
	if len(n.rules) == 0 {
		return nil, budget
	}
	typ := n.s.Type
	if budget <= 0 {
		return field.ErrorList{field.Invalid(path, typ, "validation failed due to running out of cost budget, no further validation rules will be run")}, -1
	}
	self := toVal(obj, n.s, n.isResourceRoot)
	act := &activation{self: self}
	optAct := &activation{self: self, hasOldSelf: true, oldSelf: types.OptionalNone}
	if n.hasOldSelf && old != nil {
		act.oldSelf = toVal(old, n.s, n.isResourceRoot)
		act.hasOldSelf = true
		optAct.oldSelf = types.OptionalOf(act.oldSelf)
	}
	var errs field.ErrorList
	for _, r := range n.rules {
		if r.usesOldSelf && old == nil && !r.optionalOldSelf {
			// Transition rules only run on updates of an existing value.
			continue
		}
		a := act
		if r.optionalOldSelf {
			a = optAct
		}
		res, details, err := r.program.ContextEval(ctx, a)
		if details == nil || details.ActualCost() == nil {
			errs = append(errs, field.Invalid(path, typ, fmt.Sprintf("runtime cost could not be calculated for validation rule: %v, no further validation rules will be run", ruleErrorString(r))))
			return errs, -1
		}
		cost := *details.ActualCost()
		if cost > math.MaxInt64 || int64(cost) > budget {
			errs = append(errs, field.Invalid(path, typ, "validation failed due to running out of cost budget, no further validation rules will be run"))
			return errs, -1
		}
		budget -= int64(cost)
		if err != nil {
			switch msg := err.Error(); {
			case strings.HasPrefix(msg, "no such overload"):
				// Only dyn values (int-or-string) get past the type
				// checker to fail this way.
				errs = append(errs, field.Invalid(path, typ, fmt.Sprintf("'%v': call arguments did not match a supported operator, function or macro signature for rule: %v", err, ruleErrorString(r))))
			case strings.HasPrefix(msg, "operation cancelled: actual cost limit exceeded"):
				errs = append(errs, field.Invalid(path, typ, fmt.Sprintf("'%v': no further validation rules will be run due to call cost exceeds limit for rule: %v", err, ruleErrorString(r))))
				return errs, -1
			default:
				errs = append(errs, field.Invalid(path, typ, fmt.Sprintf("%v evaluating rule: %v", err, ruleErrorString(r))))
			}
			continue
		}
		if res == types.True {
			continue
		}
		errPath := path
		if r.fieldPath != "" {
			errPath = errPath.Child(r.fieldPath)
		}
		detail, ok := "", false
		if r.message != nil {
			msg, remaining, fatal, msgErr := evalMessage(ctx, r, act, budget)
			switch {
			case fatal != "":
				errs = append(errs, field.Invalid(errPath, typ, fatal))
				return errs, -1
			case msgErr == "":
				detail, ok = msg, true
			}
			// A message expression that fails falls back to the message.
			budget = remaining
		}
		if !ok {
			detail = ruleMessageOrDefault(r)
		}
		var value any = obj
		if typ == "object" || typ == "array" {
			value = field.OmitValueType{}
		}
		if !r.usesOldSelf && same != nil && same() {
			// Ratcheting: the value did not change, so neither did the
			// rule's verdict on it; upstream only warns.
			continue
		}
		errs = append(errs, fieldErrorForReason(errPath, value, detail, r))
	}
	return errs, budget
}

// evalMessage evaluates a rule's messageExpression. fatal is set when the
// budget ran out (no further rules run); msgErr when the message is unusable
// and the static message is used instead.
func evalMessage(ctx context.Context, r *rule, act *activation, budget int64) (msg string, remaining int64, fatal, msgErr string) {
	res, details, err := r.message.ContextEval(ctx, act)
	if details == nil || details.ActualCost() == nil {
		return "", -1, fmt.Sprintf("runtime cost could not be calculated for messageExpression: %q", r.src.MessageExpression), ""
	}
	cost := *details.ActualCost()
	if cost > math.MaxInt64 || int64(cost) > budget {
		return "", -1, "messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run", ""
	}
	remaining = budget - int64(cost)
	if err != nil {
		if strings.HasPrefix(err.Error(), "operation cancelled: actual cost limit exceeded") {
			return "", -1, fmt.Sprintf("no further validation rules will be run due to call cost exceeds limit for messageExpression: %q", r.src.MessageExpression), ""
		}
		return "", remaining, "", "messageExpression evaluation failed due to: " + err.Error()
	}
	s, ok := res.Value().(string)
	if !ok {
		return "", remaining, "", "messageExpression failed to convert to string"
	}
	s = strings.TrimSpace(s)
	switch {
	case len(s) > maxMessageExpressionSizeBytes:
		return "", remaining, "", fmt.Sprintf("messageExpression beyond allowable length of %d", maxMessageExpressionSizeBytes)
	case strings.Contains(s, "\n"):
		return "", remaining, "", "messageExpression should not contain line breaks"
	case s == "":
		return "", remaining, "", "messageExpression should evaluate to a non-empty string"
	}
	return s, remaining, "", ""
}

func fieldErrorForReason(path *field.Path, value any, detail string, r *rule) *field.Error {
	if r.src.Reason == nil {
		return field.Invalid(path, value, detail)
	}
	switch apiextensions.FieldValueErrorReason(*r.src.Reason) {
	case apiextensions.FieldValueForbidden:
		return field.Forbidden(path, detail)
	case apiextensions.FieldValueRequired:
		return field.Required(path, detail)
	case apiextensions.FieldValueDuplicate:
		return field.Duplicate(path, value)
	default:
		return field.Invalid(path, value, detail)
	}
}

func ruleMessageOrDefault(r *rule) string {
	if r.src.Message == "" {
		return "failed rule: " + ruleErrorString(r)
	}
	return strings.TrimSpace(r.src.Message)
}

func ruleErrorString(r *rule) string {
	if r.src.Message != "" {
		return strings.TrimSpace(r.src.Message)
	}
	return strings.TrimSpace(r.src.Rule)
}

// BlockingError returns the error kube-apiserver reports instead of
// evaluating rules when schema validation (schema.Validate) already found
// errors that make the object's shape unreliable (unsupported value,
// required, too long, too many, wrong type), or nil when rules should run.
// Callers append it to errs and skip Validate.
func BlockingError(errs field.ErrorList) *field.Error {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}
