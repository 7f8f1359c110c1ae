package events_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/events"
	"skiff.dev/skiff/internal/registry/registrytest"
	"skiff.dev/skiff/internal/storage/embedded"
)

// waitTimeout bounds every wait on the watch cache.
const waitTimeout = 10 * time.Second

var when = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// resources returns the core/v1 events resource and the events.k8s.io/v1
// one stored as it.
func resources(t *testing.T) (coreEvents, ev *registry.Resource) {
	t.Helper()
	for _, r := range core.Resources() {
		if r.GVR.Resource == "events" {
			coreEvents = r
		}
	}
	if coreEvents == nil {
		t.Fatal("core.Resources has no events")
	}
	rs := events.Resources(coreEvents)
	if len(rs) != 1 {
		t.Fatalf("events.Resources has %d resources, want 1", len(rs))
	}
	return coreEvents, rs[0]
}

var checkErrs = registrytest.CheckErrors

// validEvent is an events.k8s.io/v1 Event that passes validation.
func validEvent() *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "p.1", Namespace: "ns"},
		EventTime:           metav1.NewMicroTime(when),
		ReportingController: "skiff.dev/scheduler",
		ReportingInstance:   "scheduler-1",
		Action:              "Binding",
		Reason:              "Scheduled",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p"},
		Note:                "assigned ns/p to node-1",
		Type:                corev1.EventTypeNormal,
	}
}

func TestResource(t *testing.T) {
	coreEvents, r := resources(t)
	if r.GVR != eventsv1.SchemeGroupVersion.WithResource("events") || r.Kind != "Event" || r.ListKind != "EventList" || !r.Namespaced {
		t.Errorf("resource = %+v", r)
	}
	if r.StoredAs == nil || r.StoredAs.Resource != coreEvents {
		t.Fatalf("StoredAs = %+v, want the core/v1 events resource", r.StoredAs)
	}
	if _, ok := r.Strategy.New().(*eventsv1.Event); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*eventsv1.EventList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func TestValidate(t *testing.T) {
	_, r := resources(t)
	s := r.Strategy
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		mutate func(*eventsv1.Event)
		want   []registrytest.FieldErr
	}{
		{name: "valid", mutate: func(*eventsv1.Event) {}},
		{name: "warning", mutate: func(e *eventsv1.Event) { e.Type = corev1.EventTypeWarning }},
		{name: "cluster-scoped regarding", mutate: func(e *eventsv1.Event) { e.Regarding = corev1.ObjectReference{Kind: "Node", Name: "n"} }},
		{name: "no eventTime", mutate: func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} },
			want: []registrytest.FieldErr{registrytest.Required("eventTime")}},
		{name: "no reportingController", mutate: func(e *eventsv1.Event) { e.ReportingController = "" },
			want: []registrytest.FieldErr{registrytest.Required("reportingController")}},
		{name: "reportingController not a qualified name", mutate: func(e *eventsv1.Event) { e.ReportingController = "bad name" },
			want: []registrytest.FieldErr{registrytest.Invalid("reportingController")}},
		{name: "no reportingInstance", mutate: func(e *eventsv1.Event) { e.ReportingInstance = "" },
			want: []registrytest.FieldErr{registrytest.Required("reportingInstance")}},
		{name: "reportingInstance 128", mutate: func(e *eventsv1.Event) { e.ReportingInstance = long(128) }},
		{name: "reportingInstance 129", mutate: func(e *eventsv1.Event) { e.ReportingInstance = long(129) },
			want: []registrytest.FieldErr{registrytest.TooLong("reportingInstance")}},
		{name: "no action", mutate: func(e *eventsv1.Event) { e.Action = "" },
			want: []registrytest.FieldErr{registrytest.Required("action")}},
		{name: "action 129", mutate: func(e *eventsv1.Event) { e.Action = long(129) },
			want: []registrytest.FieldErr{registrytest.TooLong("action")}},
		{name: "no reason", mutate: func(e *eventsv1.Event) { e.Reason = "" },
			want: []registrytest.FieldErr{registrytest.Required("reason")}},
		{name: "reason 129", mutate: func(e *eventsv1.Event) { e.Reason = long(129) },
			want: []registrytest.FieldErr{registrytest.TooLong("reason")}},
		{name: "note 1024", mutate: func(e *eventsv1.Event) { e.Note = long(1024) }},
		{name: "note 1025", mutate: func(e *eventsv1.Event) { e.Note = long(1025) },
			want: []registrytest.FieldErr{registrytest.TooLong("note")}},
		{name: "no type", mutate: func(e *eventsv1.Event) { e.Type = "" },
			want: []registrytest.FieldErr{registrytest.NotSupported("type")}},
		{name: "bad type", mutate: func(e *eventsv1.Event) { e.Type = "Error" },
			want: []registrytest.FieldErr{registrytest.NotSupported("type")}},
		{name: "regarding in another namespace", mutate: func(e *eventsv1.Event) { e.Regarding.Namespace = "other" },
			want: []registrytest.FieldErr{registrytest.Invalid("regarding.namespace")}},
		{name: "empty", mutate: func(e *eventsv1.Event) { *e = eventsv1.Event{ObjectMeta: e.ObjectMeta} },
			want: []registrytest.FieldErr{
				registrytest.Required("eventTime"), registrytest.Required("reportingController"), registrytest.Required("reportingInstance"),
				registrytest.Required("action"), registrytest.Required("reason"), registrytest.NotSupported("type"),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvent()
			tt.mutate(e)
			checkErrs(t, s.Validate(context.Background(), e), tt.want...)
		})
	}
}

