package admissionregistration

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// ---- ValidatingAdmissionPolicy ----

// policyStrategy gives ValidatingAdmissionPolicy its semantics: spec
// changes count in metadata.generation; status (the type checker's
// findings) is written through /status.
type policyStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = policyStrategy{}

func (policyStrategy) New() runtime.Object     { return &admissionv1.ValidatingAdmissionPolicy{} }
func (policyStrategy) NewList() runtime.Object { return &admissionv1.ValidatingAdmissionPolicyList{} }

func (policyStrategy) Default(obj runtime.Object) {
	spec := &obj.(*admissionv1.ValidatingAdmissionPolicy).Spec
	if spec.FailurePolicy == nil {
		p := admissionv1.Fail
		spec.FailurePolicy = &p
	}
	defaultMatchResources(spec.MatchConstraints)
}

// defaultMatchResources: match equivalent requests, all namespaces and
// objects, and rules of any scope.
func defaultMatchResources(m *admissionv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		p := admissionv1.Equivalent
		m.MatchPolicy = &p
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for i := range m.ResourceRules {
		defaultRule(&m.ResourceRules[i].Rule)
	}
	for i := range m.ExcludeResourceRules {
		defaultRule(&m.ExcludeResourceRules[i].Rule)
	}
}

func (policyStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	p := obj.(*admissionv1.ValidatingAdmissionPolicy)
	p.Generation = 1
	p.Status = admissionv1.ValidatingAdmissionPolicyStatus{}
}

func (policyStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	p, o := obj.(*admissionv1.ValidatingAdmissionPolicy), old.(*admissionv1.ValidatingAdmissionPolicy)
	if sub == "status" {
		p.Spec = o.Spec
		return
	}
	p.Status = o.Status
	if !apiequality.Semantic.DeepEqual(p.Spec, o.Spec) {
		p.Generation = o.Generation + 1
	}
}

func (policyStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	p := obj.(*admissionv1.ValidatingAdmissionPolicy)
	return validatePolicySpec(p.Name, &p.Spec, field.NewPath("spec"))
}

