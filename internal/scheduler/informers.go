package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"

	shared "skiff.dev/skiff/internal/informers"
)

// informers are the scheduler's views of the process's shared informers.
// Finished pods (status.phase Succeeded or Failed) are left out, as
// upstream's field selector leaves them out: they hold no resources, and
// a pod finishing looks like its deletion.
type informers struct {
	pods, nodes, pvs, pvcs, storageClasses, pdbs toolscache.SharedIndexInformer
	volumes                                      volumeLister
	// registrations are the scheduler's event handlers, removed when it
	// stops: the informers outlive it.
	registrations []registration
}

type registration struct {
	inf toolscache.SharedIndexInformer
	reg toolscache.ResourceEventHandlerRegistration
}

func (inf *informers) init(f *shared.Factory) {
	inf.pods = f.Pods()
	inf.nodes = f.Nodes()
	inf.pvs = f.PersistentVolumes()
	inf.pvcs = f.PersistentVolumeClaims()
	inf.storageClasses = f.StorageClasses()
	inf.pdbs = f.PodDisruptionBudgets()
	inf.volumes = volumeLister{pvs: inf.pvs.GetStore(), pvcs: inf.pvcs.GetStore(), classes: inf.storageClasses.GetStore()}
}

// handle adds h to i's handlers until removeHandlers.
func (inf *informers) handle(i toolscache.SharedIndexInformer, h toolscache.ResourceEventHandler) {
	reg, err := i.AddEventHandler(h)
	if err != nil {
		// Only a stopped informer refuses a handler: the process is
		// shutting down, and the scheduler with it.
		return
	}
	inf.registrations = append(inf.registrations, registration{i, reg})
}

func (inf *informers) removeHandlers() {
	for _, r := range inf.registrations {
		_ = r.inf.RemoveEventHandler(r.reg)
	}
	inf.registrations = nil
}

// finished reports whether a pod has ended: the scheduler ignores it.
func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
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
	if err != nil || !ok || finished(obj.(*corev1.Pod)) {
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
	notFinished := func(obj any) bool {
		pod, ok := asPod(obj)
		return ok && !finished(pod)
	}
	s.informers.handle(s.informers.pods, toolscache.FilteringResourceEventHandler{FilterFunc: notFinished, Handler: toolscache.ResourceEventHandlerFuncs{
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
	}})
	s.informers.handle(s.informers.nodes, toolscache.ResourceEventHandlerFuncs{
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
	s.informers.handle(s.informers.pvs, moveOn(EventPVChange, false))
	s.informers.handle(s.informers.pvcs, moveOn(EventPVCChange, false))
	s.informers.handle(s.informers.storageClasses, toolscache.ResourceEventHandlerFuncs{
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
