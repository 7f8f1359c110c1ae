package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
)

var (
	podsGVR = corev1.SchemeGroupVersion.WithResource("pods")
	pdbsGVR = policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")
)

// maxDisruptedPods caps status.disruptedPods of a budget, as upstream: more
// evictions the disruption controller has not yet confirmed are refused.
const maxDisruptedPods = 2000

// serveEviction answers POST pods/<name>/eviction (kubectl drain): the pod
// is deleted with the Eviction's deleteOptions unless the one
// PodDisruptionBudget that selects it allows no disruption (429). A pod
// that is pending, finished or already being deleted disrupts nothing and
// is deleted without looking at budgets. Success is 201 with a Status.
func (h *resourceHandler) serveEviction(w http.ResponseWriter, r *http.Request) error {
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
	ev, err := decodeEviction(body, r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	if ev.Name != h.info.Name {
		return apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	if ev.Namespace != "" && ev.Namespace != h.info.Namespace {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	opts, err := evictionDeleteOptions(ev, h.info.Query["dryRun"])
	if err != nil {
		return err
	}
	pdbs, _ := h.s.Store(pdbsGVR) // nil when budgets are not served: none apply
	e := &evictor{pods: h.store, pdbs: pdbs, now: time.Now}
	st, err := e.evict(r.Context(), h.info.Namespace, h.info.Name, opts)
	if err != nil {
		return err
	}
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	writeObject(w, r, int(st.Code), st, t, metav1.SchemeGroupVersion)
	return nil
}

// decodeEviction reads a policy/v1 Eviction, or a policy/v1beta1 one
// (which has the same fields), as upstream accepts both.
func decodeEviction(body []byte, contentType string) (*policyv1.Eviction, error) {
	info, err := requestSerializer(contentType)
	if err != nil {
		return nil, err
	}
	gvk := policyv1.SchemeGroupVersion.WithKind("Eviction")
	obj, _, err := info.Serializer.Decode(body, &gvk, nil)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body must be a policy/v1 Eviction: %v", err))
	}
	switch ev := obj.(type) {
	case *policyv1.Eviction:
		return ev, nil
	case *policyv1beta1.Eviction:
		return &policyv1.Eviction{ObjectMeta: ev.ObjectMeta, DeleteOptions: ev.DeleteOptions}, nil
	}
	return nil, apierrors.NewBadRequest(fmt.Sprintf("the body must be a policy/v1 Eviction, not %s", obj.GetObjectKind().GroupVersionKind()))
}

// evictionDeleteOptions are the Eviction's deleteOptions with the
// request's dryRun carried into them; the two may not disagree.
func evictionDeleteOptions(ev *policyv1.Eviction, dryRun []string) (*metav1.DeleteOptions, error) {
	opts := ev.DeleteOptions
	switch {
	case opts == nil:
		opts = &metav1.DeleteOptions{DryRun: dryRun}
	case len(opts.DryRun) == 0:
		opts.DryRun = dryRun
	case len(dryRun) > 0 && !reflect.DeepEqual(dryRun, opts.DryRun):
		return nil, apierrors.NewBadRequest(fmt.Sprintf("Non-matching dry-run options in request and content: %v and %v", dryRun, opts.DryRun))
	}
	if len(opts.DryRun) > 0 && !isDryRun(opts.DryRun) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("Invalid dry run value: %q; only All is supported", opts.DryRun))
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy: Unsupported value: %q: supported values: \"Background\", \"Foreground\", \"Orphan\"", *p))
		}
	}
	return opts, nil
}

// evictor deletes pods as their disruption budgets allow.
type evictor struct {
	pods *registry.Store
	pdbs *registry.Store // nil: no budgets
	now  func() time.Time
}