func (s policyStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

var (
	validationReasons = []metav1.StatusReason{metav1.StatusReasonUnauthorized, metav1.StatusReasonForbidden,
		metav1.StatusReasonInvalid, metav1.StatusReasonRequestEntityTooLarge}
	maxAuditAnnotations = 20
)

func validatePolicySpec(name string, spec *admissionv1.ValidatingAdmissionPolicySpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch fp := spec.FailurePolicy; {
	case fp == nil:
		errs = append(errs, field.Required(p.Child("failurePolicy"), ""))
	case !slices.Contains(failurePolicies, *fp):
		errs = append(errs, field.NotSupported(p.Child("failurePolicy"), *fp, failurePolicies))
	}
	if spec.ParamKind != nil {
		errs = append(errs, validateParamKind(spec.ParamKind, p.Child("paramKind"))...)
	}
	if spec.MatchConstraints == nil {
		errs = append(errs, field.Required(p.Child("matchConstraints"), ""))
	} else {
		errs = append(errs, validateMatchResources(spec.MatchConstraints, p.Child("matchConstraints"))...)
		// The rules give the policy's expressions their types.
		if len(spec.MatchConstraints.ResourceRules) == 0 {
			errs = append(errs, field.Required(p.Child("matchConstraints", "resourceRules"), ""))
		}
	}
	errs = append(errs, validateMatchConditions(spec.MatchConditions, p.Child("matchConditions"))...)
	if len(spec.Validations) == 0 && len(spec.AuditAnnotations) == 0 {
		errs = append(errs, field.Required(p.Child("validations"), "validations or auditAnnotations must contain at least one item"))
	}
	for i := range spec.Validations {
		errs = append(errs, validateValidation(&spec.Validations[i], p.Child("validations").Index(i))...)
	}
	ap := p.Child("auditAnnotations")
	if len(spec.AuditAnnotations) > maxAuditAnnotations {
		errs = append(errs, field.Invalid(ap, len(spec.AuditAnnotations), fmt.Sprintf("must not have more than %d auditAnnotations", maxAuditAnnotations)))
	}
	keys := sets.New[string]()
	for i, a := range spec.AuditAnnotations {
		kp := ap.Index(i).Child("key")
		// The key is published as <policy name>/<key>.
		if name == "" {
			errs = append(errs, field.Invalid(kp, a.Key, "requires metadata.name be non-empty"))
		} else {
			for _, msg := range validation.IsQualifiedName(name + "/" + a.Key) {
				errs = append(errs, field.Invalid(kp, name+"/"+a.Key, msg))
			}
		}
		if keys.Has(a.Key) {
			errs = append(errs, field.Duplicate(kp, a.Key))
		}
		keys.Insert(a.Key)
		if strings.TrimSpace(a.ValueExpression) == "" {
			errs = append(errs, field.Required(ap.Index(i).Child("valueExpression"), "valueExpression is not specified"))
		}
	}
	vp := p.Child("variables")
	vars := sets.New[string]()
	for i, v := range spec.Variables {
		np := vp.Index(i).Child("name")
		switch {
		case strings.TrimSpace(v.Name) == "":
			errs = append(errs, field.Required(np, "name is not specified"))
		case !isCELIdentifier(v.Name):
			errs = append(errs, field.Invalid(np, v.Name, "name is not a valid CEL identifier"))
		case vars.Has(v.Name):
			errs = append(errs, field.Duplicate(np, v.Name))
		}
		vars.Insert(v.Name)
		if strings.TrimSpace(v.Expression) == "" {
			errs = append(errs, field.Required(vp.Index(i).Child("expression"), "expression is not specified"))
		}
	}
	return errs
}

func validateValidation(v *admissionv1.Validation, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strings.TrimSpace(v.Expression) == "" {
		errs = append(errs, field.Required(p.Child("expression"), "expression is not specified"))
	}
	if v.MessageExpression != "" && strings.TrimSpace(v.MessageExpression) == "" {
		errs = append(errs, field.Invalid(p.Child("messageExpression"), v.MessageExpression, "must be non-empty if specified"))
	}
	msg := strings.TrimSpace(v.Message)
	switch {
	case v.Message != "" && msg == "":
		errs = append(errs, field.Invalid(p.Child("message"), v.Message, "message must be non-empty if specified"))
	case strings.ContainsAny(msg, "\n\r"):
		errs = append(errs, field.Invalid(p.Child("message"), v.Message, "message must not contain line breaks"))
	}
	if r := v.Reason; r != nil && !slices.Contains(validationReasons, *r) {
		errs = append(errs, field.NotSupported(p.Child("reason"), *r, validationReasons))
	}
	return errs
}

func validateParamKind(k *admissionv1.ParamKind, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	vp := p.Child("apiVersion")
	if k.APIVersion == "" {
		errs = append(errs, field.Required(vp, ""))
	} else if gv, err := schema.ParseGroupVersion(k.APIVersion); err != nil {
		errs = append(errs, field.Invalid(vp, k.APIVersion, err.Error()))
	} else {
		if gv.Group != "" {
			if msgs := validation.IsDNS1123Subdomain(gv.Group); len(msgs) > 0 {
				errs = append(errs, field.Invalid(vp, gv.Group, strings.Join(msgs, ",")))
			}
		}
		if gv.Version == "" {
			errs = append(errs, field.Invalid(vp, k.APIVersion, "version must be specified"))
		} else if msgs := validation.IsDNS1035Label(gv.Version); len(msgs) > 0 {
			errs = append(errs, field.Invalid(vp, gv.Version, strings.Join(msgs, ",")))
		}
	}
	if k.Kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	} else if msgs := validation.IsDNS1035Label(strings.ToLower(k.Kind)); len(msgs) > 0 {
		errs = append(errs, field.Invalid(p.Child("kind"), k.Kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
	}
	return errs
}

// validateMatchResources checks the resources a policy or binding
// matches. Defaulting fills in the policy and selectors, so a missing one
// is an error only for a client that bypasses it.
func validateMatchResources(m *admissionv1.MatchResources, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch mp := m.MatchPolicy; {
	case mp == nil:
		errs = append(errs, field.Required(p.Child("matchPolicy"), ""))
	case !slices.Contains(matchPolicies, *mp):
		errs = append(errs, field.NotSupported(p.Child("matchPolicy"), *mp, matchPolicies))
	}
	for _, s := range []struct {
		sel  *metav1.LabelSelector
		name string
	}{{m.NamespaceSelector, "namespaceSelector"}, {m.ObjectSelector, "objectSelector"}} {
		if s.sel == nil {
			errs = append(errs, field.Required(p.Child(s.name), ""))
			continue
		}
		errs = append(errs, metav1validation.ValidateLabelSelector(s.sel, metav1validation.LabelSelectorValidationOptions{}, p.Child(s.name))...)
	}
	for i := range m.ResourceRules {
		errs = append(errs, validateNamedRule(&m.ResourceRules[i], p.Child("resourceRules").Index(i))...)
	}
	for i := range m.ExcludeResourceRules {
		errs = append(errs, validateNamedRule(&m.ExcludeResourceRules[i], p.Child("excludeResourceRules").Index(i))...)
	}
	return errs
}

func validateNamedRule(r *admissionv1.NamedRuleWithOperations, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, n := range r.ResourceNames {
		np := p.Child("resourceNames").Index(i)
		for _, msg := range path.ValidatePathSegmentName(n, false) {
			errs = append(errs, field.Invalid(np, n, msg))
		}
		if names.Has(n) {
			errs = append(errs, field.Duplicate(np, n))
		}
		names.Insert(n)
	}
	return append(errs, validateRuleWithOperations(&r.RuleWithOperations, p)...)
}

var (
	celIdentifier = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*$`)
	celReserved   = sets.New("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function",
		"if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while")
)

func isCELIdentifier(s string) bool { return celIdentifier.MatchString(s) && !celReserved.Has(s) }

// ---- ValidatingAdmissionPolicyBinding ----

type bindingStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = bindingStrategy{}

func (bindingStrategy) New() runtime.Object { return &admissionv1.ValidatingAdmissionPolicyBinding{} }
func (bindingStrategy) NewList() runtime.Object {
	return &admissionv1.ValidatingAdmissionPolicyBindingList{}
}

func (bindingStrategy) Default(obj runtime.Object) {
	defaultMatchResources(obj.(*admissionv1.ValidatingAdmissionPolicyBinding).Spec.MatchResources)
}

func (bindingStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*admissionv1.ValidatingAdmissionPolicyBinding).Generation = 1
}

func (bindingStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	b, o := obj.(*admissionv1.ValidatingAdmissionPolicyBinding), old.(*admissionv1.ValidatingAdmissionPolicyBinding)
	if !apiequality.Semantic.DeepEqual(b.Spec, o.Spec) {
		b.Generation = o.Generation + 1
	}
}

func (bindingStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateBindingSpec(&obj.(*admissionv1.ValidatingAdmissionPolicyBinding).Spec, field.NewPath("spec"))
}

func (s bindingStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

var (
	validationActions = []admissionv1.ValidationAction{admissionv1.Deny, admissionv1.Warn, admissionv1.Audit}
	notFoundActions   = []admissionv1.ParameterNotFoundActionType{admissionv1.DenyAction, admissionv1.AllowAction}
)

func validateBindingSpec(spec *admissionv1.ValidatingAdmissionPolicyBindingSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.PolicyName == "" {
		errs = append(errs, field.Required(p.Child("policyName"), ""))
	} else {
		for _, msg := range apivalidation.NameIsDNSSubdomain(spec.PolicyName, false) {
			errs = append(errs, field.Invalid(p.Child("policyName"), spec.PolicyName, msg))
		}
	}
	if spec.ParamRef != nil {
		errs = append(errs, validateParamRef(spec.ParamRef, p.Child("paramRef"))...)
	}
	if spec.MatchResources != nil {
		errs = append(errs, validateMatchResources(spec.MatchResources, p.Child("matchResources"))...)
	}
	ap := p.Child("validationActions")
	if len(spec.ValidationActions) == 0 {
		errs = append(errs, field.Required(ap, "at least one validation action is required"))
	}
	seen := sets.New[admissionv1.ValidationAction]()
	for i, a := range spec.ValidationActions {
		if !slices.Contains(validationActions, a) {
			errs = append(errs, field.NotSupported(ap.Index(i), a, validationActions))
		}
		if seen.Has(a) {
			errs = append(errs, field.Duplicate(ap.Index(i), a))
		}
		seen.Insert(a)
	}
	if seen.HasAll(admissionv1.Deny, admissionv1.Warn) {
		errs = append(errs, field.Invalid(ap, spec.ValidationActions,
			"must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
	}
	return errs
}

// validateParamRef: parameters are found by name or by selector, not
// both, and the binding says what a missing one means.
func validateParamRef(r *admissionv1.ParamRef, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.Name != "" {
		for _, msg := range path.ValidatePathSegmentName(r.Name, false) {
			errs = append(errs, field.Invalid(p.Child("name"), r.Name, msg))
		}
	}
	if r.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(r.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	switch {
	case r.Name != "" && r.Selector != nil:
		errs = append(errs, field.Forbidden(p.Child("name"), "name and selector are mutually exclusive"),
			field.Forbidden(p.Child("selector"), "name and selector are mutually exclusive"))
	case r.Name == "" && r.Selector == nil:
		errs = append(errs, field.Required(p, "one of name or selector must be specified"))
	}
	if r.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(r.Namespace) {
			errs = append(errs, field.Invalid(p.Child("namespace"), r.Namespace, msg))
		}
	}
	switch a := r.ParameterNotFoundAction; {
	case a == nil || *a == "":
		errs = append(errs, field.Required(p.Child("parameterNotFoundAction"), ""))
	case !slices.Contains(notFoundActions, *a):
		errs = append(errs, field.NotSupported(p.Child("parameterNotFoundAction"), *a, notFoundActions))
	}
	return errs
}
