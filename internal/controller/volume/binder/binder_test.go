package binder

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	rwo = corev1.ReadWriteOnce
	rwx = corev1.ReadWriteMany
)

func claim(name, size, class string, mutate ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{rwo},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
	if class != "-" {
		c.Spec.StorageClassName = &class
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func volume(name, size, class string, mutate ...func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
	v := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{rwo},
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}
	for _, m := range mutate {
		m(v)
	}
	return v
}

func claimRef(c *corev1.PersistentVolumeClaim, withUID bool) func(*corev1.PersistentVolume) {
	return func(v *corev1.PersistentVolume) {
		v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: c.Namespace, Name: c.Name}
		if withUID {
			v.Spec.ClaimRef.UID = c.UID
		}
	}
}

func onNode(node string) func(*corev1.PersistentVolume) {
	return func(v *corev1.PersistentVolume) {
		v.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}}}
	}
}

func node(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
}

func TestFindBestMatch(t *testing.T) {
	target := claim("c", "5Gi", "fast")
	block := corev1.PersistentVolumeBlock
	tests := []struct {
		name    string
		claim   *corev1.PersistentVolumeClaim
		volumes []*corev1.PersistentVolume
		delay   bool
		node    *corev1.Node
		want    string
	}{
		{"none", target, nil, false, nil, ""},
		{"smallest that fits", target, []*corev1.PersistentVolume{
			volume("big", "100Gi", "fast"), volume("small", "1Gi", "fast"), volume("right", "5Gi", "fast"), volume("bigger", "10Gi", "fast"),
		}, false, nil, "right"},
		{"equal sizes: by name", target, []*corev1.PersistentVolume{volume("b", "5Gi", "fast"), volume("a", "5Gi", "fast")}, false, nil, "a"},
		{"other class", target, []*corev1.PersistentVolume{volume("v", "5Gi", "slow")}, false, nil, ""},
		{"no class matches no class", claim("c", "1Gi", ""), []*corev1.PersistentVolume{volume("v", "5Gi", "fast"), volume("w", "5Gi", "")}, false, nil, "w"},
		{"beta class annotation wins", claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "slow"}
		}), []*corev1.PersistentVolume{volume("v", "5Gi", "fast"), volume("w", "5Gi", "slow")}, false, nil, "w"},
		{"access modes", claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{rwo, rwx}
		}), []*corev1.PersistentVolume{volume("rwo", "1Gi", "fast"), volume("both", "2Gi", "fast", func(v *corev1.PersistentVolume) {
			v.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{rwx, rwo}
		})}, false, nil, "both"},
		{"volume mode", claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeMode = &block }),
			[]*corev1.PersistentVolume{volume("fs", "1Gi", "fast"), volume("blk", "1Gi", "fast", func(v *corev1.PersistentVolume) { v.Spec.VolumeMode = &block })}, false, nil, "blk"},
		{"selector", claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}
		}), []*corev1.PersistentVolume{volume("plain", "1Gi", "fast"), volume("gold", "9Gi", "fast", func(v *corev1.PersistentVolume) { v.Labels["tier"] = "gold" })}, false, nil, "gold"},
		{"not available", target, []*corev1.PersistentVolume{volume("v", "5Gi", "fast", func(v *corev1.PersistentVolume) { v.Status.Phase = corev1.VolumeReleased })}, false, nil, ""},
		{"being deleted", target, []*corev1.PersistentVolume{volume("v", "5Gi", "fast", func(v *corev1.PersistentVolume) { v.DeletionTimestamp = &metav1.Time{} })}, false, nil, ""},
		{"pre-bound to another claim", target, []*corev1.PersistentVolume{volume("v", "5Gi", "fast", claimRef(claim("other", "1Gi", "fast"), false))}, false, nil, ""},
		{"pre-bound to it wins over a better fit", target, []*corev1.PersistentVolume{
			volume("fit", "5Gi", "fast"), volume("mine", "50Gi", "fast", claimRef(target, false)),
		}, false, nil, "mine"},
		{"pre-bound with its UID", target, []*corev1.PersistentVolume{volume("mine", "5Gi", "fast", claimRef(target, true), func(v *corev1.PersistentVolume) { v.Status.Phase = corev1.VolumeBound })}, false, nil, "mine"},
		{"delayed, no node: only pre-bound", target, []*corev1.PersistentVolume{volume("v", "5Gi", "fast")}, true, nil, ""},
		{"delayed, pre-bound", target, []*corev1.PersistentVolume{volume("v", "5Gi", "fast", claimRef(target, true))}, true, nil, "v"},
		{"delayed with node: affinity", target, []*corev1.PersistentVolume{
			volume("a", "5Gi", "fast", onNode("n1")), volume("b", "6Gi", "fast", onNode("n2")), volume("c", "7Gi", "fast"),
		}, true, node("n2"), "b"},
		{"pre-bound on another node", target, []*corev1.PersistentVolume{volume("v", "5Gi", "fast", claimRef(target, true), onNode("n1"))}, true, node("n2"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindBestMatch(tt.claim, tt.volumes, tt.delay, tt.node)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tt.want {
				t.Errorf("FindBestMatch = %q, want %q", name, tt.want)
			}
		})
	}
}

