package operator

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Finalizer holds a Widget until the operator has cleaned up after it.
const Finalizer = "yourco.io/widget-cleanup"

// ConditionReady is the condition type the operator maintains.
const ConditionReady = "Ready"

// ConfigMapName is the name of the ConfigMap that materialises widget.
func ConfigMapName(widget string) string { return "widget-" + widget }

// WidgetReconciler reconciles Widgets into ConfigMaps.
type WidgetReconciler struct {
	client.Client

	mu       sync.Mutex
	cleanups []types.NamespacedName
}

// Cleanups returns the Widgets the operator cleaned up after, in order.
func (r *WidgetReconciler) Cleanups() []types.NamespacedName {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]types.NamespacedName(nil), r.cleanups...)
}

// Reconcile brings one Widget's world in line with its spec. The request
// is only a key: everything is re-read, so a repeated or stale call is
// harmless.
func (r *WidgetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w Widget
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
		// Gone: nothing left to do (clean-up ran under the finalizer).
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &w)
	}

	if controllerutil.AddFinalizer(&w, Finalizer) {
		if err := r.Update(ctx, &w); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName(w.Name), Namespace: w.Namespace}}
	if _, err := controllerutil.CreateOrUpdate(ctx, r.Client, cm, func() error {
		cm.Data = map[string]string{"name": w.Spec.Name, "size": w.Spec.Size}
		return controllerutil.SetControllerReference(&w, cm, r.Scheme())
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("configmap %s: %w", cm.Name, err)
	}

	before := w.Status.DeepCopy()
	w.Status.State = "Ready"
	w.Status.ObservedGeneration = w.Generation
	meta.SetStatusCondition(&w.Status.Conditions, metav1.Condition{
		Type:               ConditionReady,
		Status:             metav1.ConditionTrue,
		Reason:             "Provisioned",
		Message:            fmt.Sprintf("ConfigMap %s holds the widget", cm.Name),
		ObservedGeneration: w.Generation,
	})
	if w.Status.LastProvisioned == nil || before.ObservedGeneration != w.Generation {
		now := metav1.Now()
		w.Status.LastProvisioned = &now
	}
	if !equality.Semantic.DeepEqual(*before, w.Status) {
		if err := r.Status().Update(ctx, &w); err != nil {
			return ctrl.Result{}, fmt.Errorf("status: %w", err)
		}
	}
	return ctrl.Result{}, nil
}

// finalize cleans up after a Widget being deleted and lets it go.
func (r *WidgetReconciler) finalize(ctx context.Context, w *Widget) error {
	if !controllerutil.ContainsFinalizer(w, Finalizer) {
		return nil
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName(w.Name), Namespace: w.Namespace}}
	if err := r.Delete(ctx, cm); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting configmap %s: %w", cm.Name, err)
	}
	// Recorded before the finalizer goes: whoever sees the Widget gone may
	// rely on the clean-up being on record. A failed update below repeats
	// the clean-up, and the record, on the next reconcile.
	r.mu.Lock()
	r.cleanups = append(r.cleanups, types.NamespacedName{Namespace: w.Namespace, Name: w.Name})
	r.mu.Unlock()
	controllerutil.RemoveFinalizer(w, Finalizer)
	if err := r.Update(ctx, w); err != nil {
		return fmt.Errorf("removing finalizer: %w", err)
	}
	return nil
}
