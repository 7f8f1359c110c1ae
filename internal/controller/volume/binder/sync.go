package binder

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event reasons, upstream's.
const (
	ReasonWaitForFirstConsumer = "WaitForFirstConsumer"
	ReasonExternalProvisioning = "ExternalProvisioning"
	ReasonProvisioningFailed   = "ProvisioningFailed"
	ReasonFailedBinding        = "FailedBinding"
	ReasonVolumeMismatch       = "VolumeMismatch"
	ReasonClaimLost            = "ClaimLost"
	ReasonClaimMisbound        = "ClaimMisbound"
	ReasonVolumeFailedDelete   = "VolumeFailedDelete"
	ReasonVolumeFailedRecycle  = "VolumeFailedRecycle"
)

// Event is an Event to record on the object synced.
type Event struct{ Type, Reason, Message string }

// ClaimInput is what SyncClaim observes about one claim.
type ClaimInput struct {
	Claim *corev1.PersistentVolumeClaim
	// Volume looks a volume up by name (nil: not found).
	Volume func(name string) *corev1.PersistentVolume
	// Volumes are all volumes, the candidates of an unbound claim.
	Volumes []*corev1.PersistentVolume
	// Class is the claim's StorageClass, nil when it names none or the
	// class does not exist.
	Class *storagev1.StorageClass
	// Node is the node named by the claim's selected-node annotation, nil
	// when there is none or it does not exist.
	Node *corev1.Node
}

// ClaimPlan is what SyncClaim decided.
type ClaimPlan struct {
	// Bind, when set, binds the claim to this volume: BindVolume, the
	// volume's phase Bound, BindClaim, the claim's phase Bound.
	Bind *corev1.PersistentVolume
	// Provisioner, when set, is written to the claim's storage-provisioner
	// annotations: the class's provisioner is to make a volume.
	Provisioner string
	// Phase is the claim's phase to write when not binding.
	Phase corev1.PersistentVolumeClaimPhase
	// Event is recorded on the claim; when OnPhaseChange, only if Phase
	// differs from the claim's current phase.
	Event         *Event
	OnPhaseChange bool
}

// SyncClaim decides what to do with a claim, as upstream's syncClaim.
func SyncClaim(in ClaimInput) ClaimPlan {
	if !metav1.HasAnnotation(in.Claim.ObjectMeta, AnnBindCompleted) {
		return syncUnboundClaim(in)
	}
	return syncBoundClaim(in)
}

func syncUnboundClaim(in ClaimInput) ClaimPlan {
	c := in.Claim
	if c.Spec.VolumeName == "" {
		delay := DelayBinding(in.Class)
		if v := FindBestMatch(c, in.Volumes, delay, in.Node); v != nil {
			return ClaimPlan{Bind: v}
		}
		pending := ClaimPlan{Phase: corev1.ClaimPending}
		class := ClaimClass(c)
		switch {
		case delay && c.Annotations[AnnSelectedNode] == "":
			pending.Event = &Event{corev1.EventTypeNormal, ReasonWaitForFirstConsumer, "waiting for first consumer to be created before binding"}
		case class != "" && in.Class == nil:
			pending.Event = &Event{corev1.EventTypeWarning, ReasonProvisioningFailed, fmt.Sprintf("storageclass.storage.k8s.io %q not found", class)}
		case class != "":
			pending.Provisioner = in.Class.Provisioner
			pending.Event = &Event{corev1.EventTypeNormal, ReasonExternalProvisioning, fmt.Sprintf(
				"Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
				in.Class.Provisioner)}
		default:
			pending.Event = &Event{corev1.EventTypeNormal, ReasonFailedBinding, "no persistent volumes available for this claim and no storage class is set"}
		}
		return pending
	}
	// The user asked for a particular volume.
	v := in.Volume(c.Spec.VolumeName)
	switch {
	case v == nil:
		return ClaimPlan{Phase: corev1.ClaimPending} // it may be created later
	case v.Spec.ClaimRef == nil:
		if err := CheckVolumeSatisfiesClaim(v, c); err != nil {
			return ClaimPlan{Phase: corev1.ClaimPending, Event: &Event{corev1.EventTypeWarning, ReasonVolumeMismatch,
				fmt.Sprintf("Cannot bind to requested volume %q: %s", v.Name, err)}}
		}
		return ClaimPlan{Bind: v}
	case IsBoundToClaim(v, c):
		return ClaimPlan{Bind: v}
	default:
		// Claimed by another claim: wait for it to be released.
		return ClaimPlan{Phase: corev1.ClaimPending}
	}
}

