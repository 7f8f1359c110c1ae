package volume

import (
	"context"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/controller/volume/binder"
	"skiff.dev/skiff/internal/controller/volume/localpath"
	"skiff.dev/skiff/internal/informers"
)

// Options select the loops to run.
type Options struct {
	Binder, Provisioner, PVCProtection, PVProtection bool
}

// Controller runs the selected volume loops. See the package doc.
type Controller struct {
	opts Options
	core *client.Core

	pvs, pvcs, classes cache.SharedIndexInformer
	pods               cache.SharedIndexInformer // only for pvc-protection

	claimQ, volumeQ, provisionQ, pvcProtQ, pvProtQ workqueue.TypedRateLimitingInterface[string]

	// Recorders are set by Run before any sync.
	rec, provRec record.EventRecorder
}

// New returns the volume controller over the shared informers inf (and
// their client), running the loops opts selects.
func New(inf *informers.Factory, opts Options) (*Controller, error) {
	c := &Controller{
		opts: opts, core: inf.Core(),
		pvs: inf.PersistentVolumes(), pvcs: inf.PersistentVolumeClaims(), classes: inf.StorageClasses(),
		claimQ:     controller.NewQueue("persistentvolume-binder-claims"),
		volumeQ:    controller.NewQueue("persistentvolume-binder-volumes"),
		provisionQ: controller.NewQueue("local-path-provisioner"),
		pvcProtQ:   controller.NewQueue("pvc-protection"),
		pvProtQ:    controller.NewQueue("pv-protection"),
	}
	if opts.PVCProtection {
		c.pods = inf.Pods()
	}
	if err := c.addHandlers(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) informers() []cache.SharedIndexInformer {
	infs := []cache.SharedIndexInformer{c.pvs, c.pvcs, c.classes}
	if c.pods != nil {
		infs = append(infs, c.pods)
	}
	return infs
}

// Run runs the selected loops with workers each until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "persistentvolume-controller")
	defer stop()
	provRec, stopProv := replicaset.StartEventRecorder(ctx, c.core, localpath.Provisioner+"_skiff")
	defer stopProv()
	c.rec, c.provRec = rec, provRec

	var wg sync.WaitGroup
	defer wg.Wait()
	var synced []cache.InformerSynced
	for _, inf := range c.informers() {
		wg.Go(func() { inf.RunWithContext(ctx) })
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	loops := []struct {
		on   bool
		name string
		q    workqueue.TypedRateLimitingInterface[string]
		sync func(context.Context, string) error
	}{
		{c.opts.Binder, "persistentvolume-binder-claims", c.claimQ, c.syncClaim},
		{c.opts.Binder, "persistentvolume-binder-volumes", c.volumeQ, c.syncVolume},
		{c.opts.Provisioner, "local-path-provisioner", c.provisionQ, c.syncProvision},
		{c.opts.PVCProtection, "pvc-protection", c.pvcProtQ, c.syncPVCProtection},
		{c.opts.PVProtection, "pv-protection", c.pvProtQ, c.syncPVProtection},
	}
	for _, l := range loops {
		if !l.on {
			l.q.ShutDown()
			continue
		}
		// The informers are shared and already running: the Loop gets none.
		wg.Go(func() { controller.Loop{Name: l.name, Queue: l.q, Sync: l.sync}.Run(ctx, workers) })
	}
	<-ctx.Done()
}

func (c *Controller) addHandlers() error {
	onClaim := func(obj any) {
		pvc, ok := asClaim(obj)
		if !ok {
			return
		}
		key := pvc.Namespace + "/" + pvc.Name
		c.claimQ.Add(key)
		c.provisionQ.Add("c/" + key)
		if pvc.DeletionTimestamp != nil {
			c.pvcProtQ.Add(key)
		}
	}
	if _, err := c.pvcs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onClaim,
		UpdateFunc: func(_, cur any) { onClaim(cur) },
		DeleteFunc: func(obj any) {
			pvc, ok := asClaim(obj)
			if !ok {
				return
			}
			// The volumes it held are released.
			if pvc.Spec.VolumeName != "" {
				c.volumeQ.Add(pvc.Spec.VolumeName)
			}
			for _, o := range c.pvs.GetStore().List() {
				if ref := o.(*corev1.PersistentVolume).Spec.ClaimRef; ref != nil && ref.Namespace == pvc.Namespace && ref.Name == pvc.Name {
					c.volumeQ.Add(o.(*corev1.PersistentVolume).Name)
				}
			}
		},
	}); err != nil {
		return err
	}
	onVolume := func(obj any) {
		pv, ok := asVolume(obj)
		if !ok {
			return
		}
		c.volumeQ.Add(pv.Name)
		c.provisionQ.Add("v/" + pv.Name)
		if pv.DeletionTimestamp != nil {
			c.pvProtQ.Add(pv.Name)
		}
	}
	if _, err := c.pvs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onVolume,
		UpdateFunc: func(_, cur any) { onVolume(cur) },
		DeleteFunc: func(obj any) {
			// A claim bound to it is now Lost.
			if pv, ok := asVolume(obj); ok && pv.Spec.ClaimRef != nil {
				c.claimQ.Add(pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name)
			}
		},
	}); err != nil {
		return err
	}
	// A class created after its claims lets them proceed.
	if _, err := c.classes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			class, ok := obj.(*storagev1.StorageClass)
			if !ok {
				return
			}
			for _, o := range c.pvcs.GetStore().List() {
				if pvc := o.(*corev1.PersistentVolumeClaim); pvc.Spec.VolumeName == "" && binder.ClaimClass(pvc) == class.Name {
					c.claimQ.Add(pvc.Namespace + "/" + pvc.Name)
					c.provisionQ.Add("c/" + pvc.Namespace + "/" + pvc.Name)
				}
			}
		},
	}); err != nil {
		return err
	}
	if c.pods != nil {
		onPod := func(obj any) {
			p, ok := obj.(*corev1.Pod)
			if d, isTomb := obj.(cache.DeletedFinalStateUnknown); isTomb {
				p, ok = d.Obj.(*corev1.Pod)
			}
			if !ok {
				return
			}
			podClaims(p, func(claim string) {
				key := p.Namespace + "/" + claim
				if o, exists, _ := c.pvcs.GetStore().GetByKey(key); exists && o.(*corev1.PersistentVolumeClaim).DeletionTimestamp != nil {
					c.pvcProtQ.Add(key)
				}
			})
		}
		if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, cur any) { onPod(cur) },
			DeleteFunc: onPod,
		}); err != nil {
			return err
		}
	}
	return nil
}

