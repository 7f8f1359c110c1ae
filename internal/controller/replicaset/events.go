package replicaset

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	"skiff.dev/skiff/internal/client"
)

// StartEventRecorder returns a recorder of component's Events, written
// through core by client-go's broadcaster (which aggregates repeats and
// drops floods), until ctx ends or stop is called.
func StartEventRecorder(ctx context.Context, core *client.Core, component string) (rec record.EventRecorder, stop func()) {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(eventSink{core: core})
	return b.NewRecorder(client.Scheme, corev1.EventSource{Component: component}), b.Shutdown
}

// eventSink writes Events with the typed client; the broadcaster's sink
// interface has no context, so each write gets its own deadline.
type eventSink struct{ core *client.Core }

const eventWriteTimeout = 10 * time.Second

func (s eventSink) Create(e *corev1.Event) (*corev1.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), eventWriteTimeout)
	defer cancel()
	return s.core.Events(e.Namespace).Create(ctx, e, metav1.CreateOptions{})
}

func (s eventSink) Update(e *corev1.Event) (*corev1.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), eventWriteTimeout)
	defer cancel()
	return s.core.Events(e.Namespace).Update(ctx, e, metav1.UpdateOptions{})
}

func (s eventSink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), eventWriteTimeout)
	defer cancel()
	return s.core.Events(e.Namespace).Patch(ctx, e.Name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
}
