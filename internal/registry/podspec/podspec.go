// Package podspec holds what every kind that carries a pod spec shares: the
// defaults Kubernetes applies to a PodSpec and PodTemplateSpec, and their
// validation with field paths. Pods, ReplicationControllers, PodTemplates
// and the apps and batch workloads all use it, so a template is defaulted
// and checked the same way wherever it appears. Pods alone also get
// DefaultPod's defaults, as upstream gives them to Pods and not templates.
package podspec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DefaultTemplate applies Kubernetes' defaults to a pod template.
func DefaultTemplate(t *corev1.PodTemplateSpec) { DefaultSpec(&t.Spec) }

// DefaultSpec applies Kubernetes' defaults to a pod spec.
func DefaultSpec(spec *corev1.PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		spec.TerminationGracePeriodSeconds = &grace
	}
	MirrorServiceAccount(spec)
	for i := range spec.InitContainers {
		defaultContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defaultContainer(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		defaultContainer((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	for i := range spec.Volumes {
		defaultVolume(&spec.Volumes[i])
	}
}

// MirrorServiceAccount keeps the deprecated spec.serviceAccount equal to
// spec.serviceAccountName, which it stands in for when that is unset: the
// two are one field upstream, written out twice in v1.
func MirrorServiceAccount(spec *corev1.PodSpec) {
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	spec.DeprecatedServiceAccount = spec.ServiceAccountName
}

// DefaultPod applies the defaults upstream gives Pods but not templates,
// after DefaultSpec: requests default to limits, enableServiceLinks to
// true, and with hostNetwork each port's hostPort to its containerPort.
func DefaultPod(spec *corev1.PodSpec) {
	DefaultSpec(spec)
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			defaultRequestsFromLimits(&cs[i].Resources)
			if spec.HostNetwork {
				for j := range cs[i].Ports {
					if cs[i].Ports[j].HostPort == 0 {
						cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
					}
				}
			}
		}
	}
	if spec.Resources != nil {
		defaultRequestsFromLimits(spec.Resources)
	}
	if spec.EnableServiceLinks == nil {
		enable := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &enable
	}
}

func defaultContainer(c *corev1.Container) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = pullPolicyFor(c.Image)
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	defaultLifecycle(c.Lifecycle)
	defaultEnv(c.Env)
}

