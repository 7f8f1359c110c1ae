package admissionregistration_test

import (
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	. "skiff.dev/skiff/internal/registry/registrytest"
)

func namedRule() admissionv1.NamedRuleWithOperations {
	return admissionv1.NamedRuleWithOperations{RuleWithOperations: rule()}
}

func newPolicy() *admissionv1.ValidatingAdmissionPolicy {
	return &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "replica-limit"},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{namedRule()}},
			Validations:      []admissionv1.Validation{{Expression: "object.spec.replicas <= 5", Message: "at most 5 replicas"}},
		},
	}
}

func TestPolicyDefaults(t *testing.T) {
	s := resource(t, "ValidatingAdmissionPolicy").Strategy
	p := newPolicy()
	p.Spec.MatchConstraints.ExcludeResourceRules = []admissionv1.NamedRuleWithOperations{namedRule()}
	s.Default(p)
	m := p.Spec.MatchConstraints
	if *p.Spec.FailurePolicy != admissionv1.Fail || *m.MatchPolicy != admissionv1.Equivalent ||
		!apiequality.Semantic.DeepEqual(m.NamespaceSelector, &metav1.LabelSelector{}) || !apiequality.Semantic.DeepEqual(m.ObjectSelector, &metav1.LabelSelector{}) ||
		*m.ResourceRules[0].Scope != admissionv1.AllScopes || *m.ExcludeResourceRules[0].Scope != admissionv1.AllScopes {
		t.Errorf("policy defaults: %+v %+v", p.Spec, m)
	}
	p = newPolicy()
	p.Spec.FailurePolicy = ptr(admissionv1.Ignore)
	p.Spec.MatchConstraints.MatchPolicy = ptr(admissionv1.Exact)
	s.Default(p)
	if *p.Spec.FailurePolicy != admissionv1.Ignore || *p.Spec.MatchConstraints.MatchPolicy != admissionv1.Exact {
		t.Errorf("defaults overwrote set values: %+v", p.Spec)
	}

	bs := resource(t, "ValidatingAdmissionPolicyBinding").Strategy
	b := newBinding()
	bs.Default(b)
	if b.Spec.MatchResources != nil {
		t.Errorf("matchResources defaulted into existence")
	}
	b.Spec.MatchResources = &admissionv1.MatchResources{}
	bs.Default(b)
	if mr := b.Spec.MatchResources; *mr.MatchPolicy != admissionv1.Equivalent || mr.NamespaceSelector == nil || mr.ObjectSelector == nil {
		t.Errorf("binding matchResources defaults: %+v", mr)
	}
}

