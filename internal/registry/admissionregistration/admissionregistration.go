// Package admissionregistration holds the strategies of
// admissionregistration.k8s.io/v1: the mutating and validating webhook
// configurations, and ValidatingAdmissionPolicy with its bindings. It
// defaults and checks their shape as upstream does; it does not call
// webhooks or evaluate policies, and it does not compile the policies'
// CEL expressions (an expression is only required to be present).
package admissionregistration

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

func gvr(resource string) schema.GroupVersionResource {
	return admissionv1.SchemeGroupVersion.WithResource(resource)
}

// Resources are the admissionregistration.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	cat := []string{"api-extensions"}
	return []*registry.Resource{
		{GVR: gvr("mutatingwebhookconfigurations"), Kind: "MutatingWebhookConfiguration", ListKind: "MutatingWebhookConfigurationList",
			SingularName: "mutatingwebhookconfiguration", Categories: cat, Strategy: mutatingWebhookStrategy{}},
		{GVR: gvr("validatingwebhookconfigurations"), Kind: "ValidatingWebhookConfiguration", ListKind: "ValidatingWebhookConfigurationList",
			SingularName: "validatingwebhookconfiguration", Categories: cat, Strategy: validatingWebhookStrategy{}},
		{GVR: gvr("validatingadmissionpolicies"), Kind: "ValidatingAdmissionPolicy", ListKind: "ValidatingAdmissionPolicyList",
			SingularName: "validatingadmissionpolicy", Categories: cat, Subresources: []string{"status"}, Strategy: policyStrategy{}},
		{GVR: gvr("validatingadmissionpolicybindings"), Kind: "ValidatingAdmissionPolicyBinding", ListKind: "ValidatingAdmissionPolicyBindingList",
			SingularName: "validatingadmissionpolicybinding", Categories: cat, Strategy: bindingStrategy{}},
	}
}

// ---- MutatingWebhookConfiguration ----

// mutatingWebhookStrategy: the configuration's generation counts changes
// of its webhooks.
type mutatingWebhookStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = mutatingWebhookStrategy{}

func (mutatingWebhookStrategy) New() runtime.Object {
	return &admissionv1.MutatingWebhookConfiguration{}
}
func (mutatingWebhookStrategy) NewList() runtime.Object {
	return &admissionv1.MutatingWebhookConfigurationList{}
}

func (mutatingWebhookStrategy) Default(obj runtime.Object) {
	c := obj.(*admissionv1.MutatingWebhookConfiguration)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		defaultWebhook(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, &w.ClientConfig, w.Rules)
		if w.ReinvocationPolicy == nil {
			p := admissionv1.NeverReinvocationPolicy
			w.ReinvocationPolicy = &p
		}
	}
}

func (mutatingWebhookStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*admissionv1.MutatingWebhookConfiguration).Generation = 1
}

func (mutatingWebhookStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	c, o := obj.(*admissionv1.MutatingWebhookConfiguration), old.(*admissionv1.MutatingWebhookConfiguration)
	if !apiequality.Semantic.DeepEqual(c.Webhooks, o.Webhooks) {
		c.Generation = o.Generation + 1
	}
}

func (mutatingWebhookStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateMutating(obj.(*admissionv1.MutatingWebhookConfiguration), strictOptions)
}

func (mutatingWebhookStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	o := old.(*admissionv1.MutatingWebhookConfiguration)
	hooks := make([]webhook, len(o.Webhooks))
	for i := range o.Webhooks {
		hooks[i] = mutatingHook(&o.Webhooks[i])
	}
	return validateMutating(obj.(*admissionv1.MutatingWebhookConfiguration), optionsFor(hooks))
}

func validateMutating(c *admissionv1.MutatingWebhookConfiguration, opts webhookOptions) field.ErrorList {
	hooks := make([]webhook, len(c.Webhooks))
	for i := range c.Webhooks {
		hooks[i] = mutatingHook(&c.Webhooks[i])
	}
	errs := validateWebhooks(hooks, opts)
	for i, w := range c.Webhooks {
		if p := w.ReinvocationPolicy; p != nil && *p != admissionv1.NeverReinvocationPolicy && *p != admissionv1.IfNeededReinvocationPolicy {
			errs = append(errs, field.NotSupported(field.NewPath("webhooks").Index(i).Child("reinvocationPolicy"), *p,
				[]admissionv1.ReinvocationPolicyType{admissionv1.NeverReinvocationPolicy, admissionv1.IfNeededReinvocationPolicy}))
		}
	}
	return errs
}

