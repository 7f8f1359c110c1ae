package cel

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/crd/schema"
)

// Limits kube-apiserver applies to CRD validation rules
// (k8s.io/apiserver/pkg/apis/cel and apiextensions' CRD validation).
const (
	// PerCallLimit is the cost one evaluation of one rule may use.
	PerCallLimit = 1000000
	// RuntimeCostBudget is the cost all rules together may use while
	// validating one object.
	RuntimeCostBudget = 10000000
	// StaticEstimatedCostLimit bounds one rule's estimated cost
	// (times how often it can run for one object).
	StaticEstimatedCostLimit = 10000000
	// StaticEstimatedCRDCostLimit bounds the sum of those over a schema.
	StaticEstimatedCRDCostLimit = 100000000

	checkFrequency                = 100
	maxMessageExpressionSizeBytes = 5 * 1024
	selfVar                       = "self"
	oldSelfVar                    = "oldSelf"
)

// Validator evaluates the compiled x-kubernetes-validations rules of one
// schema. It is immutable and safe for concurrent use.
type Validator struct {
	root         *node
	perCallLimit uint64
}

// node mirrors the schema tree, keeping only the parts below which rules
// exist.
type node struct {
	s              *schema.Structural
	isResourceRoot bool
	rules          []*rule
	properties     map[string]*node
	items          *node
	additional     *node
	// hasOldSelf is true if any rule here reads oldSelf: only then is the
	// old value converted.
	hasOldSelf bool
}

type rule struct {
	src             apiextensionsv1.ValidationRule
	program         cel.Program
	usesOldSelf     bool
	optionalOldSelf bool
	message         cel.Program
	// fieldPath is the rule's fieldPath, normalized ("spec.ports[x]"),
	// appended to the error's path.
	fieldPath string
}

var (
	baseEnvOnce sync.Once
	baseEnv     *cel.Env
	baseEnvErr  error
)

func getBaseEnv() (*cel.Env, error) {
	baseEnvOnce.Do(func() {
		baseEnv, baseEnvErr = cel.NewEnv(baseEnvOptions()...)
	})
	return baseEnv, baseEnvErr
}

// Compile compiles every x-kubernetes-validations rule of s (the schema
// of a CRD version, rooted at the resource) once. It returns the errors
// kube-apiserver reports when such a CRD is created or updated, with paths
// under fldPath (e.g. spec.versions[0].schema.openAPIV3Schema): rules that
// do not compile, are not boolean, exceed the estimated cost limit, have
// a bad message, messageExpression, reason or fieldPath, or use oldSelf
// where no old value can be correlated. The Validator is nil when s has
// no rules; when errors are returned it must not be used.
func Compile(s *schema.Structural, fldPath *field.Path) (*Validator, field.ErrorList) {
	return compile(s, fldPath, PerCallLimit, true)
}

// CompileStored compiles the rules of a schema that was already accepted
// (a stored CRD being served): like kube-apiserver's serving path it does
// not re-check estimated costs, so a CRD accepted once stays servable even
// if cost estimation changes between versions. Other errors are Compile's.
func CompileStored(s *schema.Structural) (*Validator, field.ErrorList) {
	return compile(s, nil, PerCallLimit, false)
}

