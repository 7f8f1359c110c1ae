package apps_test

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/apps"
	"skiff.dev/skiff/internal/registry/registrytest"
)

type fe = registrytest.FieldErr

var (
	ctx       = context.Background()
	checkErrs = registrytest.CheckErrors
	required  = registrytest.Required
	invalid   = registrytest.Invalid
	forbidden = registrytest.Forbidden
	notSupp   = registrytest.NotSupported
)

func ptr[T any](v T) *T { return &v }

func resource(t *testing.T, kind string) *registry.Resource {
	return registrytest.Resource(t, apps.Resources(), kind)
}

func TestResources(t *testing.T) {
	tests := []struct {
		kind, resource string
		short          []string
		status         bool
		obj, list      runtime.Object
	}{
		{"Deployment", "deployments", []string{"deploy"}, true, &appsv1.Deployment{}, &appsv1.DeploymentList{}},
		{"ReplicaSet", "replicasets", []string{"rs"}, true, &appsv1.ReplicaSet{}, &appsv1.ReplicaSetList{}},
		{"StatefulSet", "statefulsets", []string{"sts"}, true, &appsv1.StatefulSet{}, &appsv1.StatefulSetList{}},
		{"DaemonSet", "daemonsets", []string{"ds"}, true, &appsv1.DaemonSet{}, &appsv1.DaemonSetList{}},
		{"ControllerRevision", "controllerrevisions", nil, false, &appsv1.ControllerRevision{}, &appsv1.ControllerRevisionList{}},
	}
	if got := len(apps.Resources()); got != len(tests) {
		t.Fatalf("%d resources, want %d", got, len(tests))
	}
	for _, tt := range tests {
		r := resource(t, tt.kind)
		if r.GVR != appsv1.SchemeGroupVersion.WithResource(tt.resource) || r.ListKind != tt.kind+"List" || !r.Namespaced {
			t.Errorf("%s: resource = %+v", tt.kind, r)
		}
		if !apiequality.Semantic.DeepEqual(r.ShortNames, tt.short) {
			t.Errorf("%s: shortNames = %v, want %v", tt.kind, r.ShortNames, tt.short)
		}
		scalable := tt.kind == "Deployment" || tt.kind == "ReplicaSet" || tt.kind == "StatefulSet"
		if r.HasSubresource("status") != tt.status || r.HasSubresource("scale") != scalable || (r.Scale != nil) != scalable {
			t.Errorf("%s: subresources = %v, scale %v", tt.kind, r.Subresources, r.Scale != nil)
		}
		if tt.status && (len(r.Categories) != 1 || r.Categories[0] != "all") {
			t.Errorf("%s: categories = %v, want [all]", tt.kind, r.Categories)
		}
		if got := r.Strategy.New(); !sameType(got, tt.obj) {
			t.Errorf("%s: New() = %T", tt.kind, got)
		}
		if got := r.Strategy.NewList(); !sameType(got, tt.list) {
			t.Errorf("%s: NewList() = %T", tt.kind, got)
		}
	}
}

func sameType(a, b runtime.Object) bool { return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b) }

var appLabels = map[string]string{"app": "web"}

func template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}
}

// defaulted runs Default and PrepareForCreate, as the store's create does.
func defaulted[T runtime.Object](t *testing.T, s registry.Strategy, obj T) T {
	t.Helper()
	s.Default(obj)
	s.PrepareForCreate(ctx, obj)
	return obj
}

// ---- Deployment ----

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: appLabels},
			Template: template(),
		},
	}
}

func TestDeploymentDefaults(t *testing.T) {
	s := resource(t, "Deployment").Strategy
	d := defaulted(t, s, deployment())
	pct := intstr.FromString("25%")
	want := appsv1.DeploymentSpec{
		Replicas: ptr[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: appLabels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &pct, MaxSurge: &pct}},
		RevisionHistoryLimit:    ptr[int32](10),
		ProgressDeadlineSeconds: ptr[int32](600),
	}
	got := d.Spec
	got.Template = corev1.PodTemplateSpec{}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaulted spec:\n got  %+v\n want %+v", got, want)
	}
	if d.Generation != 1 {
		t.Errorf("generation = %d, want 1", d.Generation)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("template not defaulted: %+v", d.Spec.Template.Spec)
	}
	checkErrs(t, s.Validate(ctx, d))

	// Recreate gets no rollingUpdate; set values stay.
	r := deployment()
	r.Spec.Replicas = ptr[int32](0)
	r.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	r = defaulted(t, s, r)
	if r.Spec.Strategy.RollingUpdate != nil || *r.Spec.Replicas != 0 {
		t.Errorf("Recreate defaulted to %+v, replicas %d", r.Spec.Strategy, *r.Spec.Replicas)
	}
	checkErrs(t, s.Validate(ctx, r))
}