func TestPolicyValidate(t *testing.T) {
	type spec = admissionv1.ValidatingAdmissionPolicySpec
	tests := []struct {
		name   string
		modify func(*spec)
		want   []FieldErr
	}{
		{"valid", func(*spec) {}, nil},
		{"params, variables, audit annotations", func(s *spec) {
			s.ParamKind = &admissionv1.ParamKind{APIVersion: "rules.example.com/v1", Kind: "ReplicaLimit"}
			s.Variables = []admissionv1.Variable{{Name: "replicas", Expression: "object.spec.replicas"}}
			s.AuditAnnotations = []admissionv1.AuditAnnotation{{Key: "high-replica-count", ValueExpression: "'high'"}}
			s.Validations[0].Reason = ptr(metav1.StatusReasonForbidden)
			s.Validations[0].MessageExpression = "'too many: ' + string(object.spec.replicas)"
		}, nil},
		{"audit annotations only", func(s *spec) {
			s.Validations = nil
			s.AuditAnnotations = []admissionv1.AuditAnnotation{{Key: "k", ValueExpression: "'v'"}}
		}, nil},
		{"failurePolicy", func(s *spec) { s.FailurePolicy = ptr(admissionv1.FailurePolicyType("Warn")) }, []FieldErr{NotSupported("spec.failurePolicy")}},
		{"matchConstraints required", func(s *spec) { s.MatchConstraints = nil }, []FieldErr{Required("spec.matchConstraints")}},
		{"resourceRules required", func(s *spec) { s.MatchConstraints.ResourceRules = nil }, []FieldErr{Required("spec.matchConstraints.resourceRules")}},
		{"rule checked", func(s *spec) { s.MatchConstraints.ResourceRules[0].Operations = nil },
			[]FieldErr{Required("spec.matchConstraints.resourceRules[0].operations")}},
		{"resourceNames", func(s *spec) {
			s.MatchConstraints.ExcludeResourceRules = []admissionv1.NamedRuleWithOperations{namedRule()}
			s.MatchConstraints.ExcludeResourceRules[0].ResourceNames = []string{"web", "web", "a/b"}
		}, []FieldErr{Duplicate("spec.matchConstraints.excludeResourceRules[0].resourceNames[1]"),
			Invalid("spec.matchConstraints.excludeResourceRules[0].resourceNames[2]")}},
		{"matchPolicy", func(s *spec) { s.MatchConstraints.MatchPolicy = ptr(admissionv1.MatchPolicyType("Loose")) },
			[]FieldErr{NotSupported("spec.matchConstraints.matchPolicy")}},
		{"namespaceSelector", func(s *spec) {
			s.MatchConstraints.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"env": "a b"}}
		},
			[]FieldErr{Invalid("spec.matchConstraints.namespaceSelector.matchLabels")}},
		{"validations required", func(s *spec) { s.Validations = nil }, []FieldErr{Required("spec.validations")}},
		{"expression required", func(s *spec) { s.Validations[0].Expression = "  " }, []FieldErr{Required("spec.validations[0].expression")}},
		{"message blank", func(s *spec) { s.Validations[0].Message = " " }, []FieldErr{Invalid("spec.validations[0].message")}},
		{"message line break", func(s *spec) { s.Validations[0].Message = "too\nmany" }, []FieldErr{Invalid("spec.validations[0].message")}},
		{"messageExpression blank", func(s *spec) { s.Validations[0].MessageExpression = " " }, []FieldErr{Invalid("spec.validations[0].messageExpression")}},
		{"reason", func(s *spec) { s.Validations[0].Reason = ptr(metav1.StatusReasonNotFound) }, []FieldErr{NotSupported("spec.validations[0].reason")}},
		{"paramKind", func(s *spec) { s.ParamKind = &admissionv1.ParamKind{} },
			[]FieldErr{Required("spec.paramKind.apiVersion"), Required("spec.paramKind.kind")}},
		{"paramKind invalid", func(s *spec) { s.ParamKind = &admissionv1.ParamKind{APIVersion: "a/b/c", Kind: "Replica_Limit"} },
			[]FieldErr{Invalid("spec.paramKind.apiVersion"), Invalid("spec.paramKind.kind")}},
		{"paramKind version", func(s *spec) { s.ParamKind = &admissionv1.ParamKind{APIVersion: "rules.example.com/V1", Kind: "Limit"} },
			[]FieldErr{Invalid("spec.paramKind.apiVersion")}},
		{"audit annotations", func(s *spec) {
			s.AuditAnnotations = []admissionv1.AuditAnnotation{{Key: "k", ValueExpression: "'v'"}, {Key: "k"}, {Key: "a b", ValueExpression: "'v'"}}
		}, []FieldErr{Duplicate("spec.auditAnnotations[1].key"), Required("spec.auditAnnotations[1].valueExpression"),
			Invalid("spec.auditAnnotations[2].key")}},
		{"too many audit annotations", func(s *spec) {
			for i := range 21 {
				s.AuditAnnotations = append(s.AuditAnnotations, admissionv1.AuditAnnotation{Key: "k" + strings.Repeat("x", i), ValueExpression: "'v'"})
			}
		}, []FieldErr{Invalid("spec.auditAnnotations")}},
		{"variables", func(s *spec) {
			s.Variables = []admissionv1.Variable{{Name: "x", Expression: "1"}, {Name: "x", Expression: "2"}, {Name: "in", Expression: "3"}, {Name: "1a"}, {}}
		}, []FieldErr{Duplicate("spec.variables[1].name"), Invalid("spec.variables[2].name"), Invalid("spec.variables[3].name"),
			Required("spec.variables[3].expression"), Required("spec.variables[4].name"), Required("spec.variables[4].expression")}},
		{"matchConditions", func(s *spec) { s.MatchConditions = []admissionv1.MatchCondition{{Name: "no-expression"}} },
			[]FieldErr{Required("spec.matchConditions[0].expression")}},
	}
	s := resource(t, "ValidatingAdmissionPolicy").Strategy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy()
			tt.modify(&p.Spec)
			s.Default(p)
			CheckErrors(t, s.Validate(ctx, p), tt.want...)
			CheckErrors(t, s.ValidateUpdate(ctx, p, newPolicy()), tt.want...)
		})
	}
	// Without defaulting, the policy and selectors are missing.
	p := newPolicy()
	CheckErrors(t, s.Validate(ctx, p), Required("spec.failurePolicy"), Required("spec.matchConstraints.matchPolicy"),
		Required("spec.matchConstraints.namespaceSelector"), Required("spec.matchConstraints.objectSelector"))
	// Audit annotation keys are prefixed with the policy's name.
	p = newPolicy()
	p.Name = ""
	p.Spec.AuditAnnotations = []admissionv1.AuditAnnotation{{Key: "k", ValueExpression: "'v'"}}
	s.Default(p)
	CheckErrors(t, s.Validate(ctx, p), Invalid("spec.auditAnnotations[0].key"))
}

