package printers

import (
	"time"

	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Upstream describes Handler with a key ObjectMeta does not have (an
// empty description); this one says what the column is.
var runtimeClassPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Handler", typeString, nodev1.RuntimeClass{}.SwaggerDoc()["handler"]),
		ageColumn(),
	},
	func(rc *nodev1.RuntimeClass, now time.Time) []any {
		return []any{rc.Name, rc.Handler, Age(rc.CreationTimestamp, now)}
	})
