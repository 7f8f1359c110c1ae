package core

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// Pod subresources that write the pod through the generic update path.
// The eviction subresource deletes pods and is served by the API server
// itself; binding and status are handled by podStrategy.
const (
	// SubresourceEphemeralContainers adds debugging containers to a
	// running pod (kubectl debug).
	SubresourceEphemeralContainers = "ephemeralcontainers"
	// SubresourceResize changes container resources in place.
	SubresourceResize = "resize"
	// SubresourceEviction deletes a pod unless a disruption budget
	// forbids it (kubectl drain).
	SubresourceEviction = "eviction"
)

// podWithSubresources is the pod strategy plus the rules of the
// ephemeralcontainers and resize subresources, and the validation of
// ephemeral containers on every write.
type podWithSubresources struct{ podStrategy }

var (
	_ registry.Strategy               = podWithSubresources{}
	_ registry.GracefulDeleteStrategy = podWithSubresources{}
)

// PrepareForUpdate keeps, of a write through ephemeralcontainers, only
// the new ephemeral containers, and of a write through resize only the
// containers' resources and resize policies: everything else is the
// stored pod, as upstream's subresource strategies do.
func (s podWithSubresources) PrepareForUpdate(ctx context.Context, obj, old runtime.Object, sub string) {
	pod, o := obj.(*corev1.Pod), old.(*corev1.Pod)
	switch sub {
	case SubresourceEphemeralContainers:
		kept := o.DeepCopy()
		kept.ResourceVersion = pod.ResourceVersion
		kept.Spec.EphemeralContainers = pod.Spec.EphemeralContainers
		*pod = *kept
	case SubresourceResize:
		kept := o.DeepCopy()
		kept.ResourceVersion = pod.ResourceVersion
		// Containers are matched by name: a reordered list must not move
		// resources between containers.
		take := func(into []corev1.Container, from []corev1.Container) {
			byName := make(map[string]*corev1.Container, len(from))
			for i := range from {
				byName[from[i].Name] = &from[i]
			}
			for i := range into {
				if c, ok := byName[into[i].Name]; ok {
					into[i].Resources = c.Resources
					into[i].ResizePolicy = c.ResizePolicy
				}
			}
		}
		take(kept.Spec.Containers, pod.Spec.Containers)
		take(kept.Spec.InitContainers, pod.Spec.InitContainers)
		*pod = *kept
	default:
		s.podStrategy.PrepareForUpdate(ctx, obj, old, sub)
		return
	}
	if !apiequality.Semantic.DeepEqual(pod.Spec, o.Spec) {
		pod.Generation = o.Generation + 1
	}
}

// Validate forbids ephemeral containers on create, as upstream: they are
// added to running pods through the subresource only.
func (s podWithSubresources) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	errs := s.podStrategy.Validate(ctx, obj)
	if len(obj.(*corev1.Pod).Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "ephemeralContainers"), "cannot be set on create"))
	}
	return errs
}

// ValidateUpdate checks a write through ephemeralcontainers (containers
// may only be added, each valid) and through resize (only cpu and memory
// may change, and not the pod's QoS class); other writes as podStrategy.
func (s podWithSubresources) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pod, o := obj.(*corev1.Pod), old.(*corev1.Pod)
	switch registry.SubresourceFrom(ctx) {
	case SubresourceEphemeralContainers:
		if _, static := o.Annotations[corev1.MirrorPodAnnotationKey]; static {
			return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
		}
		errs := validateEphemeralContainers(&pod.Spec, field.NewPath("spec", "ephemeralContainers"))
		return append(errs, validateEphemeralContainersUpdate(pod.Spec.EphemeralContainers, o.Spec.EphemeralContainers, field.NewPath("spec", "ephemeralContainers"))...)
	case SubresourceResize:
		return validateResize(pod, o)
	}
	return s.podStrategy.ValidateUpdate(ctx, obj, old)
}

// validateEphemeralContainersUpdate: existing ephemeral containers may be
// neither removed nor changed (matched by name, since a patch may reorder).
func validateEphemeralContainersUpdate(ecs, old []corev1.EphemeralContainer, path *field.Path) field.ErrorList {
	byName := make(map[string]*corev1.EphemeralContainer, len(ecs))
	for i := range ecs {
		byName[ecs[i].Name] = &ecs[i]
	}
	var errs field.ErrorList
	for i := range old {
		c, ok := byName[old[i].Name]
		switch {
		case !ok:
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be removed", old[i].Name)))
		case !apiequality.Semantic.DeepEqual(old[i], *c):
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be changed", old[i].Name)))
		}
	}
	return errs
}

// ephemeralAllowed are the container fields an ephemeral container may
// set, as upstream's allow list; anything else is forbidden, since an
// ephemeral container gets no resources, ports, probes or hooks.
var ephemeralAllowed = sets.New(
	"Name", "Image", "Command", "Args", "WorkingDir", "EnvFrom", "Env", "VolumeMounts", "VolumeDevices",
	"TerminationMessagePath", "TerminationMessagePolicy", "ImagePullPolicy", "SecurityContext", "Stdin", "StdinOnce", "TTY",
)

