package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Column types, as TableColumnDefinition.Type spells them (OpenAPI types
// plus "date").
const (
	typeString  = "string"
	typeInteger = "integer"
	typeNumber  = "number"
	typeBoolean = "boolean"
	typeDate    = "date"
)

var objectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

// nameColumn is the first column of nearly every table.
func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: typeString, Format: "name", Description: objectMetaDoc["name"]}
}

// ageColumn shows the object's age. Its type is "string": the server sends
// the formatted duration, not a timestamp.
func ageColumn() metav1.TableColumnDefinition {
	return column("Age", typeString, objectMetaDoc["creationTimestamp"])
}

// column is a default column, shown by `kubectl get`.
func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

// wide is a column shown only by `kubectl get -o wide`.
func wide(name, typ, description string) metav1.TableColumnDefinition {
	c := column(name, typ, description)
	c.Priority = 1
	return c
}

// containersColumns are the wide Containers and Images columns of the
// workload kinds.
func containersColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		wide("Containers", typeString, "Names of each container in the template."),
		wide("Images", typeString, "Images referenced by each container in the template."),
	}
}

// cols joins column lists.
func cols(parts ...[]metav1.TableColumnDefinition) []metav1.TableColumnDefinition {
	var all []metav1.TableColumnDefinition
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// Age formats how long before now t was, the way kubectl shows ages:
// "<unknown>" for a zero time, else duration.HumanDuration (e.g. "5s",
// "3m20s", "2d3h", "<invalid>" for times in the future).
func Age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// microAge is Age for a MicroTime.
func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// containerCells lists container names and images, comma separated.
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	i := make([]string, len(containers))
	for k, c := range containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// boolPtr formats an optional bool as "True", "False" or "<unset>".
func boolPtr(b *bool) string {
	if b == nil {
		return "<unset>"
	}
	return boolString(*b)
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// orNone returns s, or "<none>" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// replicas returns *r, or the API default of 1 when r is unset.
func replicas(r *int32) int64 {
	if r == nil {
		return 1
	}
	return int64(*r)
}

// firstN joins the first max of list with commas and says how many of count
// were left out: "a,b,c + 2 more...".
func firstN(list []string, count, max int) string {
	if len(list) > max {
		list = list[:max]
	}
	s := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", s, count-max)
	}
	return s
}
