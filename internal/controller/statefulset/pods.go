package statefulset

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/controller/replicaset"
)

// Kind is the StatefulSet's group, version and kind, for its references.
var Kind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

var podKind = corev1.SchemeGroupVersion.WithKind("Pod")

// parentAndOrdinal splits a pod name <parent>-<ordinal>; the ordinal is
// -1 when the name does not end in one.
func parentAndOrdinal(name string) (string, int) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return "", -1
	}
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return "", -1
		}
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil {
		return "", -1
	}
	return name[:i], int(n)
}

// ordinalOf is pod's ordinal in set, or -1 if the pod is not set's member
// by name.
func ordinalOf(set *appsv1.StatefulSet, pod *corev1.Pod) int {
	parent, ord := parentAndOrdinal(pod.Name)
	if parent != set.Name {
		return -1
	}
	return ord
}

func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func replicasOf(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

func inRange(set *appsv1.StatefulSet, ord int) bool {
	s := startOrdinal(set)
	return ord >= s && ord < s+replicasOf(set)
}

// PodName is the name of set's pod with ordinal.
func PodName(set *appsv1.StatefulSet, ord int) string { return fmt.Sprintf("%s-%d", set.Name, ord) }

// ClaimName is the name of the claim from template for set's pod ordinal.
func ClaimName(set *appsv1.StatefulSet, template string, ord int) string {
	return fmt.Sprintf("%s-%s-%d", template, set.Name, ord)
}

func revisionOf(pod *corev1.Pod) string { return pod.Labels[appsv1.StatefulSetRevisionLabel] }

func isCreated(pod *corev1.Pod) bool     { return pod != nil && pod.Status.Phase != "" }
func isTerminating(pod *corev1.Pod) bool { return pod != nil && pod.DeletionTimestamp != nil }
func isFinished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

func runningAndReady(pod *corev1.Pod) bool {
	return pod != nil && pod.Status.Phase == corev1.PodRunning && replicaset.IsPodReady(pod)
}

func runningAndAvailable(pod *corev1.Pod, minReady int32, now time.Time) bool {
	return runningAndReady(pod) && replicaset.IsPodAvailable(pod, minReady, now)
}

// healthy: running, ready and not being deleted. A missing pod is not.
func healthy(pod *corev1.Pod) bool { return runningAndReady(pod) && !isTerminating(pod) }

// untilAvailable is how long after now a ready pod becomes available, or 0.
func untilAvailable(pod *corev1.Pod, minReady int32, now time.Time) time.Duration {
	if minReady == 0 || !runningAndReady(pod) {
		return 0
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			if d := c.LastTransitionTime.Add(time.Duration(minReady) * time.Second).Sub(now); d > 0 {
				return d + time.Second // past it despite rounding
			}
		}
	}
	return 0
}

// claims are the claims set's pod ord uses, by template name: the
// templates named for the pod, labelled with the set's selector labels.
func claims(set *appsv1.StatefulSet, ord int) []*corev1.PersistentVolumeClaim {
	out := make([]*corev1.PersistentVolumeClaim, 0, len(set.Spec.VolumeClaimTemplates))
	for i := range set.Spec.VolumeClaimTemplates {
		c := set.Spec.VolumeClaimTemplates[i].DeepCopy()
		c.Name = ClaimName(set, set.Spec.VolumeClaimTemplates[i].Name, ord)
		c.Namespace = set.Namespace
		c.Status = corev1.PersistentVolumeClaimStatus{}
		if set.Spec.Selector != nil && len(set.Spec.Selector.MatchLabels) > 0 {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			maps.Copy(c.Labels, set.Spec.Selector.MatchLabels)
		}
		out = append(out, c)
	}
	return out
}

// newPod is set's pod ordinal made from template at revision: named
// <set>-<ordinal>, hostname and subdomain from the name and serviceName,
// the identity and revision labels, volumes for its claims.
func newPod(set *appsv1.StatefulSet, template *corev1.PodTemplateSpec, revision string, ord int) *corev1.Pod {
	t := template.DeepCopy()
	name := PodName(set, ord)
	l := maps.Clone(t.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[appsv1.StatefulSetPodNameLabel] = name
	l[appsv1.PodIndexLabel] = strconv.Itoa(ord)
	l[appsv1.StatefulSetRevisionLabel] = revision
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: set.Namespace,
			Labels: l, Annotations: t.Annotations, Finalizers: t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{replicaset.NewControllerRef(set, Kind)},
		},
		Spec: t.Spec,
	}
	p.Spec.Hostname = name
	p.Spec.Subdomain = set.Spec.ServiceName
	// Claims replace template volumes of the same name.
	byName := map[string]bool{}
	var vols []corev1.Volume
	for _, ct := range set.Spec.VolumeClaimTemplates {
		byName[ct.Name] = true
		vols = append(vols, corev1.Volume{Name: ct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ClaimName(set, ct.Name, ord)}}})
	}
	for _, v := range p.Spec.Volumes {
		if !byName[v.Name] {
			vols = append(vols, v)
		}
	}
	p.Spec.Volumes = vols
	return p
}