func syncBoundClaim(in ClaimInput) ClaimPlan {
	c := in.Claim
	lost := func(reason, msg string) ClaimPlan {
		return ClaimPlan{Phase: corev1.ClaimLost, Event: &Event{corev1.EventTypeWarning, reason, msg}, OnPhaseChange: true}
	}
	if c.Spec.VolumeName == "" {
		return lost(ReasonClaimLost, "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
	}
	v := in.Volume(c.Spec.VolumeName)
	switch {
	case v == nil:
		return lost(ReasonClaimLost, "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
	case v.Spec.ClaimRef == nil, v.Spec.ClaimRef.UID == c.UID:
		// Bound, or the volume's half of the binding was lost: (re)bind.
		return ClaimPlan{Bind: v}
	default:
		return lost(ReasonClaimMisbound, "Two claims are bound to the same volume, this one is bound incorrectly")
	}
}

// VolumeAction is what to do with a volume beside its phase.
type VolumeAction int

const (
	// VolumeNone: nothing beyond the phase.
	VolumeNone VolumeAction = iota
	// VolumeUnbind clears the claimRef the controller set: the claim
	// got bound to another volume.
	VolumeUnbind
	// VolumeUnbindUID keeps a user's pre-binding by name but forgets the
	// UID of a claim that is bound elsewhere.
	VolumeUnbindUID
	// VolumeSyncClaim: the claim's sync completes the binding.
	VolumeSyncClaim
)

// VolumePlan is what SyncVolume decided.
type VolumePlan struct {
	// Phase is the volume's phase to write ("" leaves it).
	Phase   corev1.PersistentVolumePhase
	Message string
	Action  VolumeAction
	// Event is recorded on the volume when Phase is written.
	Event *Event
}

// SyncVolume decides what to do with a volume, as upstream's syncVolume.
// claim is the claim its claimRef names (nil: none, or not found).
func SyncVolume(v *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) VolumePlan {
	ref := v.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		// Unused, or reserved for a claim that is yet to bind.
		return VolumePlan{Phase: corev1.VolumeAvailable}
	}
	if claim != nil && claim.UID != ref.UID {
		claim = nil // a new claim of the same name: the old one is gone
	}
	switch {
	case claim == nil:
		return reclaim(v)
	case claim.Spec.VolumeName == "":
		return VolumePlan{Action: VolumeSyncClaim}
	case claim.Spec.VolumeName == v.Name:
		return VolumePlan{Phase: corev1.VolumeBound}
	case metav1.HasAnnotation(v.ObjectMeta, AnnDynamicallyProvisioned) && v.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete:
		// Made for this claim, which got bound elsewhere: not needed.
		return reclaim(v)
	case metav1.HasAnnotation(v.ObjectMeta, AnnBoundByController):
		return VolumePlan{Phase: corev1.VolumeAvailable, Action: VolumeUnbind}
	default:
		return VolumePlan{Phase: corev1.VolumeAvailable, Action: VolumeUnbindUID}
	}
}

// reclaim is the plan for a volume whose claim is gone.
func reclaim(v *corev1.PersistentVolume) VolumePlan {
	p := VolumePlan{Phase: corev1.VolumeReleased}
	if v.Status.Phase == corev1.VolumeFailed {
		p.Phase = "" // keep Failed: the user should see it
	}
	switch v.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
	case corev1.PersistentVolumeReclaimDelete:
		if metav1.HasAnnotation(v.ObjectMeta, AnnDynamicallyProvisioned) {
			break // its provisioner deletes it
		}
		// A volume made by hand: nothing here knows how to delete its
		// data, so it is left for an administrator.
		p.Phase, p.Message = corev1.VolumeFailed, fmt.Sprintf("error getting deleter volume plugin for volume %q: no deletable volume plugin matched", v.Name)
		p.Event = &Event{corev1.EventTypeWarning, ReasonVolumeFailedDelete, p.Message}
	default:
		p.Phase, p.Message = corev1.VolumeFailed, "No recycler plugin found for the volume!"
		p.Event = &Event{corev1.EventTypeWarning, ReasonVolumeFailedRecycle, p.Message}
	}
	return p
}

