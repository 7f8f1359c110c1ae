package admissionregistration_test

import (
	"context"
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/admissionregistration"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func resource(t *testing.T, kind string) *registry.Resource {
	return Resource(t, admissionregistration.Resources(), kind)
}

func TestResources(t *testing.T) {
	tests := []struct {
		kind, resource string
		status         bool
		obj            runtime.Object
	}{
		{"MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false, &admissionv1.MutatingWebhookConfiguration{}},
		{"ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false, &admissionv1.ValidatingWebhookConfiguration{}},
		{"ValidatingAdmissionPolicy", "validatingadmissionpolicies", true, &admissionv1.ValidatingAdmissionPolicy{}},
		{"ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false, &admissionv1.ValidatingAdmissionPolicyBinding{}},
	}
	if n := len(admissionregistration.Resources()); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
	for _, tt := range tests {
		r := resource(t, tt.kind)
		if r.GVR != admissionv1.SchemeGroupVersion.WithResource(tt.resource) || r.ListKind != tt.kind+"List" || r.Namespaced ||
			r.HasSubresource("status") != tt.status || len(r.Categories) != 1 || r.Categories[0] != "api-extensions" {
			t.Errorf("%s: resource = %+v", tt.kind, r)
		}
		if got, want := fmt.Sprintf("%T", r.Strategy.New()), fmt.Sprintf("%T", tt.obj); got != want {
			t.Errorf("%s: New() = %s", tt.kind, got)
		}
		if got, want := fmt.Sprintf("%T", r.Strategy.NewList()), fmt.Sprintf("%T", tt.obj)+"List"; got != want {
			t.Errorf("%s: NewList() = %s", tt.kind, got)
		}
	}
}

func rule() admissionv1.RuleWithOperations {
	return admissionv1.RuleWithOperations{
		Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
		Rule:       admissionv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
	}
}

func newMutating() *admissionv1.MutatingWebhookConfiguration {
	return &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "sidecar-injector"},
		Webhooks: []admissionv1.MutatingWebhook{{
			Name:                    "sidecar.injector.example.com",
			ClientConfig:            admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "injector", Name: "webhook", Path: ptr("/mutate")}},
			Rules:                   []admissionv1.RuleWithOperations{rule()},
			SideEffects:             ptr(admissionv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
}

func newValidating() *admissionv1.ValidatingWebhookConfiguration {
	return &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "policy"},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:                    "validate.policy.example.com",
			ClientConfig:            admissionv1.WebhookClientConfig{URL: ptr("https://policy.example.com:8443/validate")},
			Rules:                   []admissionv1.RuleWithOperations{rule()},
			SideEffects:             ptr(admissionv1.SideEffectClassNoneOnDryRun),
			AdmissionReviewVersions: []string{"v1", "v1beta1"},
		}},
	}
}

func TestWebhookDefaults(t *testing.T) {
	m := newMutating()
	resource(t, "MutatingWebhookConfiguration").Strategy.Default(m)
	w := m.Webhooks[0]
	if *w.FailurePolicy != admissionv1.Fail || *w.MatchPolicy != admissionv1.Equivalent || *w.TimeoutSeconds != 10 ||
		*w.ReinvocationPolicy != admissionv1.NeverReinvocationPolicy || *w.ClientConfig.Service.Port != 443 ||
		*w.Rules[0].Scope != admissionv1.AllScopes {
		t.Errorf("mutating webhook defaults: %+v", w)
	}
	if !apiequality.Semantic.DeepEqual(w.NamespaceSelector, &metav1.LabelSelector{}) || !apiequality.Semantic.DeepEqual(w.ObjectSelector, &metav1.LabelSelector{}) {
		t.Errorf("selectors = %v, %v; want {}", w.NamespaceSelector, w.ObjectSelector)
	}

	v := newValidating()
	resource(t, "ValidatingWebhookConfiguration").Strategy.Default(v)
	vw := v.Webhooks[0]
	if *vw.FailurePolicy != admissionv1.Fail || *vw.MatchPolicy != admissionv1.Equivalent || *vw.TimeoutSeconds != 10 ||
		vw.NamespaceSelector == nil || vw.ObjectSelector == nil || *vw.Rules[0].Scope != admissionv1.AllScopes {
		t.Errorf("validating webhook defaults: %+v", vw)
	}
	// sideEffects and admissionReviewVersions have no default in v1.
	v = newValidating()
	v.Webhooks[0].SideEffects, v.Webhooks[0].AdmissionReviewVersions = nil, nil
	resource(t, "ValidatingWebhookConfiguration").Strategy.Default(v)
	if v.Webhooks[0].SideEffects != nil || v.Webhooks[0].AdmissionReviewVersions != nil {
		t.Errorf("defaulted sideEffects or admissionReviewVersions: %+v", v.Webhooks[0])
	}

	// Set values stay.
	m = newMutating()
	w0 := &m.Webhooks[0]
	w0.FailurePolicy, w0.MatchPolicy, w0.TimeoutSeconds = ptr(admissionv1.Ignore), ptr(admissionv1.Exact), ptr(int32(5))
	w0.ReinvocationPolicy, w0.ClientConfig.Service.Port = ptr(admissionv1.IfNeededReinvocationPolicy), ptr(int32(8443))
	w0.Rules[0].Scope = ptr(admissionv1.NamespacedScope)
	resource(t, "MutatingWebhookConfiguration").Strategy.Default(m)
	if *w0.FailurePolicy != admissionv1.Ignore || *w0.MatchPolicy != admissionv1.Exact || *w0.TimeoutSeconds != 5 ||
		*w0.ReinvocationPolicy != admissionv1.IfNeededReinvocationPolicy || *w0.ClientConfig.Service.Port != 8443 || *w0.Rules[0].Scope != admissionv1.NamespacedScope {
		t.Errorf("defaults overwrote set values: %+v", *w0)
	}
}

