package replicaset

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// BurstReplicas caps the pods one pass creates or deletes; the rest wait
// for the next pass, after these were observed (upstream's value).
const BurstReplicas = 500

// slowStartInitialBatch is the first creation batch's size.
const slowStartInitialBatch = 1

// Plan is what one pass does about the replica count: create Create pods
// or delete the pods in Delete (never both).
type Plan struct {
	Create int
	Delete []*corev1.Pod
}

// PlanReplicas decides, from the active pods a controller claims and its
// desired replicas, what this pass creates or deletes, at most burst of
// either. related feeds the deletion ranking (see PodsToDelete).
func PlanReplicas(replicas int32, pods, related []*corev1.Pod, burst int, now time.Time) Plan {
	diff := len(pods) - int(replicas)
	switch {
	case diff < 0:
		return Plan{Create: min(-diff, burst)}
	case diff > 0:
		return Plan{Delete: PodsToDelete(pods, related, min(diff, burst), now)}
	}
	return Plan{}
}

// slowStartBatch calls fn count times: one call, then batches doubling in
// size, each batch's calls concurrent. It stops after the first batch
// with a failure, so a create that fails for all (a quota, a webhook)
// costs a few requests, not count. It returns the calls that succeeded
// and the first error.
func slowStartBatch(count, initial int, fn func() error) (int, error) {
	successes := 0
	for batch := min(count, initial); batch > 0; batch = min(2*batch, count-successes) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		successes += batch - len(errs)
		if len(errs) > 0 {
			return successes, <-errs
		}
	}
	return successes, nil
}

// ReplicaFailure condition reasons.
const (
	ReasonFailedCreate = "FailedCreate"
	ReasonFailedDelete = "FailedDelete"
)

// CalculateStatus is rs's status given the active pods it claims, its
// terminating pods, and the error (if any) of this pass's creations or
// deletions. ObservedGeneration is left as it was: it is set when the
// status is written.
func CalculateStatus(rs *appsv1.ReplicaSet, pods, terminating []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var fully, ready, available int32
	for _, p := range pods {
		if templateLabels.Matches(labels.Set(p.Labels)) {
			fully++
		}
		if IsPodReady(p) {
			ready++
			if IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := rsCondition(rs.Status, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := ""
		if diff := len(pods) - int(replicasOf(rs)); diff < 0 {
			reason = ReasonFailedCreate
		} else if diff > 0 {
			reason = ReasonFailedDelete
		}
		st.Conditions = append(withoutCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure), appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: reason, Message: manageErr.Error(),
			LastTransitionTime: metav1.NewTime(now),
		})
	case manageErr == nil && failure != nil:
		st.Conditions = withoutCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure)
	}
	st.Replicas = int32(len(pods))
	st.FullyLabeledReplicas = fully
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	n := int32(len(terminating))
	st.TerminatingReplicas = &n
	return st
}

func rsCondition(st appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func withoutCondition(cs []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) []appsv1.ReplicaSetCondition {
	return slices.DeleteFunc(slices.Clone(cs), func(c appsv1.ReplicaSetCondition) bool { return c.Type == t })
}

func replicasOf(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// statusUnchanged: writing st would change nothing (upstream's check,
// which also writes when a new generation was not yet observed).
func statusUnchanged(rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) bool {
	o := rs.Status
	return o.Replicas == st.Replicas && o.FullyLabeledReplicas == st.FullyLabeledReplicas &&
		o.ReadyReplicas == st.ReadyReplicas && o.AvailableReplicas == st.AvailableReplicas &&
		ptrEqual(o.TerminatingReplicas, st.TerminatingReplicas) &&
		rs.Generation == o.ObservedGeneration && conditionsEqual(o.Conditions, st.Conditions)
}

func ptrEqual(a, b *int32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func conditionsEqual(a, b []appsv1.ReplicaSetCondition) bool {
	return slices.EqualFunc(a, b, func(x, y appsv1.ReplicaSetCondition) bool {
		return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message &&
			x.LastTransitionTime.Equal(&y.LastTransitionTime)
	})
}

// ClaimAction is what a controller does about one object its selector
// may claim.
type ClaimAction int

const (
	// ClaimIgnore: someone else's, or an orphan it must not take.
	ClaimIgnore ClaimAction = iota
	// ClaimOwned: already its own and still matching.
	ClaimOwned
	// ClaimAdopt: a matching orphan to take.
	ClaimAdopt
	// ClaimRelease: its own but no longer matching, to let go.
	ClaimRelease
)

// Claim decides owner's action on obj, as upstream's ControllerRefManager
// does: a controller being deleted neither adopts nor releases, and an
// object being deleted or in another namespace is never adopted.
func Claim(owner metav1.Object, matches bool, obj metav1.Object) ClaimAction {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		switch {
		case ref.UID != owner.GetUID():
			return ClaimIgnore
		case matches:
			return ClaimOwned
		case owner.GetDeletionTimestamp() != nil:
			return ClaimIgnore
		}
		return ClaimRelease
	}
	if owner.GetDeletionTimestamp() != nil || !matches || obj.GetDeletionTimestamp() != nil ||
		(owner.GetNamespace() != "" && owner.GetNamespace() != obj.GetNamespace()) {
		return ClaimIgnore
	}
	return ClaimAdopt
}

// NewControllerRef is the ownerReference a controller puts on what it
// controls: controller=true, blockOwnerDeletion=true.
func NewControllerRef(owner metav1.Object, gvk schema.GroupVersionKind) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// PodFromTemplate is the pod a controller creates from template: the
// template's labels, annotations, finalizers and spec, generateName
// "<owner>-" and the owner's controller reference.
func PodFromTemplate(template *corev1.PodTemplateSpec, ownerName string, ref metav1.OwnerReference) (*corev1.Pod, error) {
	if len(template.Labels) == 0 {
		return nil, fmt.Errorf("unable to create pods, no labels")
	}
	// The dash makes names prettier, if the name is not too long for it
	// (validated as the server will, with a character for the suffix).
	prefix := ownerName + "-"
	if len(validation.IsDNS1123Subdomain(ownerName+"-a")) != 0 {
		prefix = ownerName
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    prefix,
			Labels:          maps.Clone(template.Labels),
			Annotations:     maps.Clone(template.Annotations),
			Finalizers:      slices.Clone(template.Finalizers),
			OwnerReferences: []metav1.OwnerReference{ref},
		},
		Spec: *template.Spec.DeepCopy(),
	}, nil
}