func asClaim(obj any) (*corev1.PersistentVolumeClaim, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	return pvc, ok
}

func asVolume(obj any) (*corev1.PersistentVolume, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pv, ok := obj.(*corev1.PersistentVolume)
	return pv, ok
}

// claim, volume and class read the informers (nil: not found).
func (c *Controller) claim(key string) *corev1.PersistentVolumeClaim {
	if o, ok, _ := c.pvcs.GetStore().GetByKey(key); ok {
		return o.(*corev1.PersistentVolumeClaim)
	}
	return nil
}

func (c *Controller) volume(name string) *corev1.PersistentVolume {
	if o, ok, _ := c.pvs.GetStore().GetByKey(name); ok {
		return o.(*corev1.PersistentVolume)
	}
	return nil
}

func (c *Controller) class(name string) *storagev1.StorageClass {
	if name == "" {
		return nil
	}
	if o, ok, _ := c.classes.GetStore().GetByKey(name); ok {
		return o.(*storagev1.StorageClass)
	}
	return nil
}

// selectedNode reads the node the claim's selected-node annotation names
// (nil: none, or it does not exist). Only claims waiting for a volume
// carry the annotation, so a GET is cheaper than a node informer.
func (c *Controller) selectedNode(ctx context.Context, pvc *corev1.PersistentVolumeClaim) (*corev1.Node, error) {
	name := pvc.Annotations[binder.AnnSelectedNode]
	if name == "" {
		return nil, nil
	}
	n, err := c.core.Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return n, err
}

