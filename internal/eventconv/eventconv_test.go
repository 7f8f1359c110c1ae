package eventconv

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRoundTrip(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	e := &eventsv1.Event{
		ObjectMeta:               metav1.ObjectMeta{Name: "e", Namespace: "ns", Labels: map[string]string{"a": "b"}},
		EventTime:                metav1.NewMicroTime(now.Time),
		Series:                   &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(now.Time)},
		ReportingController:      "skiff.dev/test",
		ReportingInstance:        "i-1",
		Action:                   "Act",
		Reason:                   "Why",
		Regarding:                corev1.ObjectReference{Kind: "Pod", Name: "p", Namespace: "ns"},
		Related:                  &corev1.ObjectReference{Kind: "Node", Name: "n"},
		Note:                     "note",
		Type:                     corev1.EventTypeWarning,
		DeprecatedSource:         corev1.EventSource{Component: "c", Host: "h"},
		DeprecatedFirstTimestamp: now,
		DeprecatedLastTimestamp:  now,
		DeprecatedCount:          2,
	}
	c := ToCore(e)
	if c.Message != "note" || c.InvolvedObject.Name != "p" || c.Count != 2 || c.Source.Host != "h" || c.Series.Count != 3 {
		t.Fatalf("ToCore: %+v", c)
	}
	back := FromCore(c)
	e.SetGroupVersionKind(eventsv1.SchemeGroupVersion.WithKind("Event"))
	if !apiequality.Semantic.DeepEqual(back, e) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", back, e)
	}
}
