package framework

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/component-helpers/storage/ephemeral"

	"skiff.dev/skiff/internal/controller/volume/binder"
)

// Reasons of the volume filters, verbatim from kube-scheduler.
const (
	ReasonVolumeNodeConflict   = "node(s) had volume node affinity conflict"
	ReasonVolumePVNotExist     = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
	ReasonVolumeZoneConflict   = "node(s) had no available volume zone"
	ReasonDiskConflict         = "node(s) had no available disk"
	ReasonReadWriteOncePod     = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
	ReasonUnboundImmediatePVCs = "pod has unbound immediate PersistentVolumeClaims"
	ReasonBindConflict         = "node(s) didn't find available persistent volumes to bind"
)

// PersistentVolumeLister, when the VolumeLister given to NewSnapshot also
// implements it, lists every volume, so that VolumeBinding can tell on
// which nodes a WaitForFirstConsumer claim of a class that cannot
// provision everywhere finds a volume. The caller must not modify them.
type PersistentVolumeLister interface {
	PersistentVolumes() []*corev1.PersistentVolume
}

// noProvisioner is the provisioner of classes of static volumes only.
const noProvisioner = "kubernetes.io/no-provisioner"

// volumeState is what the volume filters' PreFilters found about the pod's
// claims.
type volumeState struct {
	// bound are the PVs of the pod's bound claims (nil: the PV is missing).
	bound []*corev1.PersistentVolume
	// zones are the bound PVs' zone and region labels, as value sets.
	zones []pvTopology
	// delayed are the unbound WaitForFirstConsumer claims that cannot be
	// provisioned on every node, and volumes every volume (to find a
	// static one on the node).
	delayed []delayedClaim
	volumes []*corev1.PersistentVolume
}

type delayedClaim struct {
	pvc   *corev1.PersistentVolumeClaim
	class *storagev1.StorageClass
}

// rwopState is VolumeRestrictions' PreFilter state: the pod's
// ReadWriteOncePod claims and how many other pods use them.
type rwopState struct {
	claims    []string
	conflicts int
}

type pvTopology struct {
	key    string
	values sets.Set[string]
}

// podClaims returns the pod's claims in volume order, with upstream's
// errors for a missing, lost, terminating or foreign claim. newCycleState
// looks them up once per cycle.
func podClaims(cs *cycleState) ([]*corev1.PersistentVolumeClaim, error) {
	var out []*corev1.PersistentVolumeClaim
	pod := cs.pod
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var name string
		switch {
		case v.PersistentVolumeClaim != nil:
			name = v.PersistentVolumeClaim.ClaimName
		case v.Ephemeral != nil:
			name = ephemeral.VolumeClaimName(pod, v)
		default:
			continue
		}
		var pvc *corev1.PersistentVolumeClaim
		if cs.snap.volumes != nil {
			pvc = cs.snap.volumes.PersistentVolumeClaim(pod.Namespace, name)
		}
		if pvc == nil {
			if v.Ephemeral != nil {
				return nil, fmt.Errorf("waiting for ephemeral volume controller to create the persistentvolumeclaim %q", name)
			}
			return nil, fmt.Errorf("persistentvolumeclaim %q not found", name)
		}
		if pvc.Status.Phase == corev1.ClaimLost {
			return nil, fmt.Errorf("persistentvolumeclaim %q bound to non-existent persistentvolume %q", pvc.Name, pvc.Spec.VolumeName)
		}
		if pvc.DeletionTimestamp != nil {
			return nil, fmt.Errorf("persistentvolumeclaim %q is being deleted", pvc.Name)
		}
		if v.Ephemeral != nil {
			if err := ephemeral.VolumeIsForPod(pod, pvc); err != nil {
				return nil, err
			}
		}
		out = append(out, pvc)
	}
	return out, nil
}

// claimClass is the claim's storage class name, the beta annotation first.
func claimClass(pvc *corev1.PersistentVolumeClaim) string {
	if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return c
	}
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return ""
}

// delayBinding reports whether an unbound claim waits for its first
// consumer (its class has volumeBindingMode WaitForFirstConsumer).
func delayBinding(cs *cycleState, pvc *corev1.PersistentVolumeClaim) (bool, error) {
	name := claimClass(pvc)
	if name == "" {
		return false, nil
	}
	class := cs.snap.volumes.StorageClass(name)
	if class == nil {
		return false, fmt.Errorf("storageclass.storage.k8s.io %q not found", name)
	}
	return class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer, nil
}

// volumeBindingPlugin is VolumeBinding: the node must satisfy each bound
// PV's nodeAffinity (a claim counts as bound once spec.volumeName is set),
// and each unbound claim of a WaitForFirstConsumer class must find on the
// node an Available volume the binder would match to it, or else its class
// must be able to provision there (a provisioner other than
// kubernetes.io/no-provisioner whose allowedTopologies admit the node).
// Other unbound claims reject the pod until bound, as upstream. Which
// volume a claim gets is the binder's choice once the scheduler's PreBind
// has named the node (see DelayedClaims); storage capacity is not checked.
type volumeBindingPlugin struct{}

