package node

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	resourcehelper "k8s.io/component-helpers/resource"

	"skiff.dev/skiff/internal/node/simulated"
)

// usage is what admitted pods take of a node.
type usage struct {
	pods, milliCPU, memory, storage int64
}

func (u *usage) add(o usage, sign int64) {
	u.pods += sign * o.pods
	u.milliCPU += sign * o.milliCPU
	u.memory += sign * o.memory
	u.storage += sign * o.storage
}

// podUsage is a pod's requests, counted as the kubelet's admission counts
// them (init containers, sidecars, pod-level resources and overhead).
func podUsage(pod *corev1.Pod) usage {
	r := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	return usage{pods: 1, milliCPU: r.Cpu().MilliValue(), memory: r.Memory().Value(), storage: r.StorageEphemeral().Value()}
}

// admission is the pods a node has admitted and what they take; guarded
// by Agent.mu.
type admission struct {
	byUID map[types.UID]usage
	used  usage
}

// record counts pod as admitted (again: idempotent).
func (a *admission) record(uid types.UID, u usage) {
	if _, ok := a.byUID[uid]; ok {
		return
	}
	if a.byUID == nil {
		a.byUID = map[types.UID]usage{}
	}
	a.byUID[uid] = u
	a.used.add(u, 1)
}

// release forgets a pod that ended or is gone.
func (a *admission) release(uid types.UID) {
	if u, ok := a.byUID[uid]; ok {
		delete(a.byUID, uid)
		a.used.add(u, -1)
	}
}

// admit admits pod when it fits beside the pods admitted already, as the
// kubelet's resource admission does; otherwise it says why not, with the
// kubelet's reason and message.
func (a *admission) admit(pod *corev1.Pod, capacity usage) *simulated.Rejection {
	if _, ok := a.byUID[pod.UID]; ok {
		return nil
	}
	want := podUsage(pod)
	for _, r := range []struct {
		name                 string
		requested, used, cap int64
	}{
		{"pods", want.pods, a.used.pods, capacity.pods},
		{"cpu", want.milliCPU, a.used.milliCPU, capacity.milliCPU},
		{"memory", want.memory, a.used.memory, capacity.memory},
		{"ephemeral-storage", want.storage, a.used.storage, capacity.storage},
	} {
		if r.requested > 0 && r.used+r.requested > r.cap {
			return &simulated.Rejection{
				Reason:  "OutOf" + r.name,
				Message: fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d", r.name, r.requested, r.used, r.cap),
			}
		}
	}
	a.record(pod.UID, want)
	return nil
}