func TestDeploymentValidate(t *testing.T) {
	s := resource(t, "Deployment").Strategy
	ru := func(unavailable, surge intstr.IntOrString) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &unavailable, MaxSurge: &surge}
		}
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []fe
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr[int32](-1) }, []fe{invalid("spec.replicas")}},
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil },
			[]fe{required("spec.selector"), invalid("spec.template.metadata.labels")}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, []fe{invalid("spec.selector")}},
		{"bad selector operator", func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Like"}}}
		}, []fe{invalid("spec.selector.matchExpressions[0].operator"), invalid("spec.selector")}},
		{"selector does not match", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "db"} },
			[]fe{invalid("spec.template.metadata.labels")}},
		{"restartPolicy Never", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]fe{notSupp("spec.template.spec.restartPolicy")}},
		{"activeDeadlineSeconds", func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr[int64](5) },
			[]fe{forbidden("spec.template.spec.activeDeadlineSeconds")}},
		{"no containers", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = nil },
			[]fe{required("spec.template.spec.containers")}},
		{"both zero", ru(intstr.FromInt32(0), intstr.FromString("0%")), []fe{invalid("spec.strategy.rollingUpdate.maxUnavailable")}},
		{"surge only", ru(intstr.FromInt32(0), intstr.FromInt32(1)), nil},
		{"bad percent", ru(intstr.FromString("ten%"), intstr.FromInt32(1)), []fe{invalid("spec.strategy.rollingUpdate.maxUnavailable")}},
		{"negative surge", ru(intstr.FromInt32(1), intstr.FromInt32(-1)), []fe{invalid("spec.strategy.rollingUpdate.maxSurge")}},
		{"unavailable over 100%", ru(intstr.FromString("101%"), intstr.FromInt32(1)), []fe{invalid("spec.strategy.rollingUpdate.maxUnavailable")}},
		{"surge over 100% is fine", ru(intstr.FromInt32(1), intstr.FromString("200%")), nil},
		{"recreate with rollingUpdate", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType },
			[]fe{forbidden("spec.strategy.rollingUpdate")}},
		{"unknown strategy", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []fe{notSupp("spec.strategy")}},
		{"negative revisionHistoryLimit", func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = ptr[int32](-1) },
			[]fe{invalid("spec.revisionHistoryLimit")}},
		{"zero revisionHistoryLimit", func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = ptr[int32](0) }, nil},
		{"negative minReadySeconds", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = -1 }, []fe{invalid("spec.minReadySeconds")}},
		{"deadline not above minReady", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = 600 },
			[]fe{invalid("spec.progressDeadlineSeconds")}},
		{"negative deadline", func(d *appsv1.Deployment) { d.Spec.ProgressDeadlineSeconds = ptr[int32](-1) },
			[]fe{invalid("spec.progressDeadlineSeconds"), invalid("spec.progressDeadlineSeconds")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := defaulted(t, s, deployment())
			tt.mutate(d)
			checkErrs(t, s.Validate(ctx, d), tt.want...)
		})
	}
}