func TestSyncClaim(t *testing.T) {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	immediate := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "example.com/fast"}
	delayed := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local-path"}, Provisioner: "rancher.io/local-path", VolumeBindingMode: &wait}
	bound := func(vol string) func(*corev1.PersistentVolumeClaim) {
		return func(c *corev1.PersistentVolumeClaim) {
			c.Spec.VolumeName = vol
			c.Annotations = map[string]string{AnnBindCompleted: "yes"}
		}
	}
	c := claim("c", "5Gi", "fast")
	tests := []struct {
		name     string
		claim    *corev1.PersistentVolumeClaim
		volumes  []*corev1.PersistentVolume
		class    *storagev1.StorageClass
		node     *corev1.Node
		bind     string
		phase    corev1.PersistentVolumeClaimPhase
		prov     string
		reason   string
		onChange bool
	}{
		{name: "matches", claim: c, volumes: []*corev1.PersistentVolume{volume("v", "5Gi", "fast")}, class: immediate, bind: "v"},
		{name: "provision", claim: c, class: immediate, phase: corev1.ClaimPending, prov: "example.com/fast", reason: ReasonExternalProvisioning},
		{name: "class missing", claim: c, phase: corev1.ClaimPending, reason: ReasonProvisioningFailed},
		{name: "no class, no volume", claim: claim("c", "1Gi", ""), phase: corev1.ClaimPending, reason: ReasonFailedBinding},
		{name: "wait for first consumer", claim: claim("c", "1Gi", "local-path"), class: delayed,
			volumes: []*corev1.PersistentVolume{volume("v", "5Gi", "local-path")}, phase: corev1.ClaimPending, reason: ReasonWaitForFirstConsumer},
		{name: "node selected: provision", claim: claim("c", "1Gi", "local-path", func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{AnnSelectedNode: "n1"}
		}), class: delayed, node: node("n1"), volumes: []*corev1.PersistentVolume{volume("v", "5Gi", "local-path", onNode("n2"))},
			phase: corev1.ClaimPending, prov: "rancher.io/local-path", reason: ReasonExternalProvisioning},
		{name: "node selected: static volume there", claim: claim("c", "1Gi", "local-path", func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{AnnSelectedNode: "n1"}
		}), class: delayed, node: node("n1"), volumes: []*corev1.PersistentVolume{volume("v", "5Gi", "local-path", onNode("n1"))}, bind: "v"},
		{name: "names a volume", claim: claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "v" }),
			volumes: []*corev1.PersistentVolume{volume("v", "1Gi", "fast")}, class: immediate, bind: "v"},
		{name: "names a missing volume", claim: claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "v" }),
			class: immediate, phase: corev1.ClaimPending},
		{name: "names a too small volume", claim: claim("c", "10Gi", "fast", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "v" }),
			volumes: []*corev1.PersistentVolume{volume("v", "1Gi", "fast")}, class: immediate, phase: corev1.ClaimPending, reason: ReasonVolumeMismatch},
		{name: "names a volume of another claim", claim: claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "v" }),
			volumes: []*corev1.PersistentVolume{volume("v", "1Gi", "fast", claimRef(claim("other", "1Gi", "fast"), true))}, class: immediate, phase: corev1.ClaimPending},
		{name: "bound: all well", claim: claim("c", "1Gi", "fast", bound("v")),
			volumes: []*corev1.PersistentVolume{volume("v", "1Gi", "fast", claimRef(claim("c", "1Gi", "fast"), true))}, bind: "v"},
		{name: "bound: volume lost its claimRef", claim: claim("c", "1Gi", "fast", bound("v")),
			volumes: []*corev1.PersistentVolume{volume("v", "1Gi", "fast")}, bind: "v"},
		{name: "bound: volume gone", claim: claim("c", "1Gi", "fast", bound("v")), phase: corev1.ClaimLost, reason: ReasonClaimLost, onChange: true},
		{name: "bound: volumeName cleared", claim: claim("c", "1Gi", "fast", bound("")), phase: corev1.ClaimLost, reason: ReasonClaimLost, onChange: true},
		{name: "bound: misbound", claim: claim("c", "1Gi", "fast", bound("v")),
			volumes: []*corev1.PersistentVolume{volume("v", "1Gi", "fast", claimRef(claim("other", "1Gi", "fast"), true))}, phase: corev1.ClaimLost, reason: ReasonClaimMisbound, onChange: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byName := map[string]*corev1.PersistentVolume{}
			for _, v := range tt.volumes {
				byName[v.Name] = v
			}
			p := SyncClaim(ClaimInput{Claim: tt.claim, Volume: func(n string) *corev1.PersistentVolume { return byName[n] },
				Volumes: tt.volumes, Class: tt.class, Node: tt.node})
			bind := ""
			if p.Bind != nil {
				bind = p.Bind.Name
			}
			reason := ""
			if p.Event != nil {
				reason = p.Event.Reason
			}
			if bind != tt.bind || p.Phase != tt.phase || p.Provisioner != tt.prov || reason != tt.reason || p.OnPhaseChange != tt.onChange {
				t.Errorf("SyncClaim = bind %q phase %q provisioner %q event %q onChange %v, want %q %q %q %q %v",
					bind, p.Phase, p.Provisioner, reason, p.OnPhaseChange, tt.bind, tt.phase, tt.prov, tt.reason, tt.onChange)
			}
		})
	}
}