// evict evicts one pod. It returns the Status to answer with (201
// Success, or 500 when several budgets select the pod, as upstream), or
// an error: 429 when a budget forbids the disruption.
func (e *evictor) evict(ctx context.Context, ns, name string, opts *metav1.DeleteOptions) (*metav1.Status, error) {
	dryRun := isDryRun(opts.DryRun)
	var pod *corev1.Pod
	// A pod that is pending, finished or already going disrupts nothing
	// more by going: delete it without consulting budgets. A pending one
	// is deleted only in the version just read, so that it cannot have
	// started and become ready (and counted by a budget) in between; when
	// it changed, look again, unless the client named the version.
	for attempt := 1; ; attempt++ {
		obj, err := e.pods.Get(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		pod = obj.(*corev1.Pod)
		if !disruptsNothing(pod) {
			break
		}
		delOpts := opts
		if running(pod) && rvUnset(opts) {
			delOpts = withResourceVersion(opts, pod.ResourceVersion)
		}
		err = e.deletePod(ctx, pod, delOpts, dryRun)
		if apierrors.IsConflict(err) && rvUnset(opts) && attempt < maxEvictionAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		return evicted(), nil
	}

	budgets, err := e.budgetsOf(ctx, pod)
	if err != nil {
		return nil, err
	}
	if len(budgets) > 1 {
		return &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}, nil
	}
	delOpts := opts
	// onlyIfUnchanged: the pod is deleted without taking from the budget,
	// because it is not ready and the budget is met without it (or lets
	// unhealthy pods go); it must still be unready when deleted.
	onlyIfUnchanged := false
	if len(budgets) == 1 {
		pdb := budgets[0]
		if !podReady(pod) && (unhealthyMayGo(pdb) || pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0) {
			onlyIfUnchanged = true
			delOpts = withResourceVersion(opts, pod.ResourceVersion)
		} else if err := e.takeDisruption(ctx, pdb, pod.Name, dryRun); err != nil {
			return nil, err
		}
	}
	if err := e.deletePod(ctx, pod, delOpts, dryRun); err != nil {
		if apierrors.IsConflict(err) && onlyIfUnchanged && rvUnset(opts) {
			// It may have become ready: the client tries again.
			return nil, budgetBusy(budgets[0].Name)
		}
		return nil, err
	}
	return evicted(), nil
}

// maxEvictionAttempts bounds how often an eviction re-reads a pod that
// keeps changing under it.
const maxEvictionAttempts = 20

func rvUnset(opts *metav1.DeleteOptions) bool {
	return opts.Preconditions == nil || opts.Preconditions.ResourceVersion == nil
}

func evicted() *metav1.Status {
	return &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
}

// disruptsNothing: the pod is pending, finished or being deleted.
func disruptsNothing(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodPending, corev1.PodSucceeded, corev1.PodFailed:
		return true
	}
	return pod.DeletionTimestamp != nil
}

