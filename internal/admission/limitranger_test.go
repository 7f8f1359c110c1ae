package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func limitRange(name string, items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func TestLimitRangerDefaults(t *testing.T) {
	defaults := limitRange("defaults", corev1.LimitRangeItem{
		Type:           corev1.LimitTypeContainer,
		Default:        rl("cpu=500m", "memory=256Mi"),
		DefaultRequest: rl("cpu=100m", "memory=128Mi"),
	})
	tests := []struct {
		name           string
		pod            *corev1.Pod
		wantAnnotation string
		want           map[string]corev1.ResourceRequirements // by container name
	}{{
		name:           "all filled in",
		pod:            newPod("web"),
		wantAnnotation: "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app",
		want: map[string]corev1.ResourceRequirements{
			"app": {Requests: rl("cpu=100m", "memory=128Mi"), Limits: rl("cpu=500m", "memory=256Mi")},
		},
	}, {
		name:           "own values kept",
		pod:            newPod("web", withResources(0, rl("cpu=200m"), rl("cpu=300m", "memory=1Gi"))),
		wantAnnotation: "LimitRanger plugin set: memory request for container app",
		want: map[string]corev1.ResourceRequirements{
			"app": {Requests: rl("cpu=200m", "memory=128Mi"), Limits: rl("cpu=300m", "memory=1Gi")},
		},
	}, {
		name: "nothing to set: no annotation",
		pod:  newPod("web", withResources(0, rl("cpu=1", "memory=1Gi"), rl("cpu=1", "memory=1Gi"))),
		want: map[string]corev1.ResourceRequirements{
			"app": {Requests: rl("cpu=1", "memory=1Gi"), Limits: rl("cpu=1", "memory=1Gi")},
		},
	}, {
		// Upstream merges regular containers first, then init containers.
		name: "init containers named as such, after the containers",
		pod:  newPod("web", withInit("setup"), withResources(0, rl("cpu=1", "memory=1Gi"), rl("cpu=1"))),
		wantAnnotation: "LimitRanger plugin set: memory limit for container app; " +
			"cpu, memory request for init container setup; cpu, memory limit for init container setup",
		want: map[string]corev1.ResourceRequirements{
			"app":   {Requests: rl("cpu=1", "memory=1Gi"), Limits: rl("cpu=1", "memory=256Mi")},
			"setup": {Requests: rl("cpu=100m", "memory=128Mi"), Limits: rl("cpu=500m", "memory=256Mi")},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader(defaults, &corev1.LimitRange{
				ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "other"},
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
					Type: corev1.LimitTypeContainer, Default: rl("nvidia.com/gpu=1"),
				}}},
			})
			if err := (LimitRanger{r}).Admit(context.Background(), create(podsResource, tt.pod)); err != nil {
				t.Fatal(err)
			}
			if got := tt.pod.Annotations["kubernetes.io/limit-ranger"]; got != tt.wantAnnotation {
				t.Errorf("annotation\n got %q\nwant %q", got, tt.wantAnnotation)
			}
			for _, c := range append(tt.pod.Spec.Containers, tt.pod.Spec.InitContainers...) {
				if want := tt.want[c.Name]; !equality.Semantic.DeepEqual(c.Resources, want) {
					t.Errorf("container %s resources\n got %v\nwant %v", c.Name, c.Resources, want)
				}
			}
		})
	}
}