func TestSyncVolume(t *testing.T) {
	c := claim("c", "1Gi", "fast")
	boundTo := func(vol string) *corev1.PersistentVolumeClaim {
		b := c.DeepCopy()
		b.Spec.VolumeName = vol
		return b
	}
	annotate := func(k, v string) func(*corev1.PersistentVolume) {
		return func(pv *corev1.PersistentVolume) { metav1.SetMetaDataAnnotation(&pv.ObjectMeta, k, v) }
	}
	policy := func(p corev1.PersistentVolumeReclaimPolicy) func(*corev1.PersistentVolume) {
		return func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeReclaimPolicy = p }
	}
	failed := func(pv *corev1.PersistentVolume) { pv.Status.Phase = corev1.VolumeFailed }
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		claim  *corev1.PersistentVolumeClaim
		phase  corev1.PersistentVolumePhase
		action VolumeAction
		reason string
	}{
		{"unused", volume("v", "1Gi", "fast"), nil, corev1.VolumeAvailable, VolumeNone, ""},
		{"pre-bound by name", volume("v", "1Gi", "fast", claimRef(c, false)), nil, corev1.VolumeAvailable, VolumeNone, ""},
		{"claim not bound yet", volume("v", "1Gi", "fast", claimRef(c, true)), c, "", VolumeSyncClaim, ""},
		{"bound", volume("v", "1Gi", "fast", claimRef(c, true)), boundTo("v"), corev1.VolumeBound, VolumeNone, ""},
		{"claim gone, Retain", volume("v", "1Gi", "fast", claimRef(c, true)), nil, corev1.VolumeReleased, VolumeNone, ""},
		{"claim replaced by a namesake", volume("v", "1Gi", "fast", claimRef(c, true)), func() *corev1.PersistentVolumeClaim {
			n := c.DeepCopy()
			n.UID = "new"
			return n
		}(), corev1.VolumeReleased, VolumeNone, ""},
		{"claim gone, Delete, provisioned", volume("v", "1Gi", "fast", claimRef(c, true), policy(corev1.PersistentVolumeReclaimDelete),
			annotate(AnnDynamicallyProvisioned, "rancher.io/local-path")), nil, corev1.VolumeReleased, VolumeNone, ""},
		{"claim gone, Delete, static", volume("v", "1Gi", "fast", claimRef(c, true), policy(corev1.PersistentVolumeReclaimDelete)), nil,
			corev1.VolumeFailed, VolumeNone, ReasonVolumeFailedDelete},
		{"claim gone, Recycle", volume("v", "1Gi", "fast", claimRef(c, true), policy(corev1.PersistentVolumeReclaimRecycle)), nil,
			corev1.VolumeFailed, VolumeNone, ReasonVolumeFailedRecycle},
		{"claim gone, Failed stays", volume("v", "1Gi", "fast", claimRef(c, true), failed), nil, "", VolumeNone, ""},
		{"claim bound elsewhere, by controller", volume("v", "1Gi", "fast", claimRef(c, true), annotate(AnnBoundByController, "yes")), boundTo("w"),
			corev1.VolumeAvailable, VolumeUnbind, ""},
		{"claim bound elsewhere, by user", volume("v", "1Gi", "fast", claimRef(c, true)), boundTo("w"), corev1.VolumeAvailable, VolumeUnbindUID, ""},
		{"claim bound elsewhere, provisioned for it", volume("v", "1Gi", "fast", claimRef(c, true), policy(corev1.PersistentVolumeReclaimDelete),
			annotate(AnnDynamicallyProvisioned, "rancher.io/local-path")), boundTo("w"), corev1.VolumeReleased, VolumeNone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := SyncVolume(tt.volume, tt.claim)
			reason := ""
			if p.Event != nil {
				reason = p.Event.Reason
			}
			if p.Phase != tt.phase || p.Action != tt.action || reason != tt.reason {
				t.Errorf("SyncVolume = phase %q action %v event %q, want %q %v %q", p.Phase, p.Action, reason, tt.phase, tt.action, tt.reason)
			}
		})
	}
}