func (volumeBindingPlugin) Name() string { return VolumeBindingName }

func (volumeBindingPlugin) preFilter(cs *cycleState) (bool, *Status) {
	if cs.claimsErr != nil {
		return false, NewStatus(UnschedulableAndUnresolvable, cs.claimsErr.Error())
	}
	if len(cs.claims) == 0 {
		return true, nil
	}
	s := &volumeState{}
	cs.volumes = s
	for _, pvc := range cs.claims {
		if pvc.Spec.VolumeName != "" {
			s.bound = append(s.bound, cs.snap.volumes.PersistentVolume(pvc.Spec.VolumeName))
			continue
		}
		delay, err := delayBinding(cs, pvc)
		if err != nil {
			return false, NewStatus(UnschedulableAndUnresolvable, err.Error())
		}
		if !delay {
			return false, NewStatus(UnschedulableAndUnresolvable, ReasonUnboundImmediatePVCs)
		}
		if class := cs.snap.volumes.StorageClass(claimClass(pvc)); class.Provisioner == noProvisioner || len(class.AllowedTopologies) > 0 {
			s.delayed = append(s.delayed, delayedClaim{pvc, class})
		}
	}
	if len(s.delayed) > 0 {
		if l, ok := cs.snap.volumes.(PersistentVolumeLister); ok {
			s.volumes = l.PersistentVolumes()
		}
	}
	return len(s.bound) == 0 && len(s.delayed) == 0, nil
}

// provisionableOn reports whether class can make a volume for node.
func provisionableOn(class *storagev1.StorageClass, node *corev1.Node) bool {
	if class.Provisioner == noProvisioner {
		return false
	}
	if len(class.AllowedTopologies) == 0 {
		return true
	}
	for _, term := range class.AllowedTopologies {
		fits := true
		for _, e := range term.MatchLabelExpressions {
			if v, ok := node.Labels[e.Key]; !ok || !slices.Contains(e.Values, v) {
				fits = false
				break
			}
		}
		if fits {
			return true
		}
	}
	return false
}

func (volumeBindingPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	var reasons []string
	for _, pv := range cs.volumes.bound {
		if pv == nil {
			reasons = appendOnce(reasons, ReasonVolumePVNotExist)
			continue
		}
		if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
			continue
		}
		if ok, err := nodeaffinity.NewLazyErrorNodeSelector(pv.Spec.NodeAffinity.Required).Match(ni.Node()); !ok || err != nil {
			reasons = appendOnce(reasons, ReasonVolumeNodeConflict)
		}
	}
	for _, d := range cs.volumes.delayed {
		if !provisionableOn(d.class, ni.Node()) && binder.FindBestMatch(d.pvc, cs.volumes.volumes, true, ni.Node()) == nil {
			reasons = appendOnce(reasons, ReasonBindConflict)
		}
	}
	if len(reasons) > 0 {
		return NewStatus(UnschedulableAndUnresolvable, reasons...)
	}
	return nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// zoneLabels are the PV and node labels VolumeZone compares.
var zoneLabels = []string{
	corev1.LabelFailureDomainBetaZone, corev1.LabelFailureDomainBetaRegion,
	corev1.LabelTopologyZone, corev1.LabelTopologyRegion,
}

var betaToGA = map[string]string{
	corev1.LabelFailureDomainBetaZone:   corev1.LabelTopologyZone,
	corev1.LabelFailureDomainBetaRegion: corev1.LabelTopologyRegion,
}

// volumeZonePlugin requires a node's zone and region to be among those of
// the pod's bound PVs' labels (a label value may list several zones
// separated by "__"). Nodes without zone or region labels fit.
type volumeZonePlugin struct{}

func (volumeZonePlugin) Name() string { return VolumeZoneName }

func (volumeZonePlugin) preFilter(cs *cycleState) (bool, *Status) {
	s := cs.volumes
	if s == nil {
		return true, nil
	}
	for _, pv := range s.bound {
		if pv == nil {
			continue // VolumeBinding reports it
		}
		for _, key := range zoneLabels {
			if v, ok := pv.Labels[key]; ok {
				s.zones = append(s.zones, pvTopology{key, sets.New(strings.Split(v, "__")...)})
			}
		}
	}
	return len(s.zones) == 0, nil
}