// TestValidateUpdate: only the note's length is checked on update, since
// events written through core/v1 lack what new events.k8s.io events need.
func TestValidateUpdate(t *testing.T) {
	_, r := resources(t)
	s := r.Strategy
	legacy := &eventsv1.Event{
		ObjectMeta:      metav1.ObjectMeta{Name: "p.1", Namespace: "ns"},
		Reason:          "BackOff",
		Regarding:       corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p"},
		DeprecatedCount: 1,
	}
	tests := []struct {
		name string
		note string
		want []registrytest.FieldErr
	}{
		{name: "legacy event, series bump"},
		{name: "note 1024", note: strings.Repeat("n", 1024)},
		{name: "note 1025", note: strings.Repeat("n", 1025), want: []registrytest.FieldErr{registrytest.TooLong("note")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := legacy.DeepCopy()
			e.DeprecatedCount = 2
			e.Note = tt.note
			checkErrs(t, s.ValidateUpdate(context.Background(), e, legacy), tt.want...)
		})
	}
}

func TestPreparationAndName(t *testing.T) {
	_, r := resources(t)
	s := r.Strategy
	ctx := context.Background()
	want := validEvent()
	e := want.DeepCopy()
	s.Default(e)
	s.PrepareForCreate(ctx, e)
	if !apiequality.Semantic.DeepEqual(e, want) {
		t.Errorf("Default+PrepareForCreate changed the event: %+v", e)
	}
	e = want.DeepCopy()
	s.PrepareForUpdate(ctx, e, validEvent(), "")
	if !apiequality.Semantic.DeepEqual(e, want) {
		t.Errorf("PrepareForUpdate changed the event: %+v", e)
	}
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"p.17a2b3c4d5e6f7", true}, {"P.1", false}, {"a_b", false}} {
		if errs := s.ValidateName(tt.name, false); (len(errs) == 0) != tt.ok {
			t.Errorf("ValidateName(%q) = %q, want ok=%v", tt.name, errs, tt.ok)
		}
	}
}