func TestBindWrites(t *testing.T) {
	c := claim("c", "1Gi", "fast")
	v := volume("v", "5Gi", "fast")

	bv, changed := BindVolume(v, c)
	if !changed || bv.Spec.ClaimRef == nil || bv.Spec.ClaimRef.UID != c.UID || bv.Annotations[AnnBoundByController] != "yes" {
		t.Fatalf("BindVolume = %+v, %v", bv, changed)
	}
	if v.Spec.ClaimRef != nil {
		t.Fatal("BindVolume modified its argument")
	}
	if _, changed := BindVolume(bv, c); changed {
		t.Error("BindVolume of a bound volume changed it")
	}
	// A user's pre-binding is completed without claiming it for the controller.
	pre := volume("v", "5Gi", "fast", claimRef(c, false))
	if bp, _ := BindVolume(pre, c); bp.Annotations[AnnBoundByController] != "" || bp.Spec.ClaimRef.UID != c.UID {
		t.Errorf("BindVolume of a pre-bound volume = %+v", bp)
	}

	bc, changed := BindClaim(c, bv)
	if !changed || bc.Spec.VolumeName != "v" || bc.Annotations[AnnBindCompleted] != "yes" || bc.Annotations[AnnBoundByController] != "yes" {
		t.Fatalf("BindClaim = %+v, %v", bc, changed)
	}
	if _, changed := BindClaim(bc, bv); changed {
		t.Error("BindClaim of a bound claim changed it")
	}
	named := claim("c", "1Gi", "fast", func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "v" })
	if bn, _ := BindClaim(named, bv); bn.Annotations[AnnBoundByController] != "" {
		t.Error("a claim naming its volume got bound-by-controller")
	}

	sc, changed := ClaimStatus(bc, corev1.ClaimBound, bv)
	if q := sc.Status.Capacity[corev1.ResourceStorage]; !changed || sc.Status.Phase != corev1.ClaimBound || q.String() != "5Gi" || len(sc.Status.AccessModes) != 1 {
		t.Fatalf("ClaimStatus = %+v, %v", sc.Status, changed)
	}
	if _, changed := ClaimStatus(sc, corev1.ClaimBound, bv); changed {
		t.Error("ClaimStatus changed an up-to-date claim")
	}

	vp, changed := VolumePhase(bv, corev1.VolumeBound, "")
	if !changed || vp.Status.Phase != corev1.VolumeBound || vp.Status.LastPhaseTransitionTime == nil {
		t.Fatalf("VolumePhase = %+v, %v", vp.Status, changed)
	}

	byCtrl := UnbindVolume(bv)
	if byCtrl.Spec.ClaimRef != nil || byCtrl.Annotations[AnnBoundByController] != "" {
		t.Errorf("UnbindVolume of a controller binding = %+v", byCtrl.Spec.ClaimRef)
	}
	bp, _ := BindVolume(pre, c)
	byUser := UnbindVolume(bp)
	if byUser.Spec.ClaimRef == nil || byUser.Spec.ClaimRef.Name != "c" || byUser.Spec.ClaimRef.UID != "" {
		t.Errorf("UnbindVolume of a user's pre-binding = %+v", byUser.Spec.ClaimRef)
	}
}

func TestCheckVolumeSatisfiesClaim(t *testing.T) {
	c := claim("c", "5Gi", "fast")
	tests := []struct {
		volume *corev1.PersistentVolume
		want   string
	}{
		{volume("v", "5Gi", "fast"), ""},
		{volume("v", "1Gi", "fast"), "requested PV is too small"},
		{volume("v", "5Gi", "slow"), "storageClassName does not match"},
		{volume("v", "5Gi", "fast", func(v *corev1.PersistentVolume) { v.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{rwx} }), "incompatible accessMode"},
	}
	for _, tt := range tests {
		err := CheckVolumeSatisfiesClaim(tt.volume, c)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckVolumeSatisfiesClaim(%s %s) = %q, want %q", tt.volume.Spec.StorageClassName, tt.volume.Spec.Capacity.Storage(), got, tt.want)
		}
	}
}