// TestWebhookValidate runs every case against both webhook kinds, whose
// webhooks share these rules.
func TestWebhookValidate(t *testing.T) {
	type hook = admissionv1.ValidatingWebhook
	tests := []struct {
		name   string
		modify func(*hook)
		want   []FieldErr
	}{
		{"valid", func(*hook) {}, nil},
		{"service", func(w *hook) {
			w.ClientConfig = admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "ns", Name: "svc", Path: ptr("/a/b.c/")}}
		}, nil},
		{"name required", func(w *hook) { w.Name = "" }, []FieldErr{Required("webhooks[0].name")}},
		{"name not qualified", func(w *hook) { w.Name = "policy.example" }, []FieldErr{Invalid("webhooks[0].name")}},
		{"name invalid", func(w *hook) { w.Name = "Policy.Example.com" }, []FieldErr{Invalid("webhooks[0].name")}},
		{"no client config", func(w *hook) { w.ClientConfig = admissionv1.WebhookClientConfig{} }, []FieldErr{Required("webhooks[0].clientConfig")}},
		{"url and service", func(w *hook) { w.ClientConfig.Service = &admissionv1.ServiceReference{Namespace: "ns", Name: "svc"} },
			[]FieldErr{Required("webhooks[0].clientConfig")}},
		{"url http", func(w *hook) { w.ClientConfig.URL = ptr("http://policy.example.com/validate") }, []FieldErr{Invalid("webhooks[0].clientConfig.url")}},
		{"url no host", func(w *hook) { w.ClientConfig.URL = ptr("https:///validate") }, []FieldErr{Invalid("webhooks[0].clientConfig.url")}},
		{"url user", func(w *hook) { w.ClientConfig.URL = ptr("https://me@policy.example.com/") }, []FieldErr{Invalid("webhooks[0].clientConfig.url")}},
		{"url query and fragment", func(w *hook) { w.ClientConfig.URL = ptr("https://policy.example.com/?a=b#c") },
			[]FieldErr{Invalid("webhooks[0].clientConfig.url"), Invalid("webhooks[0].clientConfig.url")}},
		{"url unparsable", func(w *hook) { w.ClientConfig.URL = ptr("https://[::1") }, []FieldErr{Invalid("webhooks[0].clientConfig.url")}},
		{"service fields", func(w *hook) {
			w.ClientConfig = admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Port: ptr(int32(0))}}
		}, []FieldErr{Required("webhooks[0].clientConfig.service.name"), Required("webhooks[0].clientConfig.service.namespace"),
			Invalid("webhooks[0].clientConfig.service.port")}},
		{"service path relative", func(w *hook) {
			w.ClientConfig = admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "ns", Name: "svc", Path: ptr("validate")}}
		}, []FieldErr{Invalid("webhooks[0].clientConfig.service.path")}},
		{"service path segments", func(w *hook) {
			w.ClientConfig = admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "ns", Name: "svc", Path: ptr("/a//B_c")}}
		}, []FieldErr{Invalid("webhooks[0].clientConfig.service.path"), Invalid("webhooks[0].clientConfig.service.path")}},
		{"admissionReviewVersions required", func(w *hook) { w.AdmissionReviewVersions = nil },
			[]FieldErr{Required("webhooks[0].admissionReviewVersions")}},
		{"admissionReviewVersions unknown", func(w *hook) { w.AdmissionReviewVersions = []string{"v2"} },
			[]FieldErr{Invalid("webhooks[0].admissionReviewVersions")}},
		{"admissionReviewVersions duplicate and invalid", func(w *hook) { w.AdmissionReviewVersions = []string{"v1", "v1", "V1"} },
			[]FieldErr{Invalid("webhooks[0].admissionReviewVersions[1]"), Invalid("webhooks[0].admissionReviewVersions[2]")}},
		{"sideEffects required", func(w *hook) { w.SideEffects = nil }, []FieldErr{Required("webhooks[0].sideEffects")}},
		{"sideEffects v1beta1 values", func(w *hook) { w.SideEffects = ptr(admissionv1.SideEffectClassUnknown) },
			[]FieldErr{NotSupported("webhooks[0].sideEffects")}},
		{"failurePolicy", func(w *hook) { w.FailurePolicy = ptr(admissionv1.FailurePolicyType("Retry")) },
			[]FieldErr{NotSupported("webhooks[0].failurePolicy")}},
		{"matchPolicy", func(w *hook) { w.MatchPolicy = ptr(admissionv1.MatchPolicyType("Fuzzy")) },
			[]FieldErr{NotSupported("webhooks[0].matchPolicy")}},
		{"timeout low", func(w *hook) { w.TimeoutSeconds = ptr(int32(0)) }, []FieldErr{Invalid("webhooks[0].timeoutSeconds")}},
		{"timeout high", func(w *hook) { w.TimeoutSeconds = ptr(int32(31)) }, []FieldErr{Invalid("webhooks[0].timeoutSeconds")}},
		{"namespaceSelector", func(w *hook) {
			w.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "Equals"}}}
		}, []FieldErr{Invalid("webhooks[0].namespaceSelector.matchExpressions[0].operator")}},
		{"objectSelector", func(w *hook) { w.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"a b": "c"}} },
			[]FieldErr{Invalid("webhooks[0].objectSelector.matchLabels")}},
		{"operations required", func(w *hook) { w.Rules[0].Operations = nil }, []FieldErr{Required("webhooks[0].rules[0].operations")}},
		{"operations enum", func(w *hook) { w.Rules[0].Operations = []admissionv1.OperationType{"PATCH"} },
			[]FieldErr{NotSupported("webhooks[0].rules[0].operations[0]")}},
		{"operations wildcard", func(w *hook) { w.Rules[0].Operations = append(w.Rules[0].Operations, admissionv1.OperationAll) },
			[]FieldErr{Invalid("webhooks[0].rules[0].operations")}},
		{"apiGroups and versions required", func(w *hook) { w.Rules[0].APIGroups, w.Rules[0].APIVersions = nil, nil },
			[]FieldErr{Required("webhooks[0].rules[0].apiGroups"), Required("webhooks[0].rules[0].apiVersions")}},
		{"core group", func(w *hook) {
			w.Rules[0].APIGroups, w.Rules[0].Resources = []string{""}, []string{"pods", "pods/exec"}
		}, nil},
		{"apiGroups and versions wildcard", func(w *hook) {
			w.Rules[0].APIGroups, w.Rules[0].APIVersions = []string{"*", "apps"}, []string{"v1", "*"}
		}, []FieldErr{Invalid("webhooks[0].rules[0].apiGroups"), Invalid("webhooks[0].rules[0].apiVersions")}},
		{"empty version", func(w *hook) { w.Rules[0].APIVersions = []string{""} }, []FieldErr{Required("webhooks[0].rules[0].apiVersions[0]")}},
		{"resources required", func(w *hook) { w.Rules[0].Resources = nil }, []FieldErr{Required("webhooks[0].rules[0].resources")}},
		{"resources empty", func(w *hook) { w.Rules[0].Resources = []string{""} }, []FieldErr{Required("webhooks[0].rules[0].resources[0]")}},
		{"resources double wildcard", func(w *hook) { w.Rules[0].Resources = []string{"*/*", "pods"} },
			[]FieldErr{Invalid("webhooks[0].rules[0].resources")}},
		{"resources wildcard and plain", func(w *hook) { w.Rules[0].Resources = []string{"*", "pods"} },
			[]FieldErr{Invalid("webhooks[0].rules[0].resources")}},
		{"resources subresource wildcard", func(w *hook) { w.Rules[0].Resources = []string{"pods/*", "pods/log"} },
			[]FieldErr{Invalid("webhooks[0].rules[0].resources[1]")}},
		{"resources resource wildcard", func(w *hook) { w.Rules[0].Resources = []string{"*/status", "pods/status"} },
			[]FieldErr{Invalid("webhooks[0].rules[0].resources[1]")}},
		{"scope", func(w *hook) { w.Rules[0].Scope = ptr(admissionv1.ScopeType("Global")) }, []FieldErr{NotSupported("webhooks[0].rules[0].scope")}},
		{"matchConditions", func(w *hook) {
			w.MatchConditions = []admissionv1.MatchCondition{{Name: "exclude-leases", Expression: "true"}, {Name: "exclude-leases"}, {Name: "a b", Expression: "x"}}
		}, []FieldErr{Duplicate("webhooks[0].matchConditions[1].name"), Required("webhooks[0].matchConditions[1].expression"),
			Invalid("webhooks[0].matchConditions[2].name")}},
	}
	vs, ms := resource(t, "ValidatingWebhookConfiguration").Strategy, resource(t, "MutatingWebhookConfiguration").Strategy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidating()
			tt.modify(&v.Webhooks[0])
			vs.Default(v)
			CheckErrors(t, vs.Validate(ctx, v), tt.want...)
			CheckErrors(t, vs.ValidateUpdate(ctx, v, newValidating()), tt.want...)

			w := &v.Webhooks[0]
			m := &admissionv1.MutatingWebhookConfiguration{ObjectMeta: v.ObjectMeta, Webhooks: []admissionv1.MutatingWebhook{{
				Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules, FailurePolicy: w.FailurePolicy, MatchPolicy: w.MatchPolicy,
				NamespaceSelector: w.NamespaceSelector, ObjectSelector: w.ObjectSelector, SideEffects: w.SideEffects,
				TimeoutSeconds: w.TimeoutSeconds, AdmissionReviewVersions: w.AdmissionReviewVersions, MatchConditions: w.MatchConditions,
			}}}
			ms.Default(m)
			CheckErrors(t, ms.Validate(ctx, m), tt.want...)
		})
	}
}