// TestSelectableFields: the core/v1 field names, so that one selector
// works on both APIs.
func TestSelectableFields(t *testing.T) {
	_, r := resources(t)
	e := validEvent()
	e.Regarding.UID = "u1"
	e.Regarding.APIVersion = "v1"
	e.Regarding.ResourceVersion = "7"
	e.Regarding.FieldPath = "spec"
	want := fields.Set{
		"involvedObject.kind": "Pod", "involvedObject.namespace": "ns", "involvedObject.name": "p", "involvedObject.uid": "u1",
		"involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "7", "involvedObject.fieldPath": "spec",
		"reason": "Scheduled", "reportingComponent": "skiff.dev/scheduler", "source": "skiff.dev/scheduler", "type": "Normal",
	}
	got := r.Strategy.SelectableFields(e)
	if len(got) != len(want) || !fields.SelectorFromSet(want).Matches(got) {
		t.Errorf("SelectableFields =\n  %v\nwant\n  %v", got, want)
	}
	e.DeprecatedSource.Component = "kubelet"
	if got := r.Strategy.SelectableFields(e); got["source"] != "kubelet" {
		t.Errorf("source = %q, want the deprecated source's component", got["source"])
	}
}

// fullEvent sets every field the two forms share.
func fullEvent() *eventsv1.Event {
	e := validEvent()
	e.Labels = map[string]string{"a": "b"}
	e.Series = &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(when.Add(time.Minute))}
	e.Related = &corev1.ObjectReference{Kind: "Node", Name: "node-1"}
	e.DeprecatedSource = corev1.EventSource{Component: "c", Host: "h"}
	e.DeprecatedFirstTimestamp = metav1.NewTime(when)
	e.DeprecatedLastTimestamp = metav1.NewTime(when.Add(time.Minute))
	e.DeprecatedCount = 2
	return e
}

func TestStoredAsRoundTrip(t *testing.T) {
	_, r := resources(t)
	e := fullEvent()
	stored, err := r.StoredAs.ToStorage(e.DeepCopy())
	if err != nil {
		t.Fatalf("ToStorage: %v", err)
	}
	c, ok := stored.(*corev1.Event)
	if !ok {
		t.Fatalf("ToStorage returned %T, want *corev1.Event", stored)
	}
	if c.Message != e.Note || c.InvolvedObject != e.Regarding || c.Count != 2 || c.Source.Host != "h" ||
		c.Series == nil || c.Series.Count != 3 || c.ReportingController != e.ReportingController || c.Action != e.Action {
		t.Errorf("ToStorage: %+v", c)
	}
	back, err := r.StoredAs.FromStorage(c)
	if err != nil {
		t.Fatalf("FromStorage: %v", err)
	}
	e.SetGroupVersionKind(eventsv1.SchemeGroupVersion.WithKind("Event"))
	if !apiequality.Semantic.DeepEqual(back, e) {
		t.Errorf("round trip:\n  got  %+v\n  want %+v", back, e)
	}

	// The conversions reject the other kind.
	if _, err := r.StoredAs.ToStorage(&corev1.Event{}); err == nil {
		t.Error("ToStorage(*corev1.Event) succeeded")
	}
	if _, err := r.StoredAs.FromStorage(&eventsv1.Event{}); err == nil {
		t.Error("FromStorage(*eventsv1.Event) succeeded")
	}
}

