package printers

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func webhookColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		column("Webhooks", typeInteger, "Webhooks indicates the number of webhooks registered in this configuration"),
		ageColumn(),
	}
}

var mutatingWebhookConfigurationPrinter = newTyped(webhookColumns(),
	func(c *admissionregistrationv1.MutatingWebhookConfiguration, now time.Time) []any {
		return []any{c.Name, int64(len(c.Webhooks)), Age(c.CreationTimestamp, now)}
	})

var validatingWebhookConfigurationPrinter = newTyped(webhookColumns(),
	func(c *admissionregistrationv1.ValidatingWebhookConfiguration, now time.Time) []any {
		return []any{c.Name, int64(len(c.Webhooks)), Age(c.CreationTimestamp, now)}
	})

var validatingAdmissionPolicyPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Validations", typeInteger, "Validations indicates the number of validation rules defined in this configuration"),
		column("ParamKind", typeString, "ParamKind specifies the kind of resources used to parameterize this policy"),
		ageColumn(),
	},
	func(p *admissionregistrationv1.ValidatingAdmissionPolicy, now time.Time) []any {
		paramKind := "<unset>"
		if k := p.Spec.ParamKind; k != nil {
			paramKind = k.APIVersion + "/" + k.Kind
		}
		return []any{p.Name, int64(len(p.Spec.Validations)), paramKind, Age(p.CreationTimestamp, now)}
	})

// The descriptions keep upstream's wording, typos included: clients may
// show them.
var validatingAdmissionPolicyBindingPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("PolicyName", typeString, "PolicyName indicates the policy definition which the policy binding binded to"),
		column("ParamRef", typeString, "ParamRef indicates the param resource which sets the configration param"),
		ageColumn(),
	},
	func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding, now time.Time) []any {
		return []any{b.Name, b.Spec.PolicyName, paramRefCell(b.Spec.ParamRef), Age(b.CreationTimestamp, now)}
	})

// paramRefCell names a binding's parameters as upstream does: namespace/name,
// "*/name" when the namespace is not known here, or the selector in the Go
// String form upstream prints (not the kubectl selector syntax).
func paramRefCell(ref *admissionregistrationv1.ParamRef) string {
	switch {
	case ref == nil:
		return "<unset>"
	case ref.Name != "" && ref.Namespace != "":
		return ref.Namespace + "/" + ref.Name
	case ref.Name != "":
		return "*/" + ref.Name
	case ref.Selector != nil:
		return ref.Selector.String()
	}
	return "<unset>"
}