func TestPolicyPrepare(t *testing.T) {
	s := resource(t, "ValidatingAdmissionPolicy").Strategy
	p := newPolicy()
	p.Status.ObservedGeneration = 7
	s.PrepareForCreate(ctx, p)
	if p.Generation != 1 || p.Status.ObservedGeneration != 0 {
		t.Fatalf("create: generation %d, status %+v", p.Generation, p.Status)
	}
	upd := p.DeepCopy()
	upd.Spec.Validations[0].Expression = "object.spec.replicas <= 3"
	upd.Status.ObservedGeneration = 1
	s.PrepareForUpdate(ctx, upd, p, "")
	if upd.Generation != 2 || upd.Status.ObservedGeneration != 0 {
		t.Errorf("main update: generation %d, status %+v", upd.Generation, upd.Status)
	}
	upd = p.DeepCopy()
	upd.Spec.Validations = nil
	upd.Status.ObservedGeneration = 1
	s.PrepareForUpdate(ctx, upd, p, "status")
	if upd.Generation != 1 || len(upd.Spec.Validations) != 1 || upd.Status.ObservedGeneration != 1 {
		t.Errorf("status update: generation %d, spec %+v, status %+v", upd.Generation, upd.Spec, upd.Status)
	}
}

func newBinding() *admissionv1.ValidatingAdmissionPolicyBinding {
	return &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "replica-limit-prod"},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        "replica-limit",
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
}

func TestBindingValidate(t *testing.T) {
	type spec = admissionv1.ValidatingAdmissionPolicyBindingSpec
	tests := []struct {
		name   string
		modify func(*spec)
		want   []FieldErr
	}{
		{"valid", func(*spec) {}, nil},
		{"params by name, match resources", func(s *spec) {
			s.ParamRef = &admissionv1.ParamRef{Name: "limits", Namespace: "prod", ParameterNotFoundAction: ptr(admissionv1.DenyAction)}
			s.MatchResources = &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}
			s.ValidationActions = []admissionv1.ValidationAction{admissionv1.Warn, admissionv1.Audit}
		}, nil},
		{"params by selector", func(s *spec) {
			s.ParamRef = &admissionv1.ParamRef{Selector: &metav1.LabelSelector{}, ParameterNotFoundAction: ptr(admissionv1.AllowAction)}
		}, nil},
		{"policyName required", func(s *spec) { s.PolicyName = "" }, []FieldErr{Required("spec.policyName")}},
		{"policyName invalid", func(s *spec) { s.PolicyName = "Replica_Limit" }, []FieldErr{Invalid("spec.policyName")}},
		{"validationActions required", func(s *spec) { s.ValidationActions = nil }, []FieldErr{Required("spec.validationActions")}},
		{"validationActions enum and duplicate", func(s *spec) {
			s.ValidationActions = []admissionv1.ValidationAction{"Block", admissionv1.Audit, admissionv1.Audit}
		}, []FieldErr{NotSupported("spec.validationActions[0]"), Duplicate("spec.validationActions[2]")}},
		{"Deny and Warn", func(s *spec) {
			s.ValidationActions = []admissionv1.ValidationAction{admissionv1.Deny, admissionv1.Warn}
		},
			[]FieldErr{Invalid("spec.validationActions")}},
		{"paramRef empty", func(s *spec) { s.ParamRef = &admissionv1.ParamRef{} },
			[]FieldErr{Required("spec.paramRef"), Required("spec.paramRef.parameterNotFoundAction")}},
		{"paramRef name and selector", func(s *spec) {
			s.ParamRef = &admissionv1.ParamRef{Name: "a", Selector: &metav1.LabelSelector{}, ParameterNotFoundAction: ptr(admissionv1.DenyAction)}
		}, []FieldErr{Forbidden("spec.paramRef.name"), Forbidden("spec.paramRef.selector")}},
		{"paramRef fields", func(s *spec) {
			s.ParamRef = &admissionv1.ParamRef{Name: "a/b", Namespace: "Prod", ParameterNotFoundAction: ptr(admissionv1.ParameterNotFoundActionType("Skip"))}
		}, []FieldErr{Invalid("spec.paramRef.name"), Invalid("spec.paramRef.namespace"), NotSupported("spec.paramRef.parameterNotFoundAction")}},
		{"matchResources checked", func(s *spec) {
			s.MatchResources = &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{}}}
		}, []FieldErr{Required("spec.matchResources.resourceRules[0].operations"), Required("spec.matchResources.resourceRules[0].apiGroups"),
			Required("spec.matchResources.resourceRules[0].apiVersions"), Required("spec.matchResources.resourceRules[0].resources")}},
	}
	s := resource(t, "ValidatingAdmissionPolicyBinding").Strategy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBinding()
			tt.modify(&b.Spec)
			s.Default(b)
			CheckErrors(t, s.Validate(ctx, b), tt.want...)
			CheckErrors(t, s.ValidateUpdate(ctx, b, newBinding()), tt.want...)
		})
	}
}

func TestBindingGeneration(t *testing.T) {
	s := resource(t, "ValidatingAdmissionPolicyBinding").Strategy
	b := newBinding()
	s.PrepareForCreate(ctx, b)
	upd := b.DeepCopy()
	upd.Spec.ValidationActions = []admissionv1.ValidationAction{admissionv1.Warn}
	s.PrepareForUpdate(ctx, upd, b, "")
	same := b.DeepCopy()
	s.PrepareForUpdate(ctx, same, b, "")
	if b.Generation != 1 || upd.Generation != 2 || same.Generation != 1 {
		t.Errorf("generations = %d, %d, %d; want 1, 2, 1", b.Generation, upd.Generation, same.Generation)
	}
}