func mutatingHook(w *admissionv1.MutatingWebhook) webhook {
	return webhook{w.Name, &w.ClientConfig, w.Rules, w.FailurePolicy, w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector,
		w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions}
}

// ---- ValidatingWebhookConfiguration ----

type validatingWebhookStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = validatingWebhookStrategy{}

func (validatingWebhookStrategy) New() runtime.Object {
	return &admissionv1.ValidatingWebhookConfiguration{}
}
func (validatingWebhookStrategy) NewList() runtime.Object {
	return &admissionv1.ValidatingWebhookConfigurationList{}
}

func (validatingWebhookStrategy) Default(obj runtime.Object) {
	c := obj.(*admissionv1.ValidatingWebhookConfiguration)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		defaultWebhook(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, &w.ClientConfig, w.Rules)
	}
}

func (validatingWebhookStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*admissionv1.ValidatingWebhookConfiguration).Generation = 1
}

func (validatingWebhookStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	c, o := obj.(*admissionv1.ValidatingWebhookConfiguration), old.(*admissionv1.ValidatingWebhookConfiguration)
	if !apiequality.Semantic.DeepEqual(c.Webhooks, o.Webhooks) {
		c.Generation = o.Generation + 1
	}
}

func (validatingWebhookStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateWebhooks(validatingHooks(obj.(*admissionv1.ValidatingWebhookConfiguration)), strictOptions)
}

func (validatingWebhookStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	opts := optionsFor(validatingHooks(old.(*admissionv1.ValidatingWebhookConfiguration)))
	return validateWebhooks(validatingHooks(obj.(*admissionv1.ValidatingWebhookConfiguration)), opts)
}

func validatingHooks(c *admissionv1.ValidatingWebhookConfiguration) []webhook {
	hooks := make([]webhook, len(c.Webhooks))
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		hooks[i] = webhook{w.Name, &w.ClientConfig, w.Rules, w.FailurePolicy, w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector,
			w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions}
	}
	return hooks
}

// ---- what both webhook kinds share ----

// defaultWebhook applies the defaults the two webhook types share.
func defaultWebhook(failure **admissionv1.FailurePolicyType, match **admissionv1.MatchPolicyType, nsSel, objSel **metav1.LabelSelector,
	timeout **int32, cc *admissionv1.WebhookClientConfig, rules []admissionv1.RuleWithOperations) {
	if *failure == nil {
		p := admissionv1.Fail
		*failure = &p
	}
	if *match == nil {
		p := admissionv1.Equivalent
		*match = &p
	}
	if *nsSel == nil {
		*nsSel = &metav1.LabelSelector{}
	}
	if *objSel == nil {
		*objSel = &metav1.LabelSelector{}
	}
	if *timeout == nil {
		t := int32(10)
		*timeout = &t
	}
	if s := cc.Service; s != nil && s.Port == nil {
		port := int32(443)
		s.Port = &port
	}
	for i := range rules {
		defaultRule(&rules[i].Rule)
	}
}

func defaultRule(r *admissionv1.Rule) {
	if r.Scope == nil {
		s := admissionv1.AllScopes
		r.Scope = &s
	}
}

// webhook is the part of MutatingWebhook and ValidatingWebhook that the
// two share, so that one validation serves both.
type webhook struct {
	name                    string
	clientConfig            *admissionv1.WebhookClientConfig
	rules                   []admissionv1.RuleWithOperations
	failurePolicy           *admissionv1.FailurePolicyType
	matchPolicy             *admissionv1.MatchPolicyType
	namespaceSelector       *metav1.LabelSelector
	objectSelector          *metav1.LabelSelector
	sideEffects             *admissionv1.SideEffectClass
	timeoutSeconds          *int32
	admissionReviewVersions []string
	matchConditions         []admissionv1.MatchCondition
}

