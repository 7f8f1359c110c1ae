package apiserver

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var bindingGVK = corev1.SchemeGroupVersion.WithKind("Binding")

// serveBinding answers POST pods/<name>/binding, the scheduler's write: it
// assigns an unassigned pod to a node, adds the binding's annotations and
// marks the pod PodScheduled. It answers 201 with a Status.
func (h *resourceHandler) serveBinding(w http.ResponseWriter, r *http.Request) error {
	if h.info.Verb != "create" {
		return apierrors.NewMethodNotSupported(h.res.GVR.GroupResource(), h.info.Verb)
	}
	t, err := negotiate(r.Header.Get("Accept"), false)
	if err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	info, err := requestSerializer(r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	b := &corev1.Binding{}
	gvk := bindingGVK
	if obj, got, err := info.Serializer.Decode(body, &gvk, b); err != nil || obj != b || (got != nil && *got != bindingGVK) {
		return apierrors.NewBadRequest(fmt.Sprintf("the body must be a v1 Binding: %v", err))
	}
	if b.Name != "" && b.Name != h.info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the binding (%s) does not match the pod's (%s)", b.Name, h.info.Name))
	}
	if b.Namespace != "" && b.Namespace != h.info.Namespace {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	var errs field.ErrorList
	if b.Target.Name == "" {
		errs = append(errs, field.Required(field.NewPath("target", "name"), ""))
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node"}))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(bindingGVK.GroupKind(), h.info.Name, errs)
	}
	// The pod's managed fields are left as they are, as kube-apiserver
	// leaves them: it writes a binding straight to storage, so no manager
	// owns spec.nodeName through one. Tracking it cost a conversion of the
	// whole pod to a typed value and back on every scheduled pod.
	opts, err := h.writeOptionsWith(r, "create", keepManagedFields)
	if err != nil {
		return err
	}
	_, _, err = h.store.Update(r.Context(), h.info.Namespace, h.info.Name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		pod := old.(*corev1.Pod)
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(h.res.GVR.GroupResource(), pod.Name, fmt.Errorf("the UID in the binding (%s) does not match the pod's (%s)", b.UID, pod.UID))
		}
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(h.res.GVR.GroupResource(), pod.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(h.res.GVR.GroupResource(), pod.Name, fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		setPodScheduled(pod)
		// A bound pod's nomination is spent: kube-apiserver clears it
		// at binding (ClearingNominatedNodeNameAfterBinding, on by
		// default since 1.35), whoever set it.
		pod.Status.NominatedNodeName = ""
		pod.ResourceVersion = "" // a binding is applied to the newest pod
		return pod, nil
	}, false, opts)
	if err != nil {
		return err
	}
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated}
	writeObject(w, r, http.StatusCreated, st, t, metav1.SchemeGroupVersion)
	return nil
}

// setPodScheduled sets the PodScheduled condition True.
func setPodScheduled(pod *corev1.Pod) {
	now := metav1.Now()
	for i, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			if c.Status != corev1.ConditionTrue {
				pod.Status.Conditions[i] = corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now}
			}
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now})
}

// keepManagedFields is the write tracking of a write that leaves an
// object's managed fields unchanged.
func keepManagedFields(context.Context, runtime.Object, runtime.Object) error { return nil }