func splitKey(key string) (ns, name string) {
	ns, name, _ = strings.Cut(key, "/")
	return ns, name
}

func (c *Controller) syncClaim(ctx context.Context, key string) error {
	pvc := c.claim(key)
	if pvc == nil {
		return nil
	}
	in := binder.ClaimInput{Claim: pvc, Volume: c.volume, Class: c.class(binder.ClaimClass(pvc))}
	if !metav1.HasAnnotation(pvc.ObjectMeta, binder.AnnBindCompleted) && pvc.Spec.VolumeName == "" {
		for _, o := range c.pvs.GetStore().List() {
			in.Volumes = append(in.Volumes, o.(*corev1.PersistentVolume))
		}
		if binder.DelayBinding(in.Class) {
			n, err := c.selectedNode(ctx, pvc)
			if err != nil {
				return err
			}
			in.Node = n
		}
	}
	plan := binder.SyncClaim(in)
	if plan.Bind != nil {
		return c.bind(ctx, plan.Bind, pvc)
	}
	cur := pvc
	if p := plan.Provisioner; p != "" && (pvc.Annotations[binder.AnnStorageProvisioner] != p || pvc.Annotations[binder.AnnBetaStorageProvisioner] != p) {
		upd := pvc.DeepCopy()
		metav1.SetMetaDataAnnotation(&upd.ObjectMeta, binder.AnnStorageProvisioner, p)
		metav1.SetMetaDataAnnotation(&upd.ObjectMeta, binder.AnnBetaStorageProvisioner, p)
		var err error
		if cur, err = c.core.PersistentVolumeClaims(pvc.Namespace).Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
	}
	changed := false
	if plan.Phase != "" {
		upd, ch := binder.ClaimStatus(cur, plan.Phase, nil)
		if ch {
			if _, err := c.core.PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
				return ignoreNotFound(err)
			}
			changed = true
		}
	}
	if e := plan.Event; e != nil && (!plan.OnPhaseChange || changed) {
		c.rec.Event(pvc, e.Type, e.Reason, e.Message)
	}
	return nil
}

// bind writes both halves of a binding, volume first, as upstream: a
// crash in between leaves a volume whose claimRef names a claim not yet
// bound, which the claim's next sync completes.
func (c *Controller) bind(ctx context.Context, pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) error {
	var err error
	if upd, changed := binder.BindVolume(pv, pvc); changed {
		if pv, err = c.core.PersistentVolumes().Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
	}
	if upd, changed := binder.VolumePhase(pv, corev1.VolumeBound, ""); changed {
		if pv, err = c.core.PersistentVolumes().UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
	}
	if upd, changed := binder.BindClaim(pvc, pv); changed {
		if pvc, err = c.core.PersistentVolumeClaims(pvc.Namespace).Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
	}
	if upd, changed := binder.ClaimStatus(pvc, corev1.ClaimBound, pv); changed {
		if _, err = c.core.PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
	}
	return nil
}

func (c *Controller) syncVolume(ctx context.Context, name string) error {
	pv := c.volume(name)
	if pv == nil {
		return nil
	}
	var pvc *corev1.PersistentVolumeClaim
	if ref := pv.Spec.ClaimRef; ref != nil && ref.UID != "" {
		key := ref.Namespace + "/" + ref.Name
		pvc = c.claim(key)
		if pvc == nil || pvc.UID != ref.UID {
			// Release only what the API server confirms is gone: the
			// claim may be newer than this informer's copy.
			live, err := c.core.PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			switch {
			case err == nil:
				pvc = live
			case !apierrors.IsNotFound(err):
				return err
			}
		}
	}
	plan := binder.SyncVolume(pv, pvc)
	var err error
	switch plan.Action {
	case binder.VolumeSyncClaim:
		c.claimQ.Add(pvc.Namespace + "/" + pvc.Name)
	case binder.VolumeUnbind, binder.VolumeUnbindUID:
		if pv, err = c.core.PersistentVolumes().Update(ctx, binder.UnbindVolume(pv), metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
	}
	if plan.Phase == "" {
		return nil
	}
	if upd, changed := binder.VolumePhase(pv, plan.Phase, plan.Message); changed {
		if _, err := c.core.PersistentVolumes().UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return ignoreNotFound(err)
		}
		if e := plan.Event; e != nil {
			c.rec.Event(pv, e.Type, e.Reason, e.Message)
		}
	}
	return nil
}

