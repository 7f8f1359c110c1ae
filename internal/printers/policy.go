package printers

import (
	"time"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var podDisruptionBudgetPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Min Available", typeString, "The minimum number of pods that must be available."),
		column("Max Unavailable", typeString, "The maximum number of pods that may be unavailable."),
		column("Allowed Disruptions", typeInteger, "Calculated number of pods that may be disrupted at this time."),
		ageColumn(),
	},
	func(pdb *policyv1.PodDisruptionBudget, now time.Time) []any {
		minAvailable, maxUnavailable := "N/A", "N/A"
		if pdb.Spec.MinAvailable != nil {
			minAvailable = pdb.Spec.MinAvailable.String()
		}
		if pdb.Spec.MaxUnavailable != nil {
			maxUnavailable = pdb.Spec.MaxUnavailable.String()
		}
		return []any{pdb.Name, minAvailable, maxUnavailable, int64(pdb.Status.DisruptionsAllowed), Age(pdb.CreationTimestamp, now)}
	})
