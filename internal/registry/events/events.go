// Package events serves events.k8s.io/v1 Event. Its objects are the core/v1
// Events, stored once and converted on the way in and out, so an event a
// controller records through either API shows in both (kubectl reads
// core/v1, client-go's newer recorder writes events.k8s.io/v1).
package events

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/eventconv"
	"skiff.dev/skiff/internal/registry"
)

// Resources are the events.k8s.io/v1 resources; coreEvents is the core/v1
// events resource whose storage they share.
func Resources(coreEvents *registry.Resource) []*registry.Resource {
	return []*registry.Resource{{
		GVR: eventsv1.SchemeGroupVersion.WithResource("events"), Kind: "Event", ListKind: "EventList",
		// The same short name as core/v1 events, as upstream (kubectl warns
		// that it could match either).
		SingularName: "event", ShortNames: []string{"ev"}, Namespaced: true,
		Strategy: strategy{core: coreEvents.Strategy},
		StoredAs: &registry.StoredAs{Resource: coreEvents, ToStorage: toCore, FromStorage: fromCore},
	}}
}

type strategy struct {
	registry.BaseStrategy
	core registry.Strategy
}

func (strategy) New() runtime.Object     { return &eventsv1.Event{} }
func (strategy) NewList() runtime.Object { return &eventsv1.EventList{} }

// maxNoteBytes caps the note of events.k8s.io events.
const maxNoteBytes = 1024

// Validate applies the rules events.k8s.io/v1 adds for new events: the
// reporter and the action must be named, and there must be an event time.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	e := obj.(*eventsv1.Event)
	var errs field.ErrorList
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.ReportingController == "" {
		errs = append(errs, field.Required(field.NewPath("reportingController"), ""))
	} else {
		for _, msg := range validation.IsQualifiedName(e.ReportingController) {
			errs = append(errs, field.Invalid(field.NewPath("reportingController"), e.ReportingController, msg))
		}
	}
	if e.ReportingInstance == "" {
		errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
	} else if len(e.ReportingInstance) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("reportingInstance"), "", 128))
	}
	if e.Action == "" {
		errs = append(errs, field.Required(field.NewPath("action"), ""))
	} else if len(e.Action) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("action"), "", 128))
	}
	if e.Reason == "" {
		errs = append(errs, field.Required(field.NewPath("reason"), ""))
	} else if len(e.Reason) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("reason"), "", 128))
	}
	if len(e.Note) > maxNoteBytes {
		errs = append(errs, field.TooLong(field.NewPath("note"), "", maxNoteBytes))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.Type, []string{corev1.EventTypeNormal, corev1.EventTypeWarning}))
	}
	if e.Regarding.Namespace != "" && e.Regarding.Namespace != e.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("regarding", "namespace"), e.Regarding.Namespace, "does not match event.namespace"))
	}
	return errs
}

// ValidateUpdate: series updates change little; events recorded through
// core/v1 may lack the fields Validate requires of new events.
func (strategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	e := obj.(*eventsv1.Event)
	if len(e.Note) > maxNoteBytes {
		return field.ErrorList{field.TooLong(field.NewPath("note"), "", maxNoteBytes)}
	}
	return nil
}

// SelectableFields are core/v1's, so the same selectors work on both.
func (s strategy) SelectableFields(obj runtime.Object) fields.Set {
	c, err := toCore(obj)
	if err != nil {
		return nil
	}
	return s.core.SelectableFields(c)
}

func toCore(obj runtime.Object) (runtime.Object, error) {
	e, ok := obj.(*eventsv1.Event)
	if !ok {
		return nil, fmt.Errorf("events: want *eventsv1.Event, got %T", obj)
	}
	return eventconv.ToCore(e), nil
}

func fromCore(obj runtime.Object) (runtime.Object, error) {
	c, ok := obj.(*corev1.Event)
	if !ok {
		return nil, fmt.Errorf("events: want *corev1.Event, got %T", obj)
	}
	return eventconv.FromCore(c), nil
}