// validateEphemeralContainers checks spec.ephemeralContainers: names
// unique across every container of the pod, targets that name a pod
// container, only allowed fields set, no volume subPaths, and the checks
// every container gets (image, env, mounts, pull policy).
func validateEphemeralContainers(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	if len(spec.EphemeralContainers) == 0 {
		return nil
	}
	var errs field.ErrorList
	podNames := sets.New[string]()
	for _, c := range spec.Containers {
		podNames.Insert(c.Name)
	}
	for _, c := range spec.InitContainers {
		podNames.Insert(c.Name)
	}
	seen := sets.New[string]()
	checked := make([]corev1.Container, 0, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		ec := &spec.EphemeralContainers[i]
		p := path.Index(i)
		dup := ec.Name != "" && (podNames.Has(ec.Name) || seen.Has(ec.Name))
		if dup {
			errs = append(errs, field.Duplicate(p.Child("name"), ec.Name))
		}
		seen.Insert(ec.Name)
		if ec.TargetContainerName != "" && !podNames.Has(ec.TargetContainerName) {
			errs = append(errs, field.NotFound(p.Child("targetContainerName"), ec.TargetContainerName))
		}
		c := corev1.Container(ec.EphemeralContainerCommon)
		errs = append(errs, forbiddenEphemeralFields(&c, p)...)
		for j, m := range c.VolumeMounts {
			if m.SubPath != "" {
				errs = append(errs, field.Forbidden(p.Child("volumeMounts").Index(j).Child("subPath"), "cannot be set for an Ephemeral Container"))
			}
			if m.SubPathExpr != "" {
				errs = append(errs, field.Forbidden(p.Child("volumeMounts").Index(j).Child("subPathExpr"), "cannot be set for an Ephemeral Container"))
			}
		}
		// What is forbidden was reported; clear it so the common checks
		// below do not report it again.
		kept := corev1.Container{}
		for _, name := range sets.List(ephemeralAllowed) {
			reflect.ValueOf(&kept).Elem().FieldByName(name).Set(reflect.ValueOf(c).FieldByName(name))
		}
		// Duplicates were reported above; a unique stand-in keeps the
		// common checks from reporting them again.
		if dup {
			kept.Name = fmt.Sprintf("ephemeral-%d", i)
		}
		checked = append(checked, kept)
	}
	errs = append(errs, commonContainerChecks(spec, checked, path)...)
	return errs
}

// forbiddenEphemeralFields reports every set field outside the allow list.
func forbiddenEphemeralFields(c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := reflect.ValueOf(*c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if ephemeralAllowed.Has(f.Name) || v.Field(i).IsZero() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		errs = append(errs, field.Forbidden(p.Child(name), "cannot be set for an Ephemeral Container"))
	}
	return errs
}

// commonContainerChecks runs the checks every container gets on the
// ephemeral containers, through the shared pod spec validation of a pod
// that holds just them and the pod's volumes, with the errors' paths
// moved under spec.ephemeralContainers.
func commonContainerChecks(spec *corev1.PodSpec, cs []corev1.Container, path *field.Path) field.ErrorList {
	probe := &corev1.PodSpec{
		Volumes:       spec.Volumes,
		Containers:    cs,
		RestartPolicy: corev1.RestartPolicyAlways,
		DNSPolicy:     corev1.DNSClusterFirst,
	}
	prefix := "spec.containers"
	var errs field.ErrorList
	for _, e := range podspec.ValidateSpec(probe, field.NewPath("spec")) {
		if !strings.HasPrefix(e.Field, prefix+"[") {
			continue // the pod's own volumes are checked by the pod's validation
		}
		moved := *e
		moved.Field = path.String() + strings.TrimPrefix(e.Field, prefix)
		errs = append(errs, &moved)
	}
	return errs
}

// validateResize: a resize changes the cpu and memory of containers only,
// and may not change the pod's QoS class, as upstream.
func validateResize(pod, old *corev1.Pod) field.ErrorList {
	errs := podspec.ValidateSpec(&pod.Spec, field.NewPath("spec"))
	if qosClass(&pod.Spec) != qosClass(&old.Spec) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "containers"), "", "Pod QOS Class may not change as a result of resizing"))
	}
	onlyCPUMemory := func(cs, olds []corev1.Container, p *field.Path) {
		for i := range cs {
			if i >= len(olds) {
				return
			}
			for _, pair := range [][2]corev1.ResourceList{
				{cs[i].Resources.Requests, olds[i].Resources.Requests},
				{cs[i].Resources.Limits, olds[i].Resources.Limits},
			} {
				if !equalExceptCPUMemory(pair[0], pair[1]) {
					errs = append(errs, field.Forbidden(p.Index(i).Child("resources"), "only cpu and memory resources are mutable"))
					break
				}
			}
		}
	}
	onlyCPUMemory(pod.Spec.Containers, old.Spec.Containers, field.NewPath("spec", "containers"))
	onlyCPUMemory(pod.Spec.InitContainers, old.Spec.InitContainers, field.NewPath("spec", "initContainers"))
	for i, c := range pod.Spec.InitContainers {
		if i < len(old.Spec.InitContainers) && !apiequality.Semantic.DeepEqual(c.Resources, old.Spec.InitContainers[i].Resources) &&
			(c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "initContainers").Index(i).Child("resources"), "resources for non-sidecar init containers are immutable"))
		}
	}
	return errs
}

func equalExceptCPUMemory(a, b corev1.ResourceList) bool {
	strip := func(l corev1.ResourceList) corev1.ResourceList {
		out := corev1.ResourceList{}
		for k, v := range l {
			if k != corev1.ResourceCPU && k != corev1.ResourceMemory {
				out[k] = v
			}
		}
		return out
	}
	return apiequality.Semantic.DeepEqual(strip(a), strip(b))
}