func TestDeploymentUpdate(t *testing.T) {
	s := resource(t, "Deployment").Strategy
	old := defaulted(t, s, deployment())
	old.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, ObservedGeneration: 1}

	t.Run("main resource keeps status, bumps generation on spec change", func(t *testing.T) {
		d := old.DeepCopy()
		d.Status = appsv1.DeploymentStatus{}
		d.Spec.Replicas = ptr[int32](3)
		s.PrepareForUpdate(ctx, d, old, "")
		if d.Status.Replicas != 1 || d.Generation != 2 {
			t.Errorf("status %+v, generation %d", d.Status, d.Generation)
		}
		checkErrs(t, s.ValidateUpdate(ctx, d, old))
	})
	t.Run("label change keeps generation, annotation change bumps it", func(t *testing.T) {
		d := old.DeepCopy()
		d.Labels = map[string]string{"x": "y"}
		s.PrepareForUpdate(ctx, d, old, "")
		if d.Generation != 1 {
			t.Errorf("generation = %d, want 1", d.Generation)
		}
		d.Annotations = map[string]string{"x": "y"}
		s.PrepareForUpdate(ctx, d, old, "")
		if d.Generation != 2 {
			t.Errorf("generation = %d, want 2", d.Generation)
		}
	})
	t.Run("status keeps spec and metadata", func(t *testing.T) {
		d := old.DeepCopy()
		d.Spec.Replicas = ptr[int32](9)
		d.Labels = map[string]string{"x": "y"}
		d.Status = appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 2, ObservedGeneration: 1}
		s.PrepareForUpdate(ctx, d, old, "status")
		if *d.Spec.Replicas != 1 || d.Labels != nil || d.Status.Replicas != 2 || d.Generation != 1 {
			t.Errorf("after status write: %+v", d)
		}
		checkErrs(t, s.ValidateUpdate(ctx, d, old))
	})
	t.Run("selector immutable", func(t *testing.T) {
		d := old.DeepCopy()
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
		checkErrs(t, s.ValidateUpdate(ctx, d, old), invalid("spec.selector"))
	})
	t.Run("status rules", func(t *testing.T) {
		o := old.DeepCopy()
		o.Status.CollisionCount = ptr[int32](2)
		d := o.DeepCopy()
		d.Status = appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 2,
			UnavailableReplicas: -1, ObservedGeneration: -1, CollisionCount: ptr[int32](1)}
		checkErrs(t, s.ValidateUpdate(ctx, d, o),
			invalid("status.updatedReplicas"), invalid("status.availableReplicas"), invalid("status.availableReplicas"),
			invalid("status.unavailableReplicas"), invalid("status.observedGeneration"), invalid("status.collisionCount"))
	})
}

// ---- ReplicaSet ----

func replicaSet() *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f", Namespace: "default"},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: appLabels}, Template: template()},
	}
}

func TestReplicaSet(t *testing.T) {
	s := resource(t, "ReplicaSet").Strategy
	rs := defaulted(t, s, replicaSet())
	if *rs.Spec.Replicas != 1 || rs.Generation != 1 || rs.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("defaulted: %+v", rs)
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   []fe
	}{
		{"valid", func(*appsv1.ReplicaSet) {}, nil},
		{"negative replicas", func(r *appsv1.ReplicaSet) { r.Spec.Replicas = ptr[int32](-2) }, []fe{invalid("spec.replicas")}},
		{"negative minReadySeconds", func(r *appsv1.ReplicaSet) { r.Spec.MinReadySeconds = -1 }, []fe{invalid("spec.minReadySeconds")}},
		{"empty selector", func(r *appsv1.ReplicaSet) { r.Spec.Selector = &metav1.LabelSelector{} }, []fe{invalid("spec.selector")}},
		{"mismatch", func(r *appsv1.ReplicaSet) { r.Spec.Template.Labels = nil }, []fe{invalid("spec.template.metadata.labels")}},
		{"restartPolicy OnFailure", func(r *appsv1.ReplicaSet) { r.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			[]fe{notSupp("spec.template.spec.restartPolicy")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs.DeepCopy()
			tt.mutate(r)
			checkErrs(t, s.Validate(ctx, r), tt.want...)
		})
	}

	old := rs.DeepCopy()
	old.Status = appsv1.ReplicaSetStatus{Replicas: 1}
	up := old.DeepCopy()
	up.Spec.Replicas = ptr[int32](4)
	up.Status = appsv1.ReplicaSetStatus{}
	s.PrepareForUpdate(ctx, up, old, "")
	if up.Generation != 2 || up.Status.Replicas != 1 {
		t.Errorf("update: generation %d, status %+v", up.Generation, up.Status)
	}
	up = old.DeepCopy()
	up.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
	checkErrs(t, s.ValidateUpdate(ctx, up, old), invalid("spec.selector"))

	st := old.DeepCopy()
	st.Spec.Replicas = ptr[int32](7)
	st.Status = appsv1.ReplicaSetStatus{Replicas: 1, ReadyReplicas: 2, FullyLabeledReplicas: -1}
	s.PrepareForUpdate(ctx, st, old, "status")
	if *st.Spec.Replicas != 1 || st.Generation != 1 {
		t.Errorf("status write changed spec: %+v", st)
	}
	checkErrs(t, s.ValidateUpdate(ctx, st, old), invalid("status.readyReplicas"), invalid("status.fullyLabeledReplicas"))

	if f := s.SelectableFields(old); f["status.replicas"] != "1" {
		t.Errorf("SelectableFields = %v", f)
	}
}

