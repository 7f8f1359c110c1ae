package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/client"
)

// informers are the scheduler's watches. Pods are watched without the
// finished ones (status.phase Succeeded or Failed), as upstream does:
// they hold no resources, and a pod finishing looks like its deletion.
type informers struct {
	pods, nodes, pvs, pvcs, storageClasses, pdbs toolscache.SharedIndexInformer
	volumes                                      volumeLister
}

func (inf *informers) init(cfg *rest.Config, core *client.Core) error {
	policy, err := client.NewGroup(cfg, policyv1.SchemeGroupVersion)
	if err != nil {
		return err
	}
	storage, err := client.NewGroup(cfg, storagev1.SchemeGroupVersion)
	if err != nil {
		return err
	}
	notFinished := func(o *metav1.ListOptions) {
		o.FieldSelector = "status.phase!=" + string(corev1.PodSucceeded) + ",status.phase!=" + string(corev1.PodFailed)
	}
	inf.pods = newInformer(client.ListWatch(core.Pods(""), notFinished), &corev1.Pod{})
	if err := inf.pods.SetTransform(trimPod); err != nil {
		return err
	}
	inf.nodes = newInformer(client.ListWatch(core.Nodes(), nil), &corev1.Node{})
	inf.pvs = newInformer(client.ListWatch(core.PersistentVolumes(), nil), &corev1.PersistentVolume{})
	inf.pvcs = newInformer(client.ListWatch(core.PersistentVolumeClaims(""), nil), &corev1.PersistentVolumeClaim{})
	inf.storageClasses = newInformer(client.ListWatch(storage.StorageClasses(), nil), &storagev1.StorageClass{})
	inf.pdbs = newInformer(client.ListWatch(policy.PodDisruptionBudgets(""), nil), &policyv1.PodDisruptionBudget{})
	inf.volumes = volumeLister{pvs: inf.pvs.GetStore(), pvcs: inf.pvcs.GetStore(), classes: inf.storageClasses.GetStore()}
	return nil
}

// trimPod drops what the scheduler never reads from the pods it holds
// (10,000 pods are 10,000 copies): managed fields, the last-applied
// annotation, and, once a pod is bound, the per-container statuses and
// conditions (phase, the pod IPs and nominatedNodeName stay). Unbound pods
// keep their conditions: the scheduler compares its PodScheduled
// condition before writing it.
func trimPod(o any) (any, error) {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return o, nil
	}
	client.TrimMetadata(p)
	if p.Spec.NodeName != "" {
		p.Status.Conditions = nil
		p.Status.ContainerStatuses = nil
		p.Status.InitContainerStatuses = nil
		p.Status.EphemeralContainerStatuses = nil
	}
	return p, nil
}

// newInformer drops managed fields on arrival: the scheduler never reads
// them and they are a large part of every object held.
func newInformer(lw toolscache.ListerWatcher, obj runtime.Object) toolscache.SharedIndexInformer {
	inf := toolscache.NewSharedIndexInformer(lw, obj, 0, toolscache.Indexers{})
	if err := inf.SetTransform(func(o any) (any, error) {
		if m, ok := o.(metav1.Object); ok {
			m.SetManagedFields(nil)
		}
		return o, nil
	}); err != nil {
		panic(fmt.Sprintf("scheduler: informer transform: %v", err))
	}
	return inf
}

func (inf *informers) all() []toolscache.SharedIndexInformer {
	return []toolscache.SharedIndexInformer{inf.pods, inf.nodes, inf.pvs, inf.pvcs, inf.storageClasses, inf.pdbs}
}

func (inf *informers) synced() []toolscache.InformerSynced {
	var out []toolscache.InformerSynced
	for _, i := range inf.all() {
		out = append(out, i.HasSynced)
	}
	return out
}

// pod returns the informer's current pod namespace/name.
func (inf *informers) pod(namespace, name string) (*corev1.Pod, bool) {
	obj, ok, err := inf.pods.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil, false
	}
	return obj.(*corev1.Pod), true
}

func (inf *informers) pdbList() []*policyv1.PodDisruptionBudget {
	items := inf.pdbs.GetStore().List()
	out := make([]*policyv1.PodDisruptionBudget, 0, len(items))
	for _, o := range items {
		out = append(out, o.(*policyv1.PodDisruptionBudget))
	}
	return out
}

// volumeLister serves the framework's volume lookups from the informers.
type volumeLister struct {
	pvs, pvcs, classes toolscache.Store
}

func (v volumeLister) PersistentVolumeClaim(namespace, name string) *corev1.PersistentVolumeClaim {
	if o, ok, _ := v.pvcs.GetByKey(namespace + "/" + name); ok {
		return o.(*corev1.PersistentVolumeClaim)
	}
	return nil
}

func (v volumeLister) PersistentVolume(name string) *corev1.PersistentVolume {
	if o, ok, _ := v.pvs.GetByKey(name); ok {
		return o.(*corev1.PersistentVolume)
	}
	return nil
}

func (v volumeLister) StorageClass(name string) *storagev1.StorageClass {
	if o, ok, _ := v.classes.GetByKey(name); ok {
		return o.(*storagev1.StorageClass)
	}
	return nil
}

// responsible reports whether pod is this scheduler's to place.
func (s *Scheduler) responsible(pod *corev1.Pod) bool {
	return pod.Spec.SchedulerName == s.opts.SchedulerName
}