// webhookOptions ratchet: an update is held to a rule only if the stored
// object already met it, so objects stored under older rules stay
// updatable.
type webhookOptions struct {
	uniqueNames       bool
	recognizedVersion bool
}

var strictOptions = webhookOptions{uniqueNames: true, recognizedVersion: true}

func optionsFor(old []webhook) webhookOptions {
	opts := strictOptions
	names := sets.New[string]()
	for _, w := range old {
		if names.Has(w.name) {
			opts.uniqueNames = false
		}
		names.Insert(w.name)
		if !hasAcceptedReviewVersion(w.admissionReviewVersions) {
			opts.recognizedVersion = false
		}
	}
	return opts
}

// acceptedReviewVersions are the AdmissionReview versions skiff sends.
var acceptedReviewVersions = []string{"v1", "v1beta1"}

func hasAcceptedReviewVersion(versions []string) bool {
	for _, v := range versions {
		if slices.Contains(acceptedReviewVersions, v) {
			return true
		}
	}
	return false
}

var (
	failurePolicies = []admissionv1.FailurePolicyType{admissionv1.Ignore, admissionv1.Fail}
	matchPolicies   = []admissionv1.MatchPolicyType{admissionv1.Exact, admissionv1.Equivalent}
	sideEffects     = []admissionv1.SideEffectClass{admissionv1.SideEffectClassNone, admissionv1.SideEffectClassNoneOnDryRun}
)

func validateWebhooks(hooks []webhook, opts webhookOptions) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range hooks {
		w := &hooks[i]
		p := field.NewPath("webhooks").Index(i)
		if opts.uniqueNames && names.Has(w.name) {
			errs = append(errs, field.Duplicate(p.Child("name"), w.name))
		}
		names.Insert(w.name)
		errs = append(errs, validateWebhook(w, opts, p)...)
	}
	return errs
}

func validateWebhook(w *webhook, opts webhookOptions, p *field.Path) field.ErrorList {
	// The name is a domain of at least three segments, such as
	// pod-policy.example.com, so that vendors' names do not collide.
	errs := validation.IsFullyQualifiedName(p.Child("name"), w.name)
	for i := range w.rules {
		errs = append(errs, validateRuleWithOperations(&w.rules[i], p.Child("rules").Index(i))...)
	}
	if fp := w.failurePolicy; fp != nil && !slices.Contains(failurePolicies, *fp) {
		errs = append(errs, field.NotSupported(p.Child("failurePolicy"), *fp, failurePolicies))
	}
	if mp := w.matchPolicy; mp != nil && !slices.Contains(matchPolicies, *mp) {
		errs = append(errs, field.NotSupported(p.Child("matchPolicy"), *mp, matchPolicies))
	}
	switch se := w.sideEffects; {
	case se == nil:
		errs = append(errs, field.Required(p.Child("sideEffects"), fmt.Sprintf("must specify one of %v", sideEffects)))
	case !slices.Contains(sideEffects, *se):
		errs = append(errs, field.NotSupported(p.Child("sideEffects"), *se, sideEffects))
	}
	if t := w.timeoutSeconds; t != nil && (*t < 1 || *t > 30) {
		errs = append(errs, field.Invalid(p.Child("timeoutSeconds"), *t, "the timeout value must be between 1 and 30 seconds"))
	}
	selOpts := metav1validation.LabelSelectorValidationOptions{}
	if w.namespaceSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(w.namespaceSelector, selOpts, p.Child("namespaceSelector"))...)
	}
	if w.objectSelector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(w.objectSelector, selOpts, p.Child("objectSelector"))...)
	}
	errs = append(errs, validateReviewVersions(w.admissionReviewVersions, opts.recognizedVersion, p.Child("admissionReviewVersions"))...)
	errs = append(errs, validateClientConfig(w.clientConfig, p.Child("clientConfig"))...)
	errs = append(errs, validateMatchConditions(w.matchConditions, p.Child("matchConditions"))...)
	return errs
}