// ---- StatefulSet ----

func statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: appLabels},
			Template: template(),
		},
	}
}

func TestStatefulSetDefaults(t *testing.T) {
	s := resource(t, "StatefulSet").Strategy
	ss := defaulted(t, s, statefulSet())
	want := appsv1.StatefulSetSpec{
		Replicas:            ptr[int32](1),
		Selector:            &metav1.LabelSelector{MatchLabels: appLabels},
		PodManagementPolicy: appsv1.OrderedReadyPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr[int32](0)}},
		RevisionHistoryLimit: ptr[int32](10),
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType},
	}
	got := ss.Spec
	got.Template = corev1.PodTemplateSpec{}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaulted spec:\n got  %+v\n want %+v", got, want)
	}
	if ss.Generation != 1 {
		t.Errorf("generation = %d", ss.Generation)
	}
	checkErrs(t, s.Validate(ctx, ss))

	// An explicit RollingUpdate without rollingUpdate stays without one.
	ex := statefulSet()
	ex.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	ex = defaulted(t, s, ex)
	if ex.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("rollingUpdate = %+v, want nil", ex.Spec.UpdateStrategy.RollingUpdate)
	}
}

func TestStatefulSetValidate(t *testing.T) {
	s := resource(t, "StatefulSet").Strategy
	tests := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []fe
	}{
		{"valid", func(*appsv1.StatefulSet) {}, nil},
		{"serviceName optional", func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "db" }, nil},
		{"bad podManagementPolicy", func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = "Random" }, []fe{invalid("spec.podManagementPolicy")}},
		{"bad updateStrategy", func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.Type = "Rolling" }, []fe{invalid("spec.updateStrategy")}},
		{"OnDelete with rollingUpdate", func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType },
			[]fe{invalid("spec.updateStrategy.rollingUpdate")}},
		{"negative partition", func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr[int32](-1) },
			[]fe{invalid("spec.updateStrategy.rollingUpdate.partition")}},
		{"zero maxUnavailable", func(ss *appsv1.StatefulSet) {
			v := intstr.FromInt32(0)
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &v
		}, []fe{invalid("spec.updateStrategy.rollingUpdate.maxUnavailable")}},
		{"bad retention", func(ss *appsv1.StatefulSet) { ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = "Keep" },
			[]fe{notSupp("spec.persistentVolumeClaimRetentionPolicy.whenScaled")}},
		{"negative replicas", func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = ptr[int32](-1) }, []fe{invalid("spec.replicas")}},
		{"negative minReadySeconds", func(ss *appsv1.StatefulSet) { ss.Spec.MinReadySeconds = -1 }, []fe{invalid("spec.minReadySeconds")}},
		{"negative ordinals", func(ss *appsv1.StatefulSet) { ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: -1} },
			[]fe{invalid("spec.ordinals.start")}},
		{"no selector", func(ss *appsv1.StatefulSet) { ss.Spec.Selector = nil },
			[]fe{required("spec.selector"), invalid("spec.template.metadata.labels")}},
		{"empty selector", func(ss *appsv1.StatefulSet) { ss.Spec.Selector = &metav1.LabelSelector{} }, []fe{invalid("spec.selector")}},
		{"mismatch", func(ss *appsv1.StatefulSet) { ss.Spec.Template.Labels = map[string]string{"app": "db"} },
			[]fe{invalid("spec.template.metadata.labels")}},
		{"restartPolicy Never", func(ss *appsv1.StatefulSet) { ss.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]fe{notSupp("spec.template.spec.restartPolicy")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := defaulted(t, s, statefulSet())
			tt.mutate(ss)
			checkErrs(t, s.Validate(ctx, ss), tt.want...)
		})
	}
	for name, ok := range map[string]bool{"db": true, "db.example": false, "Db": false} {
		if errs := s.ValidateName(name, false); (len(errs) == 0) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, errs, ok)
		}
	}
}

