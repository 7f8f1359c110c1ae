package framework

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Resource is a set of resource amounts in the scheduler's integer units:
// millicores for cpu, bytes for memory and ephemeral-storage, and the plain
// value for scalar (extended, hugepages, attachable-volume) resources.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is only meaningful for a node's allocatable.
	AllowedPodNumber int64
	// Scalar holds extended, hugepages-* and other prefixed native
	// resources; nil when there are none.
	Scalar map[corev1.ResourceName]int64
}

// NewResource converts a ResourceList, ignoring resources the scheduler does
// not account for.
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	r.Add(rl)
	return r
}

// Add adds rl to r.
func (r *Resource) Add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		default:
			if isScalarResourceName(name) {
				r.addScalar(name, q.Value())
			}
		}
	}
}

// sub subtracts o from r.
func (r *Resource) sub(o Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for name, v := range o.Scalar {
		r.addScalar(name, -v)
	}
}

func (r *Resource) addScalar(name corev1.ResourceName, v int64) {
	if r.Scalar == nil {
		r.Scalar = map[corev1.ResourceName]int64{}
	}
	r.Scalar[name] += v
}

// PodRequests returns the pod's effective requests, computed as
// kube-scheduler does: init containers and sidecars per
// component-helpers/resource.PodRequests, pod overhead included.
func PodRequests(pod *corev1.Pod) Resource {
	return NewResource(resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{
		// In-place resize is on by default upstream: a resized pod holds
		// the larger of its spec and its allocated resources.
		UseStatusResources: true,
	}))
}

// Scoring defaults for containers without cpu or memory requests, as
// upstream's DefaultMilliCPURequest and DefaultMemoryRequest.
const (
	DefaultMilliCPURequest int64 = 100
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024
)

var nonZeroDefaults = corev1.ResourceList{
	corev1.ResourceCPU:    *resource.NewMilliQuantity(DefaultMilliCPURequest, resource.DecimalSI),
	corev1.ResourceMemory: *resource.NewQuantity(DefaultMemoryRequest, resource.BinarySI),
}

// nonZeroRequests returns the pod's cpu and memory requests with
// containers that request none counted at the scoring defaults.
func nonZeroRequests(pod *corev1.Pod) Resource {
	rl := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{
		UseStatusResources:          true,
		NonMissingContainerRequests: nonZeroDefaults,
	})
	return Resource{MilliCPU: rl.Cpu().MilliValue(), Memory: rl.Memory().Value()}
}

// isScalarResourceName reports whether the scheduler tracks name as a scalar:
// extended resources, hugepages and other kubernetes.io/-prefixed native
// resources, and attachable volumes.
func isScalarResourceName(name corev1.ResourceName) bool {
	return isExtendedResourceName(name) ||
		strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) ||
		strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(string(name), corev1.ResourceAttachableVolumesPrefix)
}

// isExtendedResourceName reports whether name is a fully qualified resource
// outside the kubernetes.io namespace, such as example.com/gpu.
func isExtendedResourceName(name corev1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	// Its quota name, requests.<name>, must be a valid qualified name.
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}