// pullPolicyFor is Always for an image without a tag or tagged latest (and
// without a digest), else IfNotPresent.
func pullPolicyFor(image string) corev1.PullPolicy {
	if strings.Contains(image, "@") {
		return corev1.PullIfNotPresent
	}
	name := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(name, ":"); i < 0 || name[i+1:] == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// ValidateTemplate checks a pod template at path: its labels and spec.
func ValidateTemplate(t *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(t.Labels, path.Child("metadata", "labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(t.Annotations, path.Child("metadata", "annotations"))...)
	return append(errs, ValidateSpec(&t.Spec, path.Child("spec"))...)
}

// ValidateSpec checks a pod spec at path.
func ValidateSpec(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), ""))
	}
	volumes, verrs := validateVolumes(spec.Volumes, path.Child("volumes"))
	errs = append(errs, verrs...)
	v := &containerValidator{spec: spec, names: sets.New[string](), volumes: volumes, hostPorts: sets.New[string]()}
	errs = append(errs, v.validate(spec.InitContainers, true, path.Child("initContainers"))...)
	errs = append(errs, v.validate(spec.Containers, false, path.Child("containers"))...)
	switch spec.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	switch spec.DNSPolicy {
	case corev1.DNSNone:
		if spec.DNSConfig == nil {
			errs = append(errs, field.Required(path.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
		}
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault:
	default:
		errs = append(errs, field.NotSupported(path.Child("dnsPolicy"), spec.DNSPolicy,
			[]corev1.DNSPolicy{corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone}))
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"), *g, "must be greater than or equal to 0"))
	}
	if d := spec.ActiveDeadlineSeconds; d != nil && *d < 1 {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *d, "must be greater than or equal to 1"))
	}
	for _, f := range []struct {
		name, value string
	}{{"hostname", spec.Hostname}, {"subdomain", spec.Subdomain}} {
		if f.value == "" {
			continue
		}
		for _, msg := range validation.IsDNS1123Label(f.value) {
			errs = append(errs, field.Invalid(path.Child(f.name), f.value, msg))
		}
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range apivalidation.ValidateServiceAccountName(spec.ServiceAccountName, false) {
			errs = append(errs, field.Invalid(path.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	for i, s := range spec.ImagePullSecrets {
		// Upstream only warns about an empty name; a name no Secret can
		// have is an error, since the pull could never authenticate.
		if s.Name == "" {
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(s.Name) {
			errs = append(errs, field.Invalid(path.Child("imagePullSecrets").Index(i).Child("name"), s.Name, msg))
		}
	}
	if spec.Resources != nil {
		errs = append(errs, validateResources(spec.Resources, path.Child("resources"))...)
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, path.Child("nodeSelector"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, path.Child("tolerations"))...)
	errs = append(errs, validateAffinity(spec.Affinity, path.Child("affinity"))...)
	gates := sets.New[string]()
	for i, g := range spec.SchedulingGates {
		gp := path.Child("schedulingGates").Index(i).Child("name")
		errs = append(errs, metav1validation.ValidateLabelName(g.Name, gp)...)
		if gates.Has(g.Name) {
			errs = append(errs, field.Duplicate(gp, g.Name))
		}
		gates.Insert(g.Name)
	}
	return errs
}

// containerValidator checks a pod's containers, carrying what must be
// unique across all of them: names and host ports.
type containerValidator struct {
	spec      *corev1.PodSpec
	names     sets.Set[string]
	volumes   sets.Set[string]
	hostPorts sets.Set[string]
}

func (v *containerValidator) validate(cs []corev1.Container, init bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range cs {
		c := &cs[i]
		p := path.Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case v.names.Has(c.Name):
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
			}
		}
		v.names.Insert(c.Name)
		if strings.TrimSpace(c.Image) == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
		errs = append(errs, v.validatePorts(c.Ports, p.Child("ports"))...)
		errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
		errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
		errs = append(errs, validateVolumeMounts(c.VolumeMounts, v.volumes, p.Child("volumeMounts"))...)
		errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
		errs = append(errs, validateLifecycle(c.Lifecycle, p.Child("lifecycle"))...)
		errs = append(errs, validateProbe(c.LivenessProbe, true, p.Child("livenessProbe"))...)
		errs = append(errs, validateProbe(c.ReadinessProbe, false, p.Child("readinessProbe"))...)
		errs = append(errs, validateProbe(c.StartupProbe, true, p.Child("startupProbe"))...)
		errs = append(errs, validatePullPolicy(c, p)...)
		errs = append(errs, validateRestartPolicy(c, init, p)...)
	}
	return errs
}

// validateRestartPolicy: only init containers take a restartPolicy, and
// only Always, which makes them sidecars. Plain init containers run to
// completion, so probes and lifecycle hooks are for sidecars only.
func validateRestartPolicy(c *corev1.Container, init bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !init {
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		}
		return errs
	}
	if c.RestartPolicy != nil && *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
	}
	if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		return errs
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"lifecycle", c.Lifecycle != nil},
		{"livenessProbe", c.LivenessProbe != nil},
		{"readinessProbe", c.ReadinessProbe != nil},
		{"startupProbe", c.StartupProbe != nil},
	} {
		if f.set {
			errs = append(errs, field.Forbidden(p.Child(f.name), "may not be set for init containers without restartPolicy=Always"))
		}
	}
	return errs
}

func validatePullPolicy(c *corev1.Container, p *field.Path) field.ErrorList {
	switch c.ImagePullPolicy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever, "":
		return nil
	}
	return field.ErrorList{field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy,
		[]corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever})}
}

// validatePorts checks a container's ports: names are IANA_SVC_NAMEs
// unique in the container, numbers are valid, a host port is taken once
// per protocol and host IP in the pod, and with hostNetwork it equals the
// container port.
func (v *containerValidator) validatePorts(ports []corev1.ContainerPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for j, port := range ports {
		pp := path.Index(j)
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
			key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if v.hostPorts.Has(key) {
				errs = append(errs, field.Duplicate(pp.Child("hostPort"), key))
			}
			v.hostPorts.Insert(key)
			if v.spec.HostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
			}
		}
		switch port.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol,
				[]corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}))
		}
	}
	return errs
}