// syncProvision handles "c/<namespace>/<name>" (a claim that may need a
// volume) and "v/<name>" (a volume that may need deleting).
func (c *Controller) syncProvision(ctx context.Context, key string) error {
	if name, ok := strings.CutPrefix(key, "v/"); ok {
		pv := c.volume(name)
		if pv == nil || !localpath.ShouldDelete(pv) {
			return nil
		}
		err := c.core.PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			c.provRec.Event(pv, corev1.EventTypeWarning, "VolumeFailedDelete", err.Error())
			return err
		}
		return nil
	}
	pvc := c.claim(strings.TrimPrefix(key, "c/"))
	if pvc == nil {
		return nil
	}
	class := c.class(binder.ClaimClass(pvc))
	if !localpath.Wants(pvc, class) || c.volume(localpath.VolumeName(pvc)) != nil {
		return nil
	}
	if binder.DelayBinding(class) && pvc.Annotations[binder.AnnSelectedNode] == "" {
		return nil // the scheduler has not picked a node yet
	}
	node, err := c.selectedNode(ctx, pvc)
	if err != nil {
		return err
	}
	c.provRec.Event(pvc, corev1.EventTypeNormal, "Provisioning", fmt.Sprintf("External provisioner is provisioning volume for claim %q", pvc.Namespace+"/"+pvc.Name))
	pv, err := localpath.NewVolume(pvc, class, node)
	if err == nil {
		_, err = c.core.PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
	}
	if err != nil {
		c.provRec.Event(pvc, corev1.EventTypeWarning, binder.ReasonProvisioningFailed, fmt.Sprintf("failed to provision volume with StorageClass %q: %v", class.Name, err))
		if node == nil {
			return nil // nothing to retry until the claim changes
		}
		return err
	}
	c.provRec.Event(pvc, corev1.EventTypeNormal, "ProvisioningSucceeded", "Successfully provisioned volume "+pv.Name)
	return nil
}

func (c *Controller) syncPVCProtection(ctx context.Context, key string) error {
	pvc := c.claim(key)
	if pvc == nil || !releaseClaim(pvc, nil) {
		return nil
	}
	objs, err := c.pods.GetIndexer().ByIndex(cache.NamespaceIndex, pvc.Namespace)
	if err != nil {
		return err
	}
	pods := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		pods[i] = o.(*corev1.Pod)
	}
	if !releaseClaim(pvc, pods) {
		return nil // a pod's update or deletion brings the key back
	}
	// The informer may not have seen a pod just created: ask the API
	// server before letting the claim go, as upstream.
	ns, _ := splitKey(key)
	live, err := c.core.Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	pods = pods[:0]
	for i := range live.Items {
		pods = append(pods, &live.Items[i])
	}
	if !releaseClaim(pvc, pods) {
		return nil
	}
	upd := pvc.DeepCopy()
	upd.Finalizers = withoutFinalizer(&pvc.ObjectMeta, pvcProtectionFinalizer)
	_, err = c.core.PersistentVolumeClaims(pvc.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
	return ignoreNotFound(err)
}

func (c *Controller) syncPVProtection(ctx context.Context, name string) error {
	pv := c.volume(name)
	if pv == nil || !releaseVolume(pv) {
		return nil
	}
	upd := pv.DeepCopy()
	upd.Finalizers = withoutFinalizer(&pv.ObjectMeta, pvProtectionFinalizer)
	_, err := c.core.PersistentVolumes().Update(ctx, upd, metav1.UpdateOptions{})
	return ignoreNotFound(err)
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