func validateReviewVersions(versions []string, requireRecognized bool, p *field.Path) field.ErrorList {
	if len(versions) == 0 {
		return field.ErrorList{field.Required(p, fmt.Sprintf("must specify one of %s", strings.Join(acceptedReviewVersions, ", ")))}
	}
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, v := range versions {
		if seen.Has(v) {
			errs = append(errs, field.Invalid(p.Index(i), v, "duplicate version"))
		}
		seen.Insert(v)
		for _, msg := range validation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(p.Index(i), v, msg))
		}
	}
	if requireRecognized && !hasAcceptedReviewVersion(versions) {
		errs = append(errs, field.Invalid(p, versions, fmt.Sprintf("must include at least one of %s", strings.Join(acceptedReviewVersions, ", "))))
	}
	return errs
}

// validateClientConfig: exactly one of an https URL and a service.
func validateClientConfig(cc *admissionv1.WebhookClientConfig, p *field.Path) field.ErrorList {
	switch {
	case (cc.URL == nil) == (cc.Service == nil):
		return field.ErrorList{field.Required(p, "exactly one of url or service is required")}
	case cc.URL != nil:
		return validateWebhookURL(*cc.URL, p.Child("url"))
	}
	s := cc.Service
	sp := p.Child("service")
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(sp.Child("name"), "service name is required"))
	}
	if s.Namespace == "" {
		errs = append(errs, field.Required(sp.Child("namespace"), "service namespace is required"))
	}
	if s.Port != nil {
		for _, msg := range validation.IsValidPortNum(int(*s.Port)) {
			errs = append(errs, field.Invalid(sp.Child("port"), *s.Port, "port is not valid: "+msg))
		}
	}
	if s.Path != nil {
		errs = append(errs, validateServicePath(*s.Path, sp.Child("path"))...)
	}
	return errs
}

func validateWebhookURL(s string, p *field.Path) field.ErrorList {
	u, err := url.Parse(s)
	if err != nil {
		return field.ErrorList{field.Invalid(p, s, "must be a valid URL: "+err.Error())}
	}
	var errs field.ErrorList
	if u.Scheme != "https" {
		errs = append(errs, field.Invalid(p, u.Scheme, "'https' is the only allowed URL scheme"))
	}
	if u.Host == "" {
		errs = append(errs, field.Invalid(p, u.Host, "host must be specified"))
	}
	if u.User != nil {
		errs = append(errs, field.Invalid(p, u.User.String(), "user information is not permitted in the URL"))
	}
	if u.Fragment != "" {
		errs = append(errs, field.Invalid(p, u.Fragment, "fragments are not permitted in the URL"))
	}
	if u.RawQuery != "" {
		errs = append(errs, field.Invalid(p, u.RawQuery, "query parameters are not permitted in the URL"))
	}
	return errs
}

// validateServicePath: an absolute path whose segments are DNS
// subdomains.
func validateServicePath(s string, p *field.Path) field.ErrorList {
	if s == "" || s == "/" {
		return nil
	}
	if s == "//" {
		return field.ErrorList{field.Invalid(p, s, "segment[0] may not be empty")}
	}
	if !strings.HasPrefix(s, "/") {
		return field.ErrorList{field.Invalid(p, s, "must start with a '/'")}
	}
	var errs field.ErrorList
	for i, seg := range strings.Split(strings.TrimSuffix(s[1:], "/"), "/") {
		if seg == "" {
			errs = append(errs, field.Invalid(p, s, fmt.Sprintf("segment[%d] may not be empty", i)))
			continue
		}
		if msgs := validation.IsDNS1123Subdomain(seg); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p, s, fmt.Sprintf("segment[%d]: %v", i, strings.Join(msgs, ", "))))
		}
	}
	return errs
}

var (
	operations = []admissionv1.OperationType{admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect, admissionv1.OperationAll}
	scopes     = []admissionv1.ScopeType{admissionv1.AllScopes, admissionv1.ClusterScope, admissionv1.NamespacedScope}
)