func TestStatefulSetUpdate(t *testing.T) {
	s := resource(t, "StatefulSet").Strategy
	old := defaulted(t, s, statefulSet())
	tests := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []fe
	}{
		{"replicas", func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = ptr[int32](3) }, nil},
		{"template", func(ss *appsv1.StatefulSet) { ss.Spec.Template.Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"updateStrategy", func(ss *appsv1.StatefulSet) {
			ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		}, nil},
		{"retention", func(ss *appsv1.StatefulSet) {
			ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
		}, nil},
		{"minReadySeconds", func(ss *appsv1.StatefulSet) { ss.Spec.MinReadySeconds = 5 }, nil},
		{"ordinals", func(ss *appsv1.StatefulSet) { ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 3} }, nil},
		{"serviceName", func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "other" }, []fe{forbidden("spec")}},
		{"podManagementPolicy", func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }, []fe{forbidden("spec")}},
		{"selector", func(ss *appsv1.StatefulSet) { ss.Spec.Selector.MatchLabels = map[string]string{"tier": "front"} }, []fe{forbidden("spec")}},
		{"volumeClaimTemplates", func(ss *appsv1.StatefulSet) {
			ss.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
		}, []fe{forbidden("spec")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := old.DeepCopy()
			tt.mutate(ss)
			s.PrepareForUpdate(ctx, ss, old, "")
			if ss.Generation != 2 {
				t.Errorf("generation = %d, want 2", ss.Generation)
			}
			checkErrs(t, s.ValidateUpdate(ctx, ss, old), tt.want...)
		})
	}
	st := old.DeepCopy()
	st.Spec.ServiceName = "changed"
	st.Status = appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, CurrentReplicas: 2}
	s.PrepareForUpdate(ctx, st, old, "status")
	if st.Spec.ServiceName != "" || st.Generation != 1 {
		t.Errorf("status write changed spec: %+v", st.Spec)
	}
	checkErrs(t, s.ValidateUpdate(ctx, st, old), invalid("status.currentReplicas"))
}

// ---- DaemonSet ----

func daemonSet() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: appLabels}, Template: template()},
	}
}

func TestDaemonSetDefaults(t *testing.T) {
	s := resource(t, "DaemonSet").Strategy
	ds := defaulted(t, s, daemonSet())
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	want := appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: appLabels},
		UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &zero}},
		RevisionHistoryLimit: ptr[int32](10),
	}
	got := ds.Spec
	got.Template = corev1.PodTemplateSpec{}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaulted spec:\n got  %+v\n want %+v", got, want)
	}
	if ds.Generation != 1 || ds.Annotations["deprecated.daemonset.template.generation"] != "1" {
		t.Errorf("generation %d, annotations %v", ds.Generation, ds.Annotations)
	}
	checkErrs(t, s.Validate(ctx, ds))

	od := daemonSet()
	od.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	od = defaulted(t, s, od)
	if od.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("OnDelete got rollingUpdate %+v", od.Spec.UpdateStrategy.RollingUpdate)
	}
	checkErrs(t, s.Validate(ctx, od))
}

