package admission

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

const (
	// DefaultServiceAccountName is the account of pods that name none.
	DefaultServiceAccountName = "default"
	// TokenVolumePrefix begins the name of the projected volume that
	// gives a pod its account's token, the cluster CA and its namespace.
	TokenVolumePrefix = "kube-api-access-"
	// TokenMountPath is where every container finds that volume.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// RootCAConfigMap holds the cluster CA in every namespace.
	RootCAConfigMap = "kube-root-ca.crt"
	// MirrorPodAnnotation marks a kubelet's static pod mirror.
	MirrorPodAnnotation = "kubernetes.io/config.mirror"

	// tokenExpirationSeconds is upstream's: 1 h plus 7 s, so that clients
	// still holding a token past an hour can be told apart in audit logs.
	tokenExpirationSeconds = 3607
	projectedDefaultMode   = 0o644
)

// ServiceAccount gives every new pod an account (default "default", which
// must exist), the projected kube-api-access volume mounted in every
// container unless automounting is off, and the account's image pull
// secrets when the pod names none.
type ServiceAccount struct{ Reader Reader }

func (p ServiceAccount) Admit(ctx context.Context, a *Attributes) error {
	if !a.Is(podsResource) || a.Operation != Create {
		return nil
	}
	pod := a.Object.(*corev1.Pod)
	if _, mirror := pod.Annotations[MirrorPodAnnotation]; mirror {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
		// v1's deprecated spelling of the same field.
		pod.Spec.DeprecatedServiceAccount = DefaultServiceAccountName
	}
	sa, err := p.serviceAccount(ctx, a.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return a.Forbiddenf("error looking up service account %s/%s: %w", a.Namespace, pod.Spec.ServiceAccountName, err)
	}
	if automount(sa, pod) {
		mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	return nil
}

// serviceAccount reads the account. The default account is made by a
// controller when the namespace is, so a pod created right after its
// namespace may briefly find none: that one is looked up a few times, as
// upstream does, before the pod is refused.
func (p ServiceAccount) serviceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	attempts := 1
	if name == DefaultServiceAccountName {
		attempts = 10
	}
	for i := 0; ; i++ {
		obj, err := p.Reader.Get(ctx, serviceAccountsGVR, ns, name)
		if err == nil {
			return obj.(*corev1.ServiceAccount), nil
		}
		if !apierrors.IsNotFound(err) || i+1 >= attempts {
			return nil, err
		}
		t := time.NewTimer(time.Duration(100+rand.IntN(100)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// automount: the pod's own setting wins over its account's; the default
// is to mount.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountToken mounts the token volume at TokenMountPath in every init and
// regular container that has nothing mounted there, adding the volume
// when some container needs it and the pod has none yet.
func mountToken(pod *corev1.Pod) {
	volume := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, TokenVolumePrefix) {
			volume = v.Name
			break
		}
	}
	hasVolume := volume != ""
	if !hasVolume {
		volume = TokenVolumePrefix + utilrand.String(5)
	}
	needed := false
	mount := func(cs []corev1.Container) {
		for i := range cs {
			if hasMountAt(cs[i].VolumeMounts, TokenMountPath) {
				continue
			}
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, corev1.VolumeMount{Name: volume, ReadOnly: true, MountPath: TokenMountPath})
			needed = true
		}
	}
	mount(pod.Spec.InitContainers)
	mount(pod.Spec.Containers)
	if needed && !hasVolume {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         volume,
			VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()},
		})
	}
}

func hasMountAt(mounts []corev1.VolumeMount, path string) bool {
	for _, m := range mounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// TokenVolumeSource is the projected volume of a pod's account token, the
// cluster CA and the pod's namespace, spelled out in full (default mode
// included) as upstream stores it.
func TokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode := int32(projectedDefaultMode)
	expiration := int64(tokenExpirationSeconds)
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiration}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{
				Items: []corev1.DownwardAPIVolumeFile{{
					Path:     "namespace",
					FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
				}},
			}},
		},
	}
}