func validateRuleWithOperations(r *admissionv1.RuleWithOperations, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	op := p.Child("operations")
	if len(r.Operations) == 0 {
		errs = append(errs, field.Required(op, ""))
	}
	if len(r.Operations) > 1 && slices.Contains(r.Operations, admissionv1.OperationAll) {
		errs = append(errs, field.Invalid(op, r.Operations, "if '*' is present, must not specify other operations"))
	}
	for i, o := range r.Operations {
		if !slices.Contains(operations, o) {
			errs = append(errs, field.NotSupported(op.Index(i), o, operations))
		}
	}
	return append(errs, validateRule(&r.Rule, p)...)
}

func validateRule(r *admissionv1.Rule, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(r.APIGroups) == 0 {
		errs = append(errs, field.Required(p.Child("apiGroups"), ""))
	}
	if len(r.APIGroups) > 1 && slices.Contains(r.APIGroups, "*") {
		errs = append(errs, field.Invalid(p.Child("apiGroups"), r.APIGroups, "if '*' is present, must not specify other API groups"))
	}
	// An empty group is the core group, so only versions must be named.
	if len(r.APIVersions) == 0 {
		errs = append(errs, field.Required(p.Child("apiVersions"), ""))
	}
	if len(r.APIVersions) > 1 && slices.Contains(r.APIVersions, "*") {
		errs = append(errs, field.Invalid(p.Child("apiVersions"), r.APIVersions, "if '*' is present, must not specify other API versions"))
	}
	for i, v := range r.APIVersions {
		if v == "" {
			errs = append(errs, field.Required(p.Child("apiVersions").Index(i), ""))
		}
	}
	errs = append(errs, validateRuleResources(r.Resources, p.Child("resources"))...)
	if s := r.Scope; s != nil && !slices.Contains(scopes, *s) {
		errs = append(errs, field.NotSupported(p.Child("scope"), *s, scopes))
	}
	return errs
}

// validateRuleResources: resources, resource/subresource pairs and
// wildcards, none of them made redundant by another.
func validateRuleResources(resources []string, p *field.Path) field.ErrorList {
	if len(resources) == 0 {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	wildcardSub := sets.New[string]() // res of "res/*"
	wildcardRes := sets.New[string]() // sub of "*/sub"
	doubleWildcard, singleWildcard, plainResource := false, false, false
	for i, rs := range resources {
		if rs == "" {
			errs = append(errs, field.Required(p.Index(i), ""))
			continue
		}
		if rs == "*/*" {
			doubleWildcard = true
		}
		if rs == "*" {
			singleWildcard = true
		}
		res, sub, ok := strings.Cut(rs, "/")
		if !ok {
			if rs != "*" {
				plainResource = true
			}
			continue
		}
		if wildcardSub.Has(res) {
			errs = append(errs, field.Invalid(p.Index(i), rs, fmt.Sprintf("if '%s/*' is present, must not specify %s", res, rs)))
		}
		if wildcardRes.Has(sub) {
			errs = append(errs, field.Invalid(p.Index(i), rs, fmt.Sprintf("if '*/%s' is present, must not specify %s", sub, rs)))
		}
		if sub == "*" {
			wildcardSub.Insert(res)
		}
		if res == "*" {
			wildcardRes.Insert(sub)
		}
	}
	if len(resources) > 1 && doubleWildcard {
		errs = append(errs, field.Invalid(p, resources, "if '*/*' is present, must not specify other resources"))
	}
	if singleWildcard && plainResource {
		errs = append(errs, field.Invalid(p, resources, "if '*' is present, must not specify other resources without subresources"))
	}
	return errs
}

// validateMatchConditions: named, uniquely, with an expression. Whether
// the expression compiles is not checked.
func validateMatchConditions(conds []admissionv1.MatchCondition, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(conds) > 64 {
		errs = append(errs, field.TooMany(p, len(conds), 64))
	}
	names := sets.New[string]()
	for i, c := range conds {
		cp := p.Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(cp.Child("name"), ""))
		case names.Has(c.Name):
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		default:
			for _, msg := range validation.IsQualifiedName(c.Name) {
				errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
			}
		}
		names.Insert(c.Name)
		if strings.TrimSpace(c.Expression) == "" {
			errs = append(errs, field.Required(cp.Child("expression"), ""))
		}
	}
	return errs
}
