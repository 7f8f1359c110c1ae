package podspec

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Probe defaults, as upstream's SetDefaults_Probe.
const (
	defaultProbeTimeoutSeconds   = 1
	defaultProbePeriodSeconds    = 10
	defaultProbeSuccessThreshold = 1
	defaultProbeFailureThreshold = 3
)

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = defaultProbeTimeoutSeconds
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = defaultProbePeriodSeconds
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = defaultProbeSuccessThreshold
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = defaultProbeFailureThreshold
	}
	defaultHTTPGet(p.HTTPGet)
	if p.GRPC != nil && p.GRPC.Service == nil {
		empty := ""
		p.GRPC.Service = &empty // the gRPC health protocol's default service
	}
}

func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

func defaultLifecycle(l *corev1.Lifecycle) {
	if l == nil {
		return
	}
	if l.PostStart != nil {
		defaultHTTPGet(l.PostStart.HTTPGet)
	}
	if l.PreStop != nil {
		defaultHTTPGet(l.PreStop.HTTPGet)
	}
}

// validateProbe checks a probe. Liveness and startup probes only say
// whether a container is broken, so their successThreshold must be 1.
func validateProbe(p *corev1.Probe, mustSucceedOnce bool, path *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	errs := validateHandler(&p.ProbeHandler, path)
	nonNegative := func(v int32, name string) {
		if v < 0 {
			errs = append(errs, field.Invalid(path.Child(name), v, "must be greater than or equal to 0"))
		}
	}
	positive := func(v int32, name string) {
		if v < 1 {
			errs = append(errs, field.Invalid(path.Child(name), v, "must be greater than or equal to 1"))
		}
	}
	nonNegative(p.InitialDelaySeconds, "initialDelaySeconds")
	positive(p.TimeoutSeconds, "timeoutSeconds")
	positive(p.PeriodSeconds, "periodSeconds")
	positive(p.SuccessThreshold, "successThreshold")
	positive(p.FailureThreshold, "failureThreshold")
	if mustSucceedOnce && p.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(path.Child("successThreshold"), p.SuccessThreshold, "must be 1"))
	}
	if g := p.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

// validateHandler requires exactly one of exec, httpGet, tcpSocket, grpc.
func validateHandler(h *corev1.ProbeHandler, path *field.Path) field.ErrorList {
	set := setPointers(reflect.ValueOf(h).Elem())
	switch {
	case len(set) == 0:
		return field.ErrorList{field.Required(path, "must specify a handler type")}
	case len(set) > 1:
		var errs field.ErrorList
		for _, s := range set[1:] {
			errs = append(errs, field.Forbidden(path.Child(s), "may not specify more than 1 handler type"))
		}
		return errs
	}
	var errs field.ErrorList
	switch {
	case h.Exec != nil:
		if len(h.Exec.Command) == 0 {
			errs = append(errs, field.Required(path.Child("exec", "command"), ""))
		}
	case h.HTTPGet != nil:
		errs = append(errs, validateHTTPGet(h.HTTPGet, path.Child("httpGet"))...)
	case h.TCPSocket != nil:
		errs = append(errs, validatePortNumOrName(h.TCPSocket.Port, path.Child("tcpSocket", "port"))...)
	case h.GRPC != nil:
		for _, msg := range validation.IsValidPortNum(int(h.GRPC.Port)) {
			errs = append(errs, field.Invalid(path.Child("grpc", "port"), h.GRPC.Port, msg))
		}
	}
	return errs
}

// validateLifecycle checks postStart and preStop hooks, which take exec,
// httpGet, tcpSocket (deprecated) or sleep.
func validateLifecycle(l *corev1.Lifecycle, path *field.Path) field.ErrorList {
	if l == nil {
		return nil
	}
	var errs field.ErrorList
	hooks := []struct {
		name string
		h    *corev1.LifecycleHandler
	}{{"postStart", l.PostStart}, {"preStop", l.PreStop}}
	for _, hook := range hooks {
		name, h := hook.name, hook.h
		if h == nil {
			continue
		}
		hp := path.Child(name)
		set := setPointers(reflect.ValueOf(h).Elem())
		switch {
		case len(set) == 0:
			errs = append(errs, field.Required(hp, "must specify a handler type"))
		case len(set) > 1:
			for _, s := range set[1:] {
				errs = append(errs, field.Forbidden(hp.Child(s), "may not specify more than 1 handler type"))
			}
		case h.Exec != nil && len(h.Exec.Command) == 0:
			errs = append(errs, field.Required(hp.Child("exec", "command"), ""))
		case h.HTTPGet != nil:
			errs = append(errs, validateHTTPGet(h.HTTPGet, hp.Child("httpGet"))...)
		case h.Sleep != nil && h.Sleep.Seconds < 0:
			errs = append(errs, field.Invalid(hp.Child("sleep", "seconds"), h.Sleep.Seconds, "must be greater than or equal to 0"))
		}
	}
	return errs
}

func validateHTTPGet(h *corev1.HTTPGetAction, path *field.Path) field.ErrorList {
	errs := validatePortNumOrName(h.Port, path.Child("port"))
	if h.Scheme != "" && h.Scheme != corev1.URISchemeHTTP && h.Scheme != corev1.URISchemeHTTPS {
		errs = append(errs, field.NotSupported(path.Child("scheme"), h.Scheme, []corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}))
	}
	for i, hdr := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
			errs = append(errs, field.Invalid(path.Child("httpHeaders").Index(i).Child("name"), hdr.Name, msg))
		}
	}
	return errs
}

// validatePortNumOrName accepts a port number 1-65535 or an IANA_SVC_NAME.
func validatePortNumOrName(port intstr.IntOrString, path *field.Path) field.ErrorList {
	var msgs []string
	switch port.Type {
	case intstr.Int:
		msgs = validation.IsValidPortNum(port.IntValue())
	case intstr.String:
		msgs = validation.IsValidPortName(port.StrVal)
	default:
		msgs = []string{fmt.Sprintf("unknown type %v", port.Type)}
	}
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(path, port.String(), msg))
	}
	return errs
}