func TestLimitRangerAdmitLeavesUpdatesAndOthers(t *testing.T) {
	r := newReader(limitRange("defaults", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu=1")}))
	p := newPod("web")
	if err := (LimitRanger{r}).Admit(context.Background(), update(podsResource, p, p.DeepCopy())); err != nil {
		t.Fatal(err)
	}
	if p.Spec.Containers[0].Resources.Limits != nil || p.Annotations != nil {
		t.Errorf("an update was defaulted: %+v", p)
	}
	// Pod items have no defaults; only Container items do.
	r = newReader(limitRange("pod", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu=2")}))
	p = newPod("web")
	if err := (LimitRanger{r}).Admit(context.Background(), create(podsResource, p)); err != nil {
		t.Fatal(err)
	}
	if p.Spec.Containers[0].Resources.Limits != nil {
		t.Errorf("a Pod item defaulted a container: %v", p.Spec.Containers[0].Resources)
	}
}

func TestLimitRangerValidatePods(t *testing.T) {
	container := func(items ...corev1.LimitRangeItem) []corev1.LimitRangeItem { return items }
	tests := []struct {
		name    string
		items   []corev1.LimitRangeItem
		pod     *corev1.Pod
		wantErr string
	}{{
		name:  "within min and max",
		items: container(corev1.LimitRangeItem{Type: "Container", Min: rl("cpu=100m"), Max: rl("cpu=1")}),
		pod:   newPod("web", withResources(0, rl("cpu=200m"), rl("cpu=1"))),
	}, {
		name:    "limit over max",
		items:   container(corev1.LimitRangeItem{Type: "Container", Max: rl("cpu=1")}),
		pod:     newPod("web", withResources(0, rl("cpu=500m"), rl("cpu=2"))),
		wantErr: `pods "web" is forbidden: maximum cpu usage per Container is 1, but limit is 2`,
	}, {
		name:    "no limit under a max",
		items:   container(corev1.LimitRangeItem{Type: "Container", Max: rl("memory=1Gi")}),
		pod:     newPod("web", withResources(0, rl("memory=100Mi"), nil)),
		wantErr: `pods "web" is forbidden: maximum memory usage per Container is 1Gi.  No limit is specified`,
	}, {
		name:    "request under min",
		items:   container(corev1.LimitRangeItem{Type: "Container", Min: rl("memory=64Mi")}),
		pod:     newPod("web", withResources(0, rl("memory=10Mi"), rl("memory=100Mi"))),
		wantErr: `pods "web" is forbidden: minimum memory usage per Container is 64Mi, but request is 10Mi`,
	}, {
		name:    "no request under a min",
		items:   container(corev1.LimitRangeItem{Type: "Container", Min: rl("cpu=100m")}),
		pod:     newPod("web"),
		wantErr: `pods "web" is forbidden: minimum cpu usage per Container is 100m.  No request is specified`,
	}, {
		name:    "ratio exceeded",
		items:   container(corev1.LimitRangeItem{Type: "Container", MaxLimitRequestRatio: rl("cpu=2")}),
		pod:     newPod("web", withResources(0, rl("cpu=250m"), rl("cpu=1"))),
		wantErr: `pods "web" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000`,
	}, {
		name:  "ratio met",
		items: container(corev1.LimitRangeItem{Type: "Container", MaxLimitRequestRatio: rl("cpu=2")}),
		pod:   newPod("web", withResources(0, rl("cpu=500m"), rl("cpu=1"))),
	}, {
		name:    "ratio without a limit",
		items:   container(corev1.LimitRangeItem{Type: "Container", MaxLimitRequestRatio: rl("memory=2")}),
		pod:     newPod("web", withResources(0, rl("memory=1Gi"), nil)),
		wantErr: `pods "web" is forbidden: memory max limit to request ratio per Container is 2, but no limit is specified or limit is 0`,
	}, {
		name:  "several violations aggregated",
		items: container(corev1.LimitRangeItem{Type: "Container", Min: rl("memory=64Mi"), Max: rl("cpu=1")}),
		pod:   newPod("web", withResources(0, rl("cpu=2", "memory=1Mi"), rl("cpu=2"))),
		wantErr: `pods "web" is forbidden: [minimum memory usage per Container is 64Mi, but request is 1Mi, ` +
			`maximum cpu usage per Container is 1, but limit is 2]`,
	}, {
		name:    "init containers are checked too",
		items:   container(corev1.LimitRangeItem{Type: "Container", Min: rl("cpu=100m")}),
		pod:     newPod("web", withResources(0, rl("cpu=1"), nil), withInit("setup")),
		wantErr: `pods "web" is forbidden: minimum cpu usage per Container is 100m.  No request is specified`,
	}, {
		name:    "Pod items bound the containers' sum",
		items:   container(corev1.LimitRangeItem{Type: "Pod", Max: rl("cpu=1")}),
		pod:     newPod("web", withResources(0, rl("cpu=600m"), rl("cpu=600m")), withContainer("sidecar", rl("cpu=600m"), rl("cpu=600m"))),
		wantErr: `pods "web" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m`,
	}, {
		name:  "Pod items: the sum within bounds",
		items: container(corev1.LimitRangeItem{Type: "Pod", Max: rl("cpu=1"), Min: rl("cpu=200m")}),
		pod:   newPod("web", withResources(0, rl("cpu=100m"), rl("cpu=500m")), withContainer("sidecar", rl("cpu=100m"), rl("cpu=500m"))),
	}, {
		// Overhead is the runtime's: it does not count against Pod items.
		name:  "Pod items leave out overhead",
		items: container(corev1.LimitRangeItem{Type: "Pod", Max: rl("cpu=1")}),
		pod: newPod("web", withResources(0, rl("cpu=1"), rl("cpu=1")), func(p *corev1.Pod) {
			p.Spec.Overhead = rl("cpu=250m")
		}),
	}, {
		name:  "PVC items do not apply to pods",
		items: container(corev1.LimitRangeItem{Type: "PersistentVolumeClaim", Min: rl("storage=1Gi")}),
		pod:   newPod("web"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader(limitRange("lr", tt.items...))
			err := (LimitRanger{r}).Validate(context.Background(), create(podsResource, tt.pod))
			wantForbidden(t, err, tt.wantErr)
		})
	}
	// A range in another namespace does not apply.
	r := newReader(limitRange("lr", corev1.LimitRangeItem{Type: "Container", Max: rl("cpu=1")}))
	if err := (LimitRanger{r}).Validate(context.Background(), create(podsResource, newPod("web", inNamespace("other")))); err != nil {
		t.Errorf("a range of namespace team refused a pod of namespace other: %v", err)
	}
	// Pod updates are not checked (containers' resources cannot change).
	p := newPod("web", withResources(0, nil, rl("cpu=4")))
	if err := (LimitRanger{r}).Validate(context.Background(), update(podsResource, p, p.DeepCopy())); err != nil {
		t.Errorf("an update was checked: %v", err)
	}
}

func TestLimitRangerValidateClaims(t *testing.T) {
	r := newReader(limitRange("storage",
		corev1.LimitRangeItem{Type: "PersistentVolumeClaim", Min: rl("storage=1Gi"), Max: rl("storage=10Gi")},
		corev1.LimitRangeItem{Type: "Container", Max: rl("cpu=1")},
	))
	lr := LimitRanger{r}
	ctx := context.Background()
	wantForbidden(t, lr.Validate(ctx, create(pvcsResource, newPVC("data", nil, "5Gi"))), "")
	wantForbidden(t, lr.Validate(ctx, create(pvcsResource, newPVC("data", nil, "500Mi"))),
		`persistentvolumeclaims "data" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi`)
	wantForbidden(t, lr.Validate(ctx, create(pvcsResource, newPVC("data", nil, "20Gi"))),
		`persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi`)
	wantForbidden(t, lr.Validate(ctx, create(pvcsResource, newPVC("data", nil, ""))),
		`persistentvolumeclaims "data" is forbidden: [minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified, `+
			`maximum storage usage per PersistentVolumeClaim is 10Gi.  No request is specified]`)
	// A claim's limits are not bounded by max.
	pvc := newPVC("data", nil, "5Gi")
	pvc.Spec.Resources.Limits = rl("storage=50Gi")
	wantForbidden(t, lr.Validate(ctx, create(pvcsResource, pvc)), "")
	// Expanding a claim past max is refused too.
	grown := newPVC("data", nil, "11Gi")
	wantForbidden(t, lr.Validate(ctx, update(pvcsResource, grown, newPVC("data", nil, "5Gi"))),
		`persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 11Gi`)
}