// TestSharedStorage writes through each API and reads through the other,
// on a real store, and selects events.k8s.io events by core/v1 fields.
func TestSharedStorage(t *testing.T) {
	coreRes, evRes := resources(t)
	db, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	coreStore, err := registry.NewStore(coreRes, db)
	if err != nil {
		t.Fatal(err)
	}
	evStore, err := registry.NewStore(evRes, db)
	if err != nil {
		t.Fatal(err)
	}
	if coreStore.Key("ns", "x") != evStore.Key("ns", "x") {
		t.Fatalf("keys differ: %s and %s", coreStore.Key("ns", "x"), evStore.Key("ns", "x"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); evStore.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, waitTimeout)
	defer wcancel()
	if err := evStore.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}

	// events.k8s.io in, core/v1 out.
	in := fullEvent()
	created, err := evStore.Create(ctx, "ns", in.DeepCopy(), registry.WriteOptions{})
	if err != nil {
		t.Fatalf("create through events.k8s.io: %v", err)
	}
	got, err := coreStore.Get(ctx, "ns", in.Name)
	if err != nil {
		t.Fatalf("get through core/v1: %v", err)
	}
	c := got.(*corev1.Event)
	if c.Message != in.Note || c.InvolvedObject != in.Regarding || c.ReportingController != in.ReportingController ||
		c.Count != 2 || c.Series == nil || c.Series.Count != 3 || !c.EventTime.Equal(&in.EventTime) {
		t.Errorf("core/v1 view: %+v", c)
	}
	if c.UID != created.(*eventsv1.Event).UID || c.ResourceVersion != created.(*eventsv1.Event).ResourceVersion {
		t.Errorf("core/v1 view uid/rv = %s/%s, want %s/%s", c.UID, c.ResourceVersion,
			created.(*eventsv1.Event).UID, created.(*eventsv1.Event).ResourceVersion)
	}
	back, err := evStore.Get(ctx, "ns", in.Name)
	if err != nil {
		t.Fatal(err)
	}
	// Apart from the kind, which the API layer sets on what it sends, the
	// stored event reads back as it was created.
	if got, want := back.GetObjectKind().GroupVersionKind(), eventsv1.SchemeGroupVersion.WithKind("Event"); got != want {
		t.Errorf("events.k8s.io get: kind %v, want %v", got, want)
	}
	back.GetObjectKind().SetGroupVersionKind(created.GetObjectKind().GroupVersionKind())
	if !apiequality.Semantic.DeepEqual(back, created) {
		t.Errorf("events.k8s.io get:\n  got  %+v\n  want %+v", back, created)
	}

	// core/v1 in (a legacy event, which events.k8s.io validation would
	// refuse on create), events.k8s.io out.
	legacy := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "q.1", Namespace: "ns"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "q"},
		Reason:         "BackOff", Message: "back-off restarting", Type: corev1.EventTypeWarning, Count: 5,
		Source: corev1.EventSource{Component: "kubelet"},
	}
	if _, err := coreStore.Create(ctx, "ns", legacy, registry.WriteOptions{}); err != nil {
		t.Fatalf("create through core/v1: %v", err)
	}
	got, err = evStore.Get(ctx, "ns", "q.1")
	if err != nil {
		t.Fatalf("get through events.k8s.io: %v", err)
	}
	e := got.(*eventsv1.Event)
	if e.Note != legacy.Message || e.Regarding != legacy.InvolvedObject || e.DeprecatedCount != 5 || e.DeprecatedSource.Component != "kubelet" {
		t.Errorf("events.k8s.io view: %+v", e)
	}

	// A list through events.k8s.io selects on core/v1 field names.
	for _, tt := range []struct {
		selector string
		want     []string
	}{
		{"reason=BackOff", []string{"q.1"}},
		{"involvedObject.name=p", []string{"p.1"}},
		{"source=kubelet", []string{"q.1"}},
		{"type=Normal", []string{"p.1"}},
	} {
		sel, err := fields.ParseSelector(tt.selector)
		if err != nil {
			t.Fatal(err)
		}
		l, err := evStore.List(ctx, "ns", registry.ListOptions{Fields: sel})
		if err != nil {
			t.Fatalf("list %s: %v", tt.selector, err)
		}
		if names := itemNames(t, l); strings.Join(names, ",") != strings.Join(tt.want, ",") {
			t.Errorf("list %s = %v, want %v", tt.selector, names, tt.want)
		}
	}
}

func itemNames(t *testing.T, list runtime.Object) []string {
	t.Helper()
	l, ok := list.(*eventsv1.EventList)
	if !ok {
		t.Fatalf("list is %T, want *eventsv1.EventList", list)
	}
	var names []string
	for _, e := range l.Items {
		names = append(names, e.Name)
	}
	return names
}
