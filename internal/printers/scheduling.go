package printers

import (
	"time"

	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PreemptionPolicy is a default column although it comes last, as upstream.
var priorityClassPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Value", typeInteger, schedulingv1.PriorityClass{}.SwaggerDoc()["value"]),
		column("Global-Default", typeBoolean, schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]),
		ageColumn(),
		column("PreemptionPolicy", typeString, schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"]),
	},
	func(pc *schedulingv1.PriorityClass, now time.Time) []any {
		policy := ""
		if pc.PreemptionPolicy != nil {
			policy = string(*pc.PreemptionPolicy)
		}
		return []any{pc.Name, int64(pc.Value), pc.GlobalDefault, Age(pc.CreationTimestamp, now), policy}
	})
