package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
)

// The taint eviction controller's pod condition and event, upstream's.
const (
	reasonDeletionByTaintManager = "DeletionByTaintManager"
	messageDeletionByTaint       = "Taint manager: deleting due to NoExecute taint"
	reasonTaintManagerEviction   = "TaintManagerEviction"
)

// evictor deletes pods from nodes whose NoExecute taints they do not
// tolerate: at once, or when a timer for their tolerationSeconds fires.
// It holds one timer per pod with an eviction pending and nothing per
// pod otherwise.
type evictor struct {
	core  *client.Core
	nodes cache.SharedIndexInformer
	pods  cache.SharedIndexInformer
	clock clock.WithTickerAndDelayedExecution
	// due holds pods whose eviction time has come.
	due workqueue.TypedRateLimitingInterface[string]
	rec record.EventRecorder // set by run

	mu      sync.Mutex
	pending map[string]*scheduled // by namespace/name; guarded by mu
}

type scheduled struct {
	pending
	uid   types.UID
	timer clock.Timer // nil once fired
}

func newEvictor(core *client.Core, nodes, pods cache.SharedIndexInformer, clk clock.WithTickerAndDelayedExecution) *evictor {
	return &evictor{core: core, nodes: nodes, pods: pods, clock: clk,
		due: controller.NewQueue("taint-eviction"), pending: map[string]*scheduled{}}
}

func (e *evictor) addHandlers() error {
	if _, err := e.nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { e.nodeChanged(nil, obj) },
		UpdateFunc: func(old, obj any) {
			e.nodeChanged(old, obj)
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				e.podsOnNode(n.Name, nil)
			}
		},
	}); err != nil {
		return err
	}
	_, err := e.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.podChanged,
		UpdateFunc: func(_, obj any) { e.podChanged(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				e.cancel(p.Namespace+"/"+p.Name, nil)
			}
		},
	})
	return err
}

func noExecute(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

func (e *evictor) nodeChanged(old, obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	taints := noExecute(n.Spec.Taints)
	if o, ok := old.(*corev1.Node); ok && equalTaints(noExecute(o.Spec.Taints), taints) {
		return
	}
	if old == nil && len(taints) == 0 {
		return // a new node without NoExecute taints: nothing pending on it
	}
	e.podsOnNode(n.Name, taints)
}

func equalTaints(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].MatchTaint(&b[i]) || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

func (e *evictor) podsOnNode(node string, taints []corev1.Taint) {
	for _, p := range podsOn(e.pods, node) {
		e.process(p, taints)
	}
}

func (e *evictor) podChanged(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.NodeName == "" {
		return
	}
	var taints []corev1.Taint
	if o, ok, _ := e.nodes.GetIndexer().GetByKey(p.Spec.NodeName); ok {
		taints = noExecute(o.(*corev1.Node).Spec.Taints)
	}
	e.process(p, taints)
}

// process applies decideEviction to one pod and sets its timer.
func (e *evictor) process(p *corev1.Pod, taints []corev1.Taint) {
	key := p.Namespace + "/" + p.Name
	if p.DeletionTimestamp != nil {
		e.cancel(key, nil) // on its way out already
		return
	}
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.pending[key]
	if cur != nil && cur.uid != p.UID {
		e.cancelLocked(key, nil) // another pod of the same name
		cur = nil
	}
	var curPending *pending
	if cur != nil {
		curPending = &cur.pending
	}
	v := decideEviction(p.Spec.Tolerations, taints, now, curPending)
	switch {
	case !v.evict:
		if cur != nil {
			e.cancelLocked(key, p)
		}
		return
	case v.keep:
		return
	}
	if cur != nil && cur.timer != nil {
		cur.timer.Stop()
	}
	s := &scheduled{pending: pending{created: v.created, at: v.at}, uid: p.UID}
	e.pending[key] = s
	if wait := v.at.Sub(now); wait > 0 {
		s.timer = e.clock.AfterFunc(wait, func() { e.due.Add(key) })
	} else {
		e.due.Add(key)
	}
}

// cancel drops a pending eviction; with pod set, an Event says so.
func (e *evictor) cancel(key string, p *corev1.Pod) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cancelLocked(key, p)
}

func (e *evictor) cancelLocked(key string, p *corev1.Pod) {
	s := e.pending[key]
	if s == nil {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	delete(e.pending, key)
	if p != nil && e.rec != nil {
		e.rec.Eventf(podRef(p), corev1.EventTypeNormal, reasonTaintManagerEviction, "Cancelling deletion of Pod %s", key)
	}
}

func (e *evictor) run(ctx context.Context, rec record.EventRecorder, workers int) {
	e.mu.Lock()
	e.rec = rec
	e.mu.Unlock()
	// The informers have synced: evictions due on nodes already tainted
	// are found by looking at every pod once.
	for _, o := range e.pods.GetStore().List() {
		e.podChanged(o)
	}
	controller.Loop{Name: "taint-eviction", Queue: e.due, Sync: e.evict}.Run(ctx, workers)
	e.mu.Lock()
	for k := range e.pending {
		e.cancelLocked(k, nil)
	}
	e.mu.Unlock()
}

// evict deletes a pod whose time has come, unless its eviction was
// cancelled or moved meanwhile: the DisruptionTarget condition first, so
// that its owner knows why, then the delete with the pod's own grace
// period.
func (e *evictor) evict(ctx context.Context, key string) error {
	e.mu.Lock()
	s := e.pending[key]
	if s == nil || e.clock.Now().Before(s.at) {
		e.mu.Unlock()
		return nil
	}
	s.timer = nil
	uid := s.uid
	e.mu.Unlock()
	obj, exists, err := e.pods.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		e.done(key, uid)
		return err
	}
	p := obj.(*corev1.Pod)
	if p.UID != uid || p.DeletionTimestamp != nil {
		e.done(key, uid)
		return nil
	}
	e.rec.Eventf(podRef(p), corev1.EventTypeNormal, reasonTaintManagerEviction, "Marking for deletion Pod %s", key)
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: reasonDeletionByTaintManager,
		Message: messageDeletionByTaint, LastTransitionTime: metav1.NewTime(e.clock.Now()),
	}}}})
	pods := e.core.Pods(p.Namespace)
	if _, err := pods.Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		if apierrors.IsNotFound(err) {
			e.done(key, uid)
			return nil
		}
		return fmt.Errorf("taint eviction: condition on pod %s: %w", key, err)
	}
	err = pods.Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("taint eviction: deleting pod %s: %w", key, err)
	}
	e.done(key, uid)
	return nil
}

// done forgets a pod's eviction once carried out.
func (e *evictor) done(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.pending[key]; s != nil && s.uid == uid {
		delete(e.pending, key)
	}
}