func TestMutatingReinvocationPolicy(t *testing.T) {
	s := resource(t, "MutatingWebhookConfiguration").Strategy
	m := newMutating()
	m.Webhooks[0].ReinvocationPolicy = ptr(admissionv1.ReinvocationPolicyType("Always"))
	s.Default(m)
	CheckErrors(t, s.Validate(ctx, m), NotSupported("webhooks[0].reinvocationPolicy"))
}

func TestWebhookNamesUnique(t *testing.T) {
	s := resource(t, "ValidatingWebhookConfiguration").Strategy
	v := newValidating()
	v.Webhooks = append(v.Webhooks, v.Webhooks[0])
	s.Default(v)
	CheckErrors(t, s.Validate(ctx, v), Duplicate("webhooks[1].name"))
	// Stored before names had to be unique: updates stay possible.
	CheckErrors(t, s.ValidateUpdate(ctx, v, v.DeepCopy()))
	CheckErrors(t, s.ValidateUpdate(ctx, v, newValidating()), Duplicate("webhooks[1].name"))

	// The same ratchet holds for an unrecognized review version.
	v = newValidating()
	v.Webhooks[0].AdmissionReviewVersions = []string{"v2"}
	CheckErrors(t, s.ValidateUpdate(ctx, v, v.DeepCopy()))
}

