package admission

import (
	"context"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/diff"
)

var tokenVolumeName = regexp.MustCompile(`^kube-api-access-[a-z0-9]{5}$`)

// upstreamTokenVolume is the projected volume source exactly as
// kube-apiserver stores it (v1.29+), written out rather than built by the
// code under test.
func upstreamTokenVolume() *corev1.ProjectedVolumeSource {
	mode := int32(420)
	exp := int64(3607)
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}
}

func account(name string, mods ...func(*corev1.ServiceAccount)) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS}}
	for _, m := range mods {
		m(sa)
	}
	return sa
}

func tokenMount(volume string) corev1.VolumeMount {
	return corev1.VolumeMount{Name: volume, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
}

func TestServiceAccount(t *testing.T) {
	ownMount := corev1.VolumeMount{Name: "mine", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	tests := []struct {
		name     string
		accounts []*corev1.ServiceAccount
		pod      *corev1.Pod
		check    func(t *testing.T, p *corev1.Pod)
	}{{
		name:     "default account named and mirrored in the deprecated field",
		accounts: []*corev1.ServiceAccount{account("default")},
		pod:      newPod("web"),
		check: func(t *testing.T, p *corev1.Pod) {
			if p.Spec.ServiceAccountName != "default" || p.Spec.DeprecatedServiceAccount != "default" {
				t.Errorf("serviceAccountName=%q serviceAccount=%q, want default twice", p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount)
			}
		},
	}, {
		name:     "named account kept",
		accounts: []*corev1.ServiceAccount{account("default"), account("robot")},
		pod:      newPod("web", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "robot" }),
		check: func(t *testing.T, p *corev1.Pod) {
			if p.Spec.ServiceAccountName != "robot" {
				t.Errorf("serviceAccountName = %q, want robot", p.Spec.ServiceAccountName)
			}
		},
	}, {
		name:     "projected volume as upstream stores it, mounted in init and regular containers",
		accounts: []*corev1.ServiceAccount{account("default")},
		pod:      newPod("web", withInit("setup"), withContainer("sidecar", nil, nil)),
		check: func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Volumes) != 1 {
				t.Fatalf("volumes = %+v, want one", p.Spec.Volumes)
			}
			v := p.Spec.Volumes[0]
			if !tokenVolumeName.MatchString(v.Name) {
				t.Errorf("volume name %q, want kube-api-access-xxxxx", v.Name)
			}
			want := corev1.VolumeSource{Projected: upstreamTokenVolume()}
			if !equality.Semantic.DeepEqual(v.VolumeSource, want) {
				t.Errorf("volume source differs from upstream's:\n%s", diff.Diff(want, v.VolumeSource))
			}
			for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
				if !mountsAre(c.VolumeMounts, tokenMount(v.Name)) {
					t.Errorf("container %s mounts %+v, want only %+v", c.Name, c.VolumeMounts, tokenMount(v.Name))
				}
			}
		},
	}, {
		name:     "a container with its own mount at the token path is left alone",
		accounts: []*corev1.ServiceAccount{account("default")},
		pod: newPod("web", withContainer("sidecar", nil, nil), func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{ownMount}
			p.Spec.Volumes = []corev1.Volume{{Name: "mine", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		}),
		check: func(t *testing.T, p *corev1.Pod) {
			if got := p.Spec.Containers[0].VolumeMounts; !mountsAre(got, ownMount) {
				t.Errorf("app mounts = %+v, want only its own", got)
			}
			if len(p.Spec.Volumes) != 2 || !tokenVolumeName.MatchString(p.Spec.Volumes[1].Name) {
				t.Fatalf("volumes = %+v, want its own and the token volume", p.Spec.Volumes)
			}
			if got := p.Spec.Containers[1].VolumeMounts; !mountsAre(got, tokenMount(p.Spec.Volumes[1].Name)) {
				t.Errorf("sidecar mounts = %+v, want the token", got)
			}
		},
	}, {
		name:     "no token volume when every container mounts its own",
		accounts: []*corev1.ServiceAccount{account("default")},
		pod: newPod("web", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{ownMount}
			p.Spec.Volumes = []corev1.Volume{{Name: "mine", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		}),
		check: func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Volumes) != 1 {
				t.Errorf("volumes = %+v, want only its own", p.Spec.Volumes)
			}
		},
	}, {
		name:     "an existing kube-api-access volume is reused",
		accounts: []*corev1.ServiceAccount{account("default")},
		pod: newPod("web", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: upstreamTokenVolume()}}}
		}),
		check: func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].Name != "kube-api-access-abcde" {
				t.Errorf("volumes = %+v, want the pod's own only", p.Spec.Volumes)
			}
			if got := p.Spec.Containers[0].VolumeMounts; !mountsAre(got, tokenMount("kube-api-access-abcde")) {
				t.Errorf("mounts = %+v", got)
			}
		},
	}, {
		name:     "automount off on the pod",
		accounts: []*corev1.ServiceAccount{account("default")},
		pod:      newPod("web", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptrTo(false) }),
		check:    wantNoToken,
	}, {
		name:     "automount off on the account",
		accounts: []*corev1.ServiceAccount{account("default", func(sa *corev1.ServiceAccount) { sa.AutomountServiceAccountToken = ptrTo(false) })},
		pod:      newPod("web"),
		check:    wantNoToken,
	}, {
		name:     "the pod's automount true wins over the account's false",
		accounts: []*corev1.ServiceAccount{account("default", func(sa *corev1.ServiceAccount) { sa.AutomountServiceAccountToken = ptrTo(false) })},
		pod:      newPod("web", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptrTo(true) }),
		check: func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Volumes) != 1 || len(p.Spec.Containers[0].VolumeMounts) != 1 {
				t.Errorf("volumes %+v mounts %+v, want the token", p.Spec.Volumes, p.Spec.Containers[0].VolumeMounts)
			}
		},
	}, {
		name:     "the pod's automount false wins over the account's true",
		accounts: []*corev1.ServiceAccount{account("default", func(sa *corev1.ServiceAccount) { sa.AutomountServiceAccountToken = ptrTo(true) })},
		pod:      newPod("web", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptrTo(false) }),
		check:    wantNoToken,
	}, {
		name: "image pull secrets copied when the pod has none",
		accounts: []*corev1.ServiceAccount{account("default", func(sa *corev1.ServiceAccount) {
			sa.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "reg1"}, {Name: "reg2"}}
		})},
		pod: newPod("web"),
		check: func(t *testing.T, p *corev1.Pod) {
			want := []corev1.LocalObjectReference{{Name: "reg1"}, {Name: "reg2"}}
			if !equality.Semantic.DeepEqual(p.Spec.ImagePullSecrets, want) {
				t.Errorf("imagePullSecrets = %+v, want %+v", p.Spec.ImagePullSecrets, want)
			}
		},
	}, {
		name: "image pull secrets of the pod kept",
		accounts: []*corev1.ServiceAccount{account("default", func(sa *corev1.ServiceAccount) {
			sa.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "reg1"}}
		})},
		pod: newPod("web", func(p *corev1.Pod) { p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "own"}} }),
		check: func(t *testing.T, p *corev1.Pod) {
			if want := []corev1.LocalObjectReference{{Name: "own"}}; !equality.Semantic.DeepEqual(p.Spec.ImagePullSecrets, want) {
				t.Errorf("imagePullSecrets = %+v, want %+v", p.Spec.ImagePullSecrets, want)
			}
		},
	}, {
		name: "a mirror pod is left alone",
		pod: newPod("web", func(p *corev1.Pod) {
			p.Annotations = map[string]string{"kubernetes.io/config.mirror": "hash"}
		}),
		check: func(t *testing.T, p *corev1.Pod) {
			if p.Spec.ServiceAccountName != "" || len(p.Spec.Volumes) != 0 {
				t.Errorf("mirror pod changed: %+v", p.Spec)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader()
			for _, sa := range tt.accounts {
				r.add(sa)
			}
			if err := (ServiceAccount{r}).Admit(context.Background(), create(podsResource, tt.pod)); err != nil {
				t.Fatal(err)
			}
			tt.check(t, tt.pod)
		})
	}
}