// BindVolume returns the volume with its claimRef set to the claim, and
// whether that changed anything. Only a volume the controller chose gets
// AnnBoundByController.
func BindVolume(v *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) (*corev1.PersistentVolume, bool) {
	ref := v.Spec.ClaimRef
	if ref != nil && ref.Name == c.Name && ref.Namespace == c.Namespace && ref.UID == c.UID {
		return v, false
	}
	byController := !IsBoundToClaim(v, c)
	out := v.DeepCopy()
	out.Spec.ClaimRef = &corev1.ObjectReference{
		Kind: "PersistentVolumeClaim", APIVersion: "v1",
		Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion,
	}
	if byController && !metav1.HasAnnotation(out.ObjectMeta, AnnBoundByController) {
		metav1.SetMetaDataAnnotation(&out.ObjectMeta, AnnBoundByController, "yes")
	}
	return out, true
}

// UnbindVolume returns the volume freed from its claim: a claimRef the
// controller set is removed, a user's pre-binding loses only its UID.
func UnbindVolume(v *corev1.PersistentVolume) *corev1.PersistentVolume {
	out := v.DeepCopy()
	if metav1.HasAnnotation(out.ObjectMeta, AnnBoundByController) {
		out.Spec.ClaimRef = nil
		delete(out.Annotations, AnnBoundByController)
	} else if out.Spec.ClaimRef != nil {
		out.Spec.ClaimRef.UID = ""
		out.Spec.ClaimRef.ResourceVersion = ""
	}
	return out
}

// BindClaim returns the claim with spec.volumeName and the binding
// annotations set, and whether that changed anything.
func BindClaim(c *corev1.PersistentVolumeClaim, v *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, bool) {
	if c.Spec.VolumeName == v.Name && metav1.HasAnnotation(c.ObjectMeta, AnnBindCompleted) {
		return c, false
	}
	out := c.DeepCopy()
	if out.Spec.VolumeName != v.Name {
		out.Spec.VolumeName = v.Name
		metav1.SetMetaDataAnnotation(&out.ObjectMeta, AnnBoundByController, "yes")
	}
	metav1.SetMetaDataAnnotation(&out.ObjectMeta, AnnBindCompleted, "yes")
	return out, true
}

// ClaimStatus returns the claim with status phase set and, when bound,
// the volume's capacity and access modes (cleared otherwise), and whether
// that changed anything.
func ClaimStatus(c *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, v *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, bool) {
	want := c.Status.DeepCopy()
	want.Phase = phase
	if v == nil {
		want.AccessModes, want.Capacity = nil, nil
	} else {
		want.AccessModes = v.Spec.AccessModes
		want.Capacity = v.Spec.Capacity
	}
	if apiequality.Semantic.DeepEqual(&c.Status, want) {
		return c, false
	}
	out := c.DeepCopy()
	out.Status = *want
	return out, true
}

// VolumePhase returns the volume with status phase and message set, and
// whether that changed anything.
func VolumePhase(v *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, message string) (*corev1.PersistentVolume, bool) {
	if v.Status.Phase == phase && v.Status.Message == message {
		return v, false
	}
	out := v.DeepCopy()
	if out.Status.Phase != phase {
		now := metav1.Now()
		out.Status.LastPhaseTransitionTime = &now
	}
	out.Status.Phase, out.Status.Message = phase, message
	return out, true
}