func TestWebhookGeneration(t *testing.T) {
	s := resource(t, "MutatingWebhookConfiguration").Strategy
	m := newMutating()
	s.PrepareForCreate(ctx, m)
	if m.Generation != 1 {
		t.Fatalf("generation = %d, want 1", m.Generation)
	}
	same := m.DeepCopy()
	same.Labels = map[string]string{"a": "b"}
	s.PrepareForUpdate(ctx, same, m, "")
	if same.Generation != 1 {
		t.Errorf("metadata change bumped generation to %d", same.Generation)
	}
	changed := m.DeepCopy()
	changed.Webhooks[0].TimeoutSeconds = ptr(int32(5))
	s.PrepareForUpdate(ctx, changed, m, "")
	if changed.Generation != 2 {
		t.Errorf("webhook change: generation = %d, want 2", changed.Generation)
	}

	vs := resource(t, "ValidatingWebhookConfiguration").Strategy
	v := newValidating()
	vs.PrepareForCreate(ctx, v)
	vc := v.DeepCopy()
	vc.Webhooks = nil
	vs.PrepareForUpdate(ctx, vc, v, "")
	if v.Generation != 1 || vc.Generation != 2 {
		t.Errorf("validating generations = %d, %d; want 1, 2", v.Generation, vc.Generation)
	}
}
