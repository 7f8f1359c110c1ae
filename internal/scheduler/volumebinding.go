package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/scheduler/framework"
)

// volumeBindTimeout bounds how long a binding waits for its pod's
// WaitForFirstConsumer claims to be bound, upstream's bindTimeoutSeconds.
const volumeBindTimeout = 600 * time.Second

// claimChanges wakes bindings waiting for claims: every claim or volume
// event closes the current channel.
type claimChanges struct {
	mu sync.Mutex
	ch chan struct{}
}

func (c *claimChanges) notify() {
	c.mu.Lock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
	c.mu.Unlock()
}

// next returns a channel closed by the next notify.
func (c *claimChanges) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// watchClaimChanges feeds s.claims from the claim and volume informers.
func (s *Scheduler) watchClaimChanges() {
	h := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.claims.notify() },
		UpdateFunc: func(any, any) { s.claims.notify() },
		DeleteFunc: func(any) { s.claims.notify() },
	}
	s.informers.handle(s.informers.pvcs, h)
	s.informers.handle(s.informers.pvs, h)
}

// preBindVolumes is VolumeBinding's PreBind: the pod's claims that wait
// for their first consumer get the selected-node annotation naming the
// pod's node, then the binding waits until the binder (and the claims'
// provisioner) has bound them to volumes that node can use. Pods without
// such claims return at once.
func (s *Scheduler) preBindVolumes(ctx context.Context, pod *corev1.Pod) error {
	claims := framework.DelayedClaims(pod, s.informers.volumes)
	if len(claims) == 0 {
		return nil
	}
	host := pod.Spec.NodeName
	for _, pvc := range claims {
		if pvc.Annotations[framework.AnnSelectedNode] == host {
			continue
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{framework.AnnSelectedNode: host}}})
		if err != nil {
			return err
		}
		if _, err := s.core.PersistentVolumeClaims(pvc.Namespace).Patch(ctx, pvc.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return err
		}
	}
	obj, ok, _ := s.informers.nodes.GetStore().GetByKey(host)
	if !ok {
		return fmt.Errorf("node %q not found", host)
	}
	node := obj.(*corev1.Node)
	ctx, cancel := context.WithTimeout(ctx, volumeBindTimeout)
	defer cancel()
	for {
		changed := s.claims.next() // before checking, so no event is missed
		done := true
		for _, pvc := range claims {
			bound, err := framework.ClaimBound(s.informers.volumes, pvc.Namespace, pvc.Name, node)
			if err != nil {
				return err
			}
			done = done && bound
		}
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("binding volumes: %w", ctx.Err())
		}
	}
}

// PersistentVolumes lists every volume for VolumeBinding's check of
// WaitForFirstConsumer claims that need a static volume; only pods with
// such claims ask.
func (v volumeLister) PersistentVolumes() []*corev1.PersistentVolume {
	objs := v.pvs.List()
	out := make([]*corev1.PersistentVolume, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.PersistentVolume)
	}
	return out
}

var _ framework.PersistentVolumeLister = volumeLister{}