func TestDaemonSetValidate(t *testing.T) {
	s := resource(t, "DaemonSet").Strategy
	ru := func(unavailable, surge intstr.IntOrString) func(*appsv1.DaemonSet) {
		return func(d *appsv1.DaemonSet) {
			d.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &unavailable, MaxSurge: &surge}
		}
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		want   []fe
	}{
		{"valid", func(*appsv1.DaemonSet) {}, nil},
		{"no selector", func(d *appsv1.DaemonSet) { d.Spec.Selector = nil }, []fe{invalid("spec.template.metadata.labels")}},
		{"empty selector", func(d *appsv1.DaemonSet) { d.Spec.Selector = &metav1.LabelSelector{} }, []fe{invalid("spec.selector")}},
		{"mismatch", func(d *appsv1.DaemonSet) { d.Spec.Template.Labels = nil }, []fe{invalid("spec.template.metadata.labels")}},
		{"restartPolicy", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			[]fe{notSupp("spec.template.spec.restartPolicy")}},
		{"negative minReadySeconds", func(d *appsv1.DaemonSet) { d.Spec.MinReadySeconds = -1 }, []fe{invalid("spec.minReadySeconds")}},
		{"negative revisionHistoryLimit", func(d *appsv1.DaemonSet) { d.Spec.RevisionHistoryLimit = ptr[int32](-1) },
			[]fe{invalid("spec.revisionHistoryLimit")}},
		{"unknown strategy", func(d *appsv1.DaemonSet) { d.Spec.UpdateStrategy.Type = "Blue" }, []fe{notSupp("spec.updateStrategy")}},
		{"rolling without rollingUpdate", func(d *appsv1.DaemonSet) { d.Spec.UpdateStrategy.RollingUpdate = nil },
			[]fe{required("spec.updateStrategy.rollingUpdate")}},
		{"both zero", ru(intstr.FromInt32(0), intstr.FromString("0%")), []fe{required("spec.updateStrategy.rollingUpdate.maxUnavailable")}},
		{"both set", ru(intstr.FromInt32(1), intstr.FromInt32(1)), []fe{invalid("spec.updateStrategy.rollingUpdate.maxSurge")}},
		{"surge only", ru(intstr.FromInt32(0), intstr.FromString("10%")), nil},
		{"over 100%", ru(intstr.FromString("150%"), intstr.FromInt32(0)), []fe{invalid("spec.updateStrategy.rollingUpdate.maxUnavailable")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := defaulted(t, s, daemonSet())
			tt.mutate(ds)
			checkErrs(t, s.Validate(ctx, ds), tt.want...)
		})
	}
}

func TestDaemonSetUpdate(t *testing.T) {
	s := resource(t, "DaemonSet").Strategy
	old := defaulted(t, s, daemonSet())
	gen := func(ds *appsv1.DaemonSet) string { return ds.Annotations["deprecated.daemonset.template.generation"] }

	tmpl := old.DeepCopy()
	tmpl.Annotations = nil
	tmpl.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
	s.PrepareForUpdate(ctx, tmpl, old, "")
	if tmpl.Generation != 2 || gen(tmpl) != "2" {
		t.Errorf("template change: generation %d, template generation %q", tmpl.Generation, gen(tmpl))
	}
	checkErrs(t, s.ValidateUpdate(ctx, tmpl, old))

	other := old.DeepCopy()
	other.Spec.MinReadySeconds = 3
	s.PrepareForUpdate(ctx, other, old, "")
	if other.Generation != 2 || gen(other) != "1" {
		t.Errorf("spec change: generation %d, template generation %q", other.Generation, gen(other))
	}

	sel := old.DeepCopy()
	sel.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
	checkErrs(t, s.ValidateUpdate(ctx, sel, old), invalid("spec.selector"))

	st := old.DeepCopy()
	st.Spec.MinReadySeconds = 9
	st.Status = appsv1.DaemonSetStatus{NumberReady: -1}
	s.PrepareForUpdate(ctx, st, old, "status")
	if st.Spec.MinReadySeconds != 0 || st.Generation != 1 {
		t.Errorf("status write changed spec: %+v", st.Spec)
	}
	checkErrs(t, s.ValidateUpdate(ctx, st, old), invalid("status.numberReady"))
}

// ---- ControllerRevision ----

func TestControllerRevision(t *testing.T) {
	s := resource(t, "ControllerRevision").Strategy
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "db-7c9f", Namespace: "default"},
		Data:       runtime.RawExtension{Raw: []byte(`{"spec":{}}`)},
		Revision:   1,
	}
	checkErrs(t, s.Validate(ctx, cr))
	bad := cr.DeepCopy()
	bad.Data = runtime.RawExtension{}
	bad.Revision = -1
	checkErrs(t, s.Validate(ctx, bad), required("data"), invalid("revision"))

	up := cr.DeepCopy()
	up.Revision = 3
	checkErrs(t, s.ValidateUpdate(ctx, up, cr))
	up.Data = runtime.RawExtension{Raw: []byte(`{"spec":{"x":1}}`)}
	checkErrs(t, s.ValidateUpdate(ctx, up, cr), invalid("data"))

	c := cr.DeepCopy()
	s.Default(c)
	s.PrepareForCreate(ctx, c)
	if c.Generation != 0 {
		t.Errorf("generation = %d, want none", c.Generation)
	}
}