func (volumeZonePlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	labels := ni.Node().Labels
	constrained := false
	for _, key := range zoneLabels {
		if _, ok := labels[key]; ok {
			constrained = true
			break
		}
	}
	if !constrained {
		return nil
	}
	for _, t := range cs.volumes.zones {
		v, ok := labels[t.key]
		if !ok {
			v, ok = labels[betaToGA[t.key]]
		}
		if !ok || !t.values.Has(v) {
			return NewStatus(UnschedulableAndUnresolvable, ReasonVolumeZoneConflict)
		}
	}
	return nil
}

// volumeRestrictionsPlugin rejects nodes where an existing pod uses the
// same GCE PD, AWS EBS volume, RBD image or iSCSI target (unless both are
// read-only, where the volume type allows it), and pods whose
// ReadWriteOncePod claim another pod already uses.
type volumeRestrictionsPlugin struct{}

func (volumeRestrictionsPlugin) Name() string { return VolumeRestrictionsName }

func (volumeRestrictionsPlugin) preFilter(cs *cycleState) (bool, *Status) {
	needsDiskCheck := false
	for i := range cs.pod.Spec.Volumes {
		v := &cs.pod.Spec.Volumes[i]
		if v.GCEPersistentDisk != nil || v.AWSElasticBlockStore != nil || v.RBD != nil || v.ISCSI != nil {
			needsDiskCheck = true
		}
	}
	// Upstream's VolumeRestrictions looks up only persistentVolumeClaim
	// volumes and fails only when one is missing; VolumeBinding reports
	// the other claim problems.
	s := &rwopState{}
	for i := range cs.pod.Spec.Volumes {
		v := cs.pod.Spec.Volumes[i].PersistentVolumeClaim
		if v == nil {
			continue
		}
		var pvc *corev1.PersistentVolumeClaim
		if cs.snap.volumes != nil {
			pvc = cs.snap.volumes.PersistentVolumeClaim(cs.pod.Namespace, v.ClaimName)
		}
		if pvc == nil {
			return false, NewStatus(UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolumeclaim %q not found", v.ClaimName))
		}
		for _, m := range pvc.Spec.AccessModes {
			if m == corev1.ReadWriteOncePod {
				s.claims = append(s.claims, pvc.Name)
				s.conflicts += cs.snap.claimUsers(cs.pod.Namespace, pvc.Name)
			}
		}
	}
	if len(s.claims) > 0 {
		cs.rwop = s
	}
	return !needsDiskCheck && s.conflicts == 0, nil
}

func (volumeRestrictionsPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	for _, existing := range ni.pods {
		if disksConflict(cs.pod, existing) {
			return NewStatus(Unschedulable, ReasonDiskConflict)
		}
	}
	if cs.rwop != nil && cs.rwop.conflicts > 0 {
		return NewStatus(Unschedulable, ReasonReadWriteOncePod)
	}
	return nil
}

func (volumeRestrictionsPlugin) addPod(cs *cycleState, pod *corev1.Pod, _ *NodeInfo) {
	updateRWOP(cs, pod, 1)
}

func (volumeRestrictionsPlugin) removePod(cs *cycleState, pod *corev1.Pod, _ *NodeInfo) {
	updateRWOP(cs, pod, -1)
}

func updateRWOP(cs *cycleState, pod *corev1.Pod, delta int) {
	if cs.rwop == nil || pod.Namespace != cs.pod.Namespace {
		return
	}
	forEachClaim(pod, func(key string) {
		for _, c := range cs.rwop.claims {
			if key == pod.Namespace+"/"+c {
				cs.rwop.conflicts += delta
			}
		}
	})
}

// disksConflict reports whether two pods' volumes cannot share a node, as
// upstream's isVolumeConflict.
func disksConflict(pod, existing *corev1.Pod) bool {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		for j := range existing.Spec.Volumes {
			e := &existing.Spec.Volumes[j]
			switch {
			case v.GCEPersistentDisk != nil && e.GCEPersistentDisk != nil:
				if v.GCEPersistentDisk.PDName == e.GCEPersistentDisk.PDName &&
					!(v.GCEPersistentDisk.ReadOnly && e.GCEPersistentDisk.ReadOnly) {
					return true
				}
			case v.AWSElasticBlockStore != nil && e.AWSElasticBlockStore != nil:
				if v.AWSElasticBlockStore.VolumeID == e.AWSElasticBlockStore.VolumeID {
					return true
				}
			case v.ISCSI != nil && e.ISCSI != nil:
				if v.ISCSI.IQN == e.ISCSI.IQN && !(v.ISCSI.ReadOnly && e.ISCSI.ReadOnly) {
					return true
				}
			case v.RBD != nil && e.RBD != nil:
				if v.RBD.RBDPool == e.RBD.RBDPool && v.RBD.RBDImage == e.RBD.RBDImage &&
					sets.New(v.RBD.CephMonitors...).HasAny(e.RBD.CephMonitors...) &&
					!(v.RBD.ReadOnly && e.RBD.ReadOnly) {
					return true
				}
			}
		}
	}
	return false
}