func asPod(obj any) (*corev1.Pod, bool) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return o, true
	case toolscache.DeletedFinalStateUnknown:
		p, ok := o.Obj.(*corev1.Pod)
		return p, ok
	}
	return nil, false
}

func asNode(obj any) (*corev1.Node, bool) {
	switch o := obj.(type) {
	case *corev1.Node:
		return o, true
	case toolscache.DeletedFinalStateUnknown:
		n, ok := o.Obj.(*corev1.Node)
		return n, ok
	}
	return nil, false
}

// addHandlers routes informer events to the cache and the queue.
func (s *Scheduler) addHandlers() {
	s.informers.pods.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			pod, ok := asPod(obj)
			if !ok {
				return
			}
			s.podAdded(pod)
		},
		UpdateFunc: func(oldObj, newObj any) {
			oldPod, ok1 := asPod(oldObj)
			pod, ok2 := asPod(newObj)
			if !ok1 || !ok2 {
				return
			}
			s.podUpdated(oldPod, pod)
		},
		DeleteFunc: func(obj any) {
			pod, ok := asPod(obj)
			if !ok {
				return
			}
			s.podDeleted(pod)
		},
	})
	s.informers.nodes.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if n, ok := asNode(obj); ok {
				s.cache.AddNode(n)
				s.queue.MoveAllToActiveOrBackoff(EventNodeAdd)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := asNode(oldObj)
			n, ok2 := asNode(newObj)
			if !ok1 || !ok2 {
				return
			}
			s.cache.UpdateNode(o, n)
			s.queue.MoveForEvents(nodeUpdateEvents(o, n)...)
		},
		DeleteFunc: func(obj any) {
			if n, ok := asNode(obj); ok {
				s.cache.RemoveNode(n)
			}
		},
	})
	moveOn := func(ev ClusterEvent, onDelete bool) toolscache.ResourceEventHandlerFuncs {
		h := toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { s.queue.MoveAllToActiveOrBackoff(ev) },
			UpdateFunc: func(any, any) { s.queue.MoveAllToActiveOrBackoff(ev) },
		}
		if onDelete {
			h.DeleteFunc = func(any) { s.queue.MoveAllToActiveOrBackoff(ev) }
		}
		return h
	}
	s.informers.pvs.AddEventHandler(moveOn(EventPVChange, false))
	s.informers.pvcs.AddEventHandler(moveOn(EventPVCChange, false))
	s.informers.storageClasses.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { s.queue.MoveAllToActiveOrBackoff(EventStorageClassAdd) },
	})
}

func (s *Scheduler) podAdded(pod *corev1.Pod) {
	if pod.Spec.NodeName != "" {
		s.cache.AddPod(pod)
		s.queue.MoveAllToActiveOrBackoff(EventAssignedPodAdd)
		return
	}
	if !s.responsible(pod) {
		return
	}
	if pod.Status.NominatedNodeName != "" {
		s.nominator.add(pod, pod.Status.NominatedNodeName)
	}
	if pod.DeletionTimestamp == nil {
		s.queue.Add(pod)
	}
}

func (s *Scheduler) podUpdated(oldPod, pod *corev1.Pod) {
	if pod.Spec.NodeName != "" {
		if oldPod.Spec.NodeName == "" {
			// Bound (by us or anyone): it leaves the queue.
			s.queue.Delete(pod)
			s.nominator.remove(pod)
			s.cache.AddPod(pod)
			s.queue.MoveAllToActiveOrBackoff(EventAssignedPodAdd)
			return
		}
		s.cache.UpdatePod(oldPod, pod)
		switch {
		case pod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil:
			// Terminating: preemptors waiting for it may soon fit.
			s.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
		case !equality.Semantic.DeepEqual(oldPod.Labels, pod.Labels):
			s.queue.MoveAllToActiveOrBackoff(EventAssignedPodUpdate)
		}
		return
	}
	if !s.responsible(pod) {
		return
	}
	if pod.DeletionTimestamp != nil {
		s.queue.Delete(pod)
		s.nominator.remove(pod)
		return
	}
	if nn := pod.Status.NominatedNodeName; nn != oldPod.Status.NominatedNodeName {
		s.nominator.add(pod, nn)
	}
	s.queue.Update(oldPod, pod)
}

func (s *Scheduler) podDeleted(pod *corev1.Pod) {
	if pod.Spec.NodeName != "" {
		s.cache.RemovePod(pod)
		s.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
		return
	}
	s.nominator.remove(pod)
	if s.responsible(pod) {
		s.queue.Delete(pod)
		// Deleted while its binding was in flight, or the bound update
		// was lost in a relist: the assumed pod must not hold its room.
		if s.cache.IsAssumed(pod) {
			s.cache.ForgetPod(pod)
			s.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
		}
	}
}

// nodeUpdateEvents names the changes between two versions of a node that
// could make pods fit, as upstream's NodeSchedulingPropertiesChange.
func nodeUpdateEvents(o, n *corev1.Node) []ClusterEvent {
	var evs []ClusterEvent
	if o.Spec.Unschedulable != n.Spec.Unschedulable {
		evs = append(evs, EventNodeSpecUnschedulableChange)
	}
	if !equality.Semantic.DeepEqual(o.Status.Allocatable, n.Status.Allocatable) {
		evs = append(evs, EventNodeAllocatableChange)
	}
	if !equality.Semantic.DeepEqual(o.Labels, n.Labels) {
		evs = append(evs, EventNodeLabelChange)
	}
	if !equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) {
		evs = append(evs, EventNodeTaintChange)
	}
	return evs
}