// running: the pod may still become ready (not finished, not going).
func running(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func unhealthyMayGo(pdb *policyv1.PodDisruptionBudget) bool {
	p := pdb.Spec.UnhealthyPodEvictionPolicy
	return p != nil && *p == policyv1.AlwaysAllow
}

func withResourceVersion(opts *metav1.DeleteOptions, rv string) *metav1.DeleteOptions {
	out := opts.DeepCopy()
	if out.Preconditions == nil {
		out.Preconditions = &metav1.Preconditions{}
	}
	out.Preconditions.ResourceVersion = &rv
	return out
}

// budgetsOf are the budgets in the pod's namespace whose selector matches
// it. A budget with an empty or invalid selector matches nothing.
func (e *evictor) budgetsOf(ctx context.Context, pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	if e.pdbs == nil {
		return nil, nil
	}
	list, err := e.pdbs.List(ctx, pod.Namespace, registry.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*policyv1.PodDisruptionBudget
	for i := range list.(*policyv1.PodDisruptionBudgetList).Items {
		pdb := &list.(*policyv1.PodDisruptionBudgetList).Items[i]
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

// takeDisruption takes one disruption from the budget: it fails with 429
// when none is allowed, else decrements status.disruptionsAllowed and
// records the pod in status.disruptedPods, so that the disruption
// controller does not count it as available while it goes. The write is
// a compare-and-swap on the budget, checked again on the newest budget
// whenever another write came first.
func (e *evictor) takeDisruption(ctx context.Context, pdb *policyv1.PodDisruptionBudget, podName string, dryRun bool) error {
	if dryRun {
		return checkBudget(pdb)
	}
	_, _, err := e.pdbs.Update(ctx, pdb.Namespace, pdb.Name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		cur := old.(*policyv1.PodDisruptionBudget)
		if err := checkBudget(cur); err != nil {
			return nil, err
		}
		cur.Status.DisruptionsAllowed--
		if cur.Status.DisruptionsAllowed == 0 {
			meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{
				Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
				Reason: policyv1.InsufficientPodsReason, ObservedGeneration: cur.Status.ObservedGeneration,
			})
		}
		if cur.Status.DisruptedPods == nil {
			cur.Status.DisruptedPods = map[string]metav1.Time{}
		}
		cur.Status.DisruptedPods[podName] = metav1.NewTime(e.now())
		cur.ResourceVersion = "" // a conflict re-runs this on the newer budget
		return cur, nil
	}, false, registry.WriteOptions{Subresource: "status"})
	return err
}

// checkBudget fails unless the budget allows one more disruption now.
func checkBudget(pdb *policyv1.PodDisruptionBudget) error {
	gr := policyv1.Resource("poddisruptionbudget")
	switch {
	case pdb.Status.ObservedGeneration < pdb.Generation:
		return budgetBusy(pdb.Name)
	case pdb.Status.DisruptionsAllowed < 0:
		return apierrors.NewForbidden(gr, pdb.Name, fmt.Errorf("pdb disruptions allowed is negative"))
	case len(pdb.Status.DisruptedPods) > maxDisruptedPods:
		return apierrors.NewForbidden(gr, pdb.Name, fmt.Errorf("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	case pdb.Status.DisruptionsAllowed == 0:
		return violatesBudget(0, fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently",
			pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy))
	}
	return nil
}

// budgetBusy: the budget's status does not yet reflect its spec.
func budgetBusy(name string) error {
	return violatesBudget(10, fmt.Sprintf("The disruption budget %s is still being processed by the server.", name))
}

func violatesBudget(retryAfter int, cause string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", retryAfter)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type: policyv1.DisruptionBudgetCause, Message: cause,
	})
	return err
}

// deletePod marks a running pod as a disruption target (condition
// DisruptionTarget, reason EvictionByEvictionAPI) and deletes it with
// opts, as upstream does.
func (e *evictor) deletePod(ctx context.Context, pod *corev1.Pod, opts *metav1.DeleteOptions, dryRun bool) error {
	if !dryRun && running(pod) {
		out, _, err := e.pods.Update(ctx, pod.Namespace, pod.Name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
			cur := old.(*corev1.Pod)
			if p := opts.Preconditions; p != nil {
				if p.UID != nil && *p.UID != "" && *p.UID != cur.UID {
					return nil, apierrors.NewConflict(podsGVR.GroupResource(), cur.Name,
						fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, cur.UID))
				}
				if p.ResourceVersion != nil && *p.ResourceVersion != "" && *p.ResourceVersion != cur.ResourceVersion {
					return nil, apierrors.NewConflict(podsGVR.GroupResource(), cur.Name,
						fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, cur.ResourceVersion))
				}
			}
			setDisruptionTarget(cur, e.now())
			cur.ResourceVersion = "" // a conflict re-runs this on the newer pod
			return cur, nil
		}, false, registry.WriteOptions{Subresource: "status"})
		if err != nil {
			return err
		}
		// The condition is our own write: the delete is conditional on
		// the version it made, not on the one the client named.
		if !rvUnset(opts) {
			m, _ := meta.Accessor(out)
			opts = withResourceVersion(opts, m.GetResourceVersion())
		}
	}
	_, _, err := e.pods.Delete(ctx, pod.Namespace, pod.Name, opts, registry.WriteOptions{DryRun: dryRun})
	return err
}

func setDisruptionTarget(pod *corev1.Pod, now time.Time) {
	c := corev1.PodCondition{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.NewTime(now),
	}
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.DisruptionTarget {
			if pod.Status.Conditions[i].Status == corev1.ConditionTrue {
				c.LastTransitionTime = pod.Status.Conditions[i].LastTransitionTime
			}
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
