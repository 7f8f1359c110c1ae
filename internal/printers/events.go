package printers

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/eventconv"
)

// eventColumns serve core/v1 and events.k8s.io/v1 Events alike: upstream
// stores both as one resource and prints them with one printer.
var eventColumns = []metav1.TableColumnDefinition{
	column("Last Seen", typeString, corev1.Event{}.SwaggerDoc()["lastTimestamp"]),
	column("Type", typeString, corev1.Event{}.SwaggerDoc()["type"]),
	column("Reason", typeString, corev1.Event{}.SwaggerDoc()["reason"]),
	column("Object", typeString, corev1.Event{}.SwaggerDoc()["involvedObject"]),
	wide("Subobject", typeString, corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
	wide("Source", typeString, corev1.Event{}.SwaggerDoc()["source"]),
	column("Message", typeString, corev1.Event{}.SwaggerDoc()["message"]),
	wide("First Seen", typeString, corev1.Event{}.SwaggerDoc()["firstTimestamp"]),
	wide("Count", typeString, corev1.Event{}.SwaggerDoc()["count"]),
	{Name: "Name", Type: typeString, Format: "name", Priority: 1, Description: objectMetaDoc["name"]},
}

var eventPrinter = newTyped(eventColumns, eventCells)

var eventsV1Printer = newTyped(eventColumns, func(e *eventsv1.Event, now time.Time) []any {
	return eventCells(eventconv.ToCore(e), now)
})

func eventCells(e *corev1.Event, now time.Time) []any {
	first := Age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime, now)
	}
	last := Age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = microAge(e.Series.LastObservedTime, now)
		count = e.Series.Count
	} else if count == 0 {
		// Singleton events of the events.k8s.io API have no count.
		count = 1
	}

	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}
	return []any{
		last, e.Type, e.Reason, object, e.InvolvedObject.FieldPath,
		eventSource(e), strings.TrimSpace(e.Message), first, int64(count), e.Name,
	}
}

// eventSource is "component, host", falling back to the reporting
// controller and instance; ", host" is left out when there is no host.
func eventSource(e *corev1.Event) string {
	component, host := e.Source.Component, e.Source.Host
	if component == "" {
		component = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