func wantNoToken(t *testing.T, p *corev1.Pod) {
	t.Helper()
	if len(p.Spec.Volumes) != 0 || len(p.Spec.Containers[0].VolumeMounts) != 0 {
		t.Errorf("volumes %+v mounts %+v, want no token", p.Spec.Volumes, p.Spec.Containers[0].VolumeMounts)
	}
}

func TestServiceAccountMissing(t *testing.T) {
	r := newReader(account("default"))
	p := newPod("web", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "ghost" })
	err := (ServiceAccount{r}).Admit(context.Background(), create(podsResource, p))
	wantForbidden(t, err, `pods "web" is forbidden: error looking up service account team/ghost: serviceaccounts "ghost" not found`)
	if r.gets != 1 {
		t.Errorf("a named account was looked up %d times, want once", r.gets)
	}
}

// A pod created right after its namespace may come before the controller
// made the default account: the lookup is retried until it appears.
func TestServiceAccountDefaultAppearsLater(t *testing.T) {
	r := newReader()
	r.onGet = func(_ schema.GroupVersionResource, _, _ string) {
		if r.gets == 3 {
			r.add(account("default"))
		}
	}
	p := newPod("web")
	if err := (ServiceAccount{r}).Admit(context.Background(), create(podsResource, p)); err != nil {
		t.Fatal(err)
	}
	if r.gets != 3 || p.Spec.ServiceAccountName != "default" || len(p.Spec.Volumes) != 1 {
		t.Errorf("after %d lookups: %+v", r.gets, p.Spec)
	}
}

// A missing default account is refused once the request's context ends,
// without waiting out every retry.
func TestServiceAccountDefaultMissingUntilDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := (ServiceAccount{newReader()}).Admit(ctx, create(podsResource, newPod("web")))
	wantForbidden(t, err, `pods "web" is forbidden: error looking up service account team/default: serviceaccounts "default" not found`)
}

func TestServiceAccountIgnoresOtherWrites(t *testing.T) {
	r := newReader() // no account: any lookup would refuse
	p := newPod("web")
	if err := (ServiceAccount{r}).Admit(context.Background(), update(podsResource, p, newPod("web"))); err != nil {
		t.Errorf("update: %v", err)
	}
	a := create(podsResource, newPod("web"))
	a.Subresource = "binding"
	if err := (ServiceAccount{r}).Admit(context.Background(), a); err != nil {
		t.Errorf("subresource: %v", err)
	}
	if r.gets != 0 || p.Spec.ServiceAccountName != "" {
		t.Errorf("lookups %d, pod %+v: want untouched", r.gets, p.Spec)
	}
}

func mountsAre(got []corev1.VolumeMount, want ...corev1.VolumeMount) bool {
	return equality.Semantic.DeepEqual(got, want)
}