// compile is Compile with the per-call limit and the static cost checks
// as parameters; tests lower the one and skip the other (as upstream's
// runtime validator, which does not re-check estimated costs).
func compile(s *schema.Structural, fldPath *field.Path, perCallLimit uint64, staticCost bool) (*Validator, field.ErrorList) {
	if s == nil || !hasRules(s) {
		return nil, nil
	}
	base, err := getBaseEnv()
	if err != nil {
		return nil, field.ErrorList{field.InternalError(fldPath, fmt.Errorf("CEL environment: %w", err))}
	}
	c := &compiler{base: base, perCallLimit: perCallLimit, staticCost: staticCost}
	one := uint64(1)
	reg := map[string]*declType{}
	d := schemaDeclType(s, true, uniqueTypeName(), reg)
	root := c.node(s, d, reg, true, fldPath, nil, &one)
	errs := c.errs
	if staticCost && c.total > StaticEstimatedCRDCostLimit {
		for _, e := range c.mostExpensive {
			errs = append(errs, field.Forbidden(e.path, "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema"))
		}
		errs = append(errs, field.Forbidden(fldPath, costErrorMessage("x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema", c.total, StaticEstimatedCRDCostLimit)))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &Validator{root: root, perCallLimit: perCallLimit}, nil
}

func hasRules(s *schema.Structural) bool {
	if s == nil {
		return false
	}
	if s.Props != nil && len(s.Props.XValidations) > 0 {
		return true
	}
	if hasRules(s.Items) || hasRules(s.AdditionalProperties) {
		return true
	}
	for _, p := range s.Properties {
		if hasRules(p) {
			return true
		}
	}
	return false
}

type ruleCost struct {
	path *field.Path
	cost uint64
}

type compiler struct {
	base          *cel.Env
	perCallLimit  uint64
	staticCost    bool
	errs          field.ErrorList
	total         uint64
	mostExpensive []ruleCost
}

func (c *compiler) observeCost(path *field.Path, cost uint64) {
	if math.MaxUint64-c.total < cost {
		c.total = math.MaxUint64
	} else {
		c.total += cost
	}
	if cost < StaticEstimatedCRDCostLimit/100 {
		return
	}
	c.mostExpensive = append(c.mostExpensive, ruleCost{path: path, cost: cost})
	sort.SliceStable(c.mostExpensive, func(i, j int) bool { return c.mostExpensive[i].cost > c.mostExpensive[j].cost })
	if len(c.mostExpensive) > 4 {
		c.mostExpensive = c.mostExpensive[:4]
	}
}

// node compiles the rules of s and below. d is s's CEL type (nil if it has
// none), uncorrelatable the path of the nearest ancestor below which old
// values cannot be matched to new ones (nil if none), cardinality how many
// times s's rules can run for one object (nil: unbounded).
func (c *compiler) node(s *schema.Structural, d *declType, reg map[string]*declType, isResourceRoot bool, path, uncorrelatable *field.Path, cardinality *uint64) *node {
	if !hasRules(s) {
		return nil
	}
	n := &node{s: s, isResourceRoot: isResourceRoot}
	if s.Props != nil && len(s.Props.XValidations) > 0 {
		n.rules = c.rules(s, d, reg, path, uncorrelatable, cardinality)
		for _, r := range n.rules {
			n.hasOldSelf = n.hasOldSelf || r.usesOldSelf
		}
	}
	childCard := childCardinality(s, cardinality)
	if s.Items != nil {
		var itemType *declType
		if d != nil {
			itemType = d.elem
		}
		u := uncorrelatable
		// Only map lists correlate old and new items (by key).
		if u == nil && (s.Props == nil || s.Props.XListType == nil || *s.Props.XListType != "map") {
			u = path
		}
		n.items = c.node(s.Items, itemType, reg, s.Items.XEmbeddedResource, path.Child("items"), u, childCard)
	}
	if ap := s.AdditionalProperties; ap != nil {
		var valType *declType
		if d != nil {
			valType = d.elem
		}
		n.additional = c.node(ap, valType, reg, ap.XEmbeddedResource, path.Child("additionalProperties"), uncorrelatable, childCard)
	}
	for _, k := range sortedKeys(s.Properties) {
		p := s.Properties[k]
		if !hasRules(p) {
			continue
		}
		var ft *declType
		if esc, ok := escape(k); ok {
			if d == nil || d.fields[esc] == nil {
				// Fields without a CEL type are not validated by rules.
				continue
			}
			ft = d.fields[esc]
		} else {
			ft = schemaDeclType(p, p.XEmbeddedResource, uniqueTypeName(), reg)
			if ft == nil {
				continue
			}
		}
		u := uncorrelatable
		if u == nil && !mapIsCorrelatable(s) {
			u = path
		}
		if child := c.node(p, ft, reg, p.XEmbeddedResource, path.Child("properties").Key(k), u, childCard); child != nil {
			if n.properties == nil {
				n.properties = map[string]*node{}
			}
			n.properties[k] = child
		}
	}
	return n
}

// mapIsCorrelatable: granular (the default) and atomic maps match old and
// new values by key.
func mapIsCorrelatable(s *schema.Structural) bool {
	if s.Props == nil || s.Props.XMapType == nil {
		return true
	}
	t := *s.Props.XMapType
	return t == "granular" || t == "atomic"
}

// childCardinality multiplies by how many children s can have.
func childCardinality(s *schema.Structural, card *uint64) *uint64 {
	if card == nil || s.Props == nil {
		return nil
	}
	var factor uint64 = 1
	switch s.Type {
	case "object":
		if s.Props.AdditionalProperties != nil {
			if s.Props.MaxProperties == nil {
				return nil
			}
			factor = uint64(max(*s.Props.MaxProperties, 0))
		}
	case "array":
		if s.Props.MaxItems == nil {
			return nil
		}
		factor = uint64(max(*s.Props.MaxItems, 0))
	}
	v := saturatingMul(*card, factor)
	return &v
}

var newlines = regexp.MustCompile(`[\n\r]+`)

var supportedReasons = []string{
	string(apiextensions.FieldValueDuplicate),
	string(apiextensions.FieldValueForbidden),
	string(apiextensions.FieldValueInvalid),
	string(apiextensions.FieldValueRequired),
}

func (c *compiler) rules(s *schema.Structural, d *declType, reg map[string]*declType, path, uncorrelatable *field.Path, cardinality *uint64) []*rule {
	rulesPath := path.Child("x-kubernetes-validations")
	srcs := s.Props.XValidations
	// Checks of the rule fields come first; a node with such errors is
	// not compiled, as its errors would only confuse.
	var schemaErrs field.ErrorList
	for i, r := range srcs {
		p := rulesPath.Index(i)
		rule, msg, msgExpr := strings.TrimSpace(r.Rule), strings.TrimSpace(r.Message), strings.TrimSpace(r.MessageExpression)
		switch {
		case rule == "":
			schemaErrs = append(schemaErrs, field.Required(p.Child("rule"), "rule is not specified"))
		case r.Message != "" && msg == "":
			schemaErrs = append(schemaErrs, field.Invalid(p.Child("message"), r.Message, "must be non-empty if specified"))
		case newlines.MatchString(msg):
			schemaErrs = append(schemaErrs, field.Invalid(p.Child("message"), r.Message, "must not contain line breaks"))
		case newlines.MatchString(rule) && msg == "":
			schemaErrs = append(schemaErrs, field.Required(p.Child("message"), "message must be specified if rule contains line breaks"))
		}
		if r.MessageExpression != "" && msgExpr == "" {
			schemaErrs = append(schemaErrs, field.Required(p.Child("messageExpression"), "messageExpression must be non-empty if specified"))
		}
		if r.Reason != nil && !isSupportedReason(string(*r.Reason)) {
			schemaErrs = append(schemaErrs, field.NotSupported(p.Child("reason"), *r.Reason, supportedReasons))
		}
		if r.FieldPath != "" && strings.TrimSpace(r.FieldPath) == "" {
			schemaErrs = append(schemaErrs, field.Invalid(p.Child("fieldPath"), r.FieldPath, "must be non-empty if specified"))
		}
		if newlines.MatchString(r.FieldPath) {
			schemaErrs = append(schemaErrs, field.Invalid(p.Child("fieldPath"), r.FieldPath, "must not contain line breaks"))
		}
		if r.FieldPath != "" {
			if _, err := ValidFieldPath(r.FieldPath, s); err != nil {
				schemaErrs = append(schemaErrs, field.Invalid(p.Child("fieldPath"), r.FieldPath, "must be a valid path"))
			}
		}
	}
	if len(schemaErrs) > 0 {
		c.errs = append(c.errs, schemaErrs...)
		return nil
	}
	if d == nil {
		c.errs = append(c.errs, field.InternalError(rulesPath, fmt.Errorf("failed to convert to declType for CEL validation rules")))
		return nil
	}
	env, optEnv, err := c.envs(d, reg)
	if err != nil {
		c.errs = append(c.errs, field.InternalError(rulesPath, err))
		return nil
	}
	est := &costEstimator{root: d}
	// How often the rule can run for one object when no maxItems or
	// maxProperties above bounds it: as many times as the smallest
	// instance of this node fits into a request.
	card := uint64(maxRequestSizeBytes / (d.minSerializedSize + 1))
	if cardinality != nil {
		card = *cardinality
	}
	out := make([]*rule, 0, len(srcs))
	for i, src := range srcs {
		p := rulesPath.Index(i)
		e := env
		if src.OptionalOldSelf != nil && *src.OptionalOldSelf {
			e = optEnv
		}
		r, ok := c.rule(e, est, src, s, p, uncorrelatable, card)
		if ok {
			out = append(out, r)
		}
	}
	return out
}

func isSupportedReason(r string) bool {
	for _, s := range supportedReasons {
		if s == r {
			return true
		}
	}
	return false
}

// envs declares self (and oldSelf, plain and optional) with d's type.
func (c *compiler) envs(d *declType, reg map[string]*declType) (*cel.Env, *cel.Env, error) {
	p := &provider{base: c.base.CELTypeProvider(), objects: reg}
	env, err := c.base.Extend(
		cel.CustomTypeProvider(p),
		cel.Variable(selfVar, d.cel),
		cel.Variable(oldSelfVar, d.cel),
	)
	if err != nil {
		return nil, nil, err
	}
	optEnv, err := c.base.Extend(
		cel.CustomTypeProvider(p),
		cel.Variable(selfVar, d.cel),
		cel.Variable(oldSelfVar, types.NewOptionalType(d.cel)),
	)
	if err != nil {
		return nil, nil, err
	}
	return env, optEnv, nil
}

func (c *compiler) rule(env *cel.Env, est *costEstimator, src apiextensionsv1.ValidationRule, s *schema.Structural, path, uncorrelatable *field.Path, cardinality uint64) (*rule, bool) {
	r := &rule{src: src, optionalOldSelf: src.OptionalOldSelf != nil && *src.OptionalOldSelf}
	shown := internalRule(src)
	ruleErr := func(detail string) {
		c.errs = append(c.errs, field.Invalid(path.Child("rule"), shown, detail))
	}
	ast, iss := env.Compile(src.Rule)
	if iss.Err() != nil {
		ruleErr("compilation failed: " + iss.String())
		c.observeCost(path.Child("rule"), 0)
		return nil, false
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		ruleErr("cel expression must evaluate to a bool")
		return nil, false
	}
	checked, err := cel.AstToCheckedExpr(ast)
	if err != nil {
		ruleErr("unexpected compilation error: " + err.Error())
		return nil, false
	}
	for _, ref := range checked.GetReferenceMap() {
		if ref.GetName() == oldSelfVar {
			r.usesOldSelf = true
			break
		}
	}
	prog, err := env.Program(ast, programOptions(c.perCallLimit, est)...)
	if err != nil {
		ruleErr("program instantiation failed: " + err.Error())
		return nil, false
	}
	r.program = prog
	cost, err := env.EstimateCost(ast, est)
	if err != nil {
		ruleErr("cost estimation failed: " + err.Error())
		return nil, false
	}
	ok := true
	total := saturatingMul(cost.Max, cardinality)
	if c.staticCost && total > StaticEstimatedCostLimit {
		c.errs = append(c.errs, field.Forbidden(path.Child("rule"), costErrorMessage("estimated rule cost", total, StaticEstimatedCostLimit)))
		ok = false
	}
	c.observeCost(path.Child("rule"), total)

	if src.MessageExpression != "" {
		msgErr := func(detail string) {
			c.errs = append(c.errs, field.Invalid(path.Child("messageExpression"), shown, detail))
			ok = false
		}
		mast, iss := env.Compile(src.MessageExpression)
		switch {
		case iss.Err() != nil:
			msgErr("messageExpression compilation failed: " + iss.String())
		case !mast.OutputType().IsExactType(types.StringType):
			msgErr("messageExpression must evaluate to a string")
		default:
			mprog, err := env.Program(mast, programOptions(c.perCallLimit, est)...)
			if err != nil {
				msgErr("messageExpression instantiation failed: " + err.Error())
				break
			}
			mcost, err := env.EstimateCost(mast, est)
			if err != nil {
				msgErr("cost estimation failed for messageExpression: " + err.Error())
				break
			}
			r.message = mprog
			mtotal := saturatingMul(mcost.Max, cardinality)
			if c.staticCost && mtotal > StaticEstimatedCostLimit {
				c.errs = append(c.errs, field.Forbidden(path.Child("messageExpression"), costErrorMessage("estimated messageExpression cost", mtotal, StaticEstimatedCostLimit)))
				ok = false
			}
			c.observeCost(path.Child("messageExpression"), mtotal)
		}
	}
	if r.usesOldSelf {
		if uncorrelatable != nil {
			c.errs = append(c.errs, field.Invalid(path.Child("rule"), src.Rule, fmt.Sprintf("oldSelf cannot be used on the uncorrelatable portion of the schema within %v", uncorrelatable)))
			ok = false
		}
	} else if src.OptionalOldSelf != nil {
		c.errs = append(c.errs, field.Invalid(path.Child("optionalOldSelf"), *src.OptionalOldSelf, "may not be set if oldSelf is not used in rule"))
		ok = false
	}
	if src.FieldPath != "" {
		if fp, err := ValidFieldPath(src.FieldPath, s); err == nil {
			r.fieldPath = fp.String()
		}
	}
	return r, ok
}

// internalRule is the rule as kube-apiserver prints it in errors: its
// internal type, whose JSON form has Go field names.
func internalRule(r apiextensionsv1.ValidationRule) apiextensions.ValidationRule {
	out := apiextensions.ValidationRule{
		Rule:              r.Rule,
		Message:           r.Message,
		MessageExpression: r.MessageExpression,
		FieldPath:         r.FieldPath,
		OptionalOldSelf:   r.OptionalOldSelf,
	}
	if r.Reason != nil {
		reason := apiextensions.FieldValueErrorReason(*r.Reason)
		out.Reason = &reason
	}
	return out
}

func costErrorMessage(name string, cost, limit uint64) string {
	f := float64(cost) / float64(limit)
	var factor string
	switch {
	case f > 100.0:
		factor = "more than 100x"
	case f < 1.5:
		factor = fmt.Sprintf("%fx", f)
	default:
		factor = fmt.Sprintf("%.1fx", f)
	}
	return fmt.Sprintf("%s exceeds budget by factor of %s (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)", name, factor)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