// retention is set's claim retention policy, Retain for what is unset.
func retention(set *appsv1.StatefulSet) (whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType) {
	whenDeleted, whenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if p := set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		if p.WhenDeleted != "" {
			whenDeleted = p.WhenDeleted
		}
		if p.WhenScaled != "" {
			whenScaled = p.WhenScaled
		}
	}
	return whenDeleted, whenScaled
}

func refersTo(ref *metav1.OwnerReference, gvk schema.GroupVersionKind, name string) bool {
	return ref.APIVersion == gvk.GroupVersion().String() && ref.Kind == gvk.Kind && ref.Name == name
}

// claimOwners returns the owner references claim should have under set's
// retention policy, given its pod (nil if it does not exist) and whether
// the pod's ordinal was scaled away, and whether that differs from what
// it has. As upstream: whenDeleted=Delete makes the set a controller
// owner of the claims of its pods in range; whenScaled=Delete makes a
// scaled-away pod the controller owner of its claims, so the garbage
// collector deletes them with it. References to an earlier set or pod of
// the same name, or another controller, mean the claim is not ours to
// change.
func claimOwners(set *appsv1.StatefulSet, claim *corev1.PersistentVolumeClaim, pod *corev1.Pod, scaledDown bool) ([]metav1.OwnerReference, bool) {
	if pod == nil && scaledDown {
		// Without its pod there is nothing to hand the claim to.
		return nil, false
	}
	podName := ""
	if pod != nil {
		podName = pod.Name
	}
	for i := range claim.OwnerReferences {
		r := &claim.OwnerReferences[i]
		switch {
		case refersTo(r, Kind, set.Name):
			if r.UID != set.UID {
				return nil, false
			}
		case podName != "" && refersTo(r, podKind, podName):
			if r.UID != pod.UID {
				return nil, false
			}
		case r.Controller != nil && *r.Controller:
			return nil, false
		}
	}
	var want []metav1.OwnerReference
	for _, r := range claim.OwnerReferences {
		if r.UID != set.UID && (pod == nil || r.UID != pod.UID) {
			want = append(want, r)
		}
	}
	whenDeleted, whenScaled := retention(set)
	del := appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	if whenScaled == del && scaledDown && pod != nil {
		want = append(want, replicaset.NewControllerRef(pod, podKind))
	}
	if whenDeleted == del && !(whenScaled == del && scaledDown) {
		want = append(want, replicaset.NewControllerRef(set, Kind))
	}
	return want, !sameRefs(want, claim.OwnerReferences)
}

func sameRefs(a, b []metav1.OwnerReference) bool {
	key := func(r metav1.OwnerReference) string {
		return fmt.Sprintf("%s/%v", r.UID, r.Controller != nil && *r.Controller)
	}
	ka, kb := make([]string, 0, len(a)), make([]string, 0, len(b))
	for _, r := range a {
		ka = append(ka, key(r))
	}
	for _, r := range b {
		kb = append(kb, key(r))
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// staleClaim: claim still belongs to an earlier pod of the same name
// (whenScaled=Delete made it the pod's); the garbage collector is about
// to delete it, so the new pod must wait rather than mount it.
func staleClaim(claim *corev1.PersistentVolumeClaim, podName string) bool {
	for i := range claim.OwnerReferences {
		if refersTo(&claim.OwnerReferences[i], podKind, podName) {
			return true
		}
	}
	return false
}

// TemplateOf is the pod template a revision of a StatefulSet holds: its
// Data is the patch that replaces spec.template.
func TemplateOf(r *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var d struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(r.Data.Raw, &d); err != nil {
		return nil, fmt.Errorf("revision %s: %w", r.Name, err)
	}
	if d.Spec.Template == nil {
		return nil, fmt.Errorf("revision %s holds no pod template", r.Name)
	}
	return d.Spec.Template, nil
}
