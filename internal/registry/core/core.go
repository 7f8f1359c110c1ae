// Package core holds the strategies of the core/v1 kinds: what each kind
// defaults, validates, and lets clients change.
package core

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

func gvr(resource string) schema.GroupVersionResource {
	return corev1.SchemeGroupVersion.WithResource(resource)
}

// Resources are the core/v1 resources of this package.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("namespaces"), Kind: "Namespace", ListKind: "NamespaceList", SingularName: "namespace", ShortNames: []string{"ns"},
			Subresources: []string{"status", "finalize"}, Strategy: namespaceStrategy{}},
		{GVR: gvr("configmaps"), Kind: "ConfigMap", ListKind: "ConfigMapList", SingularName: "configmap", ShortNames: []string{"cm"},
			Namespaced: true, Strategy: configMapStrategy{}},
		{GVR: gvr("secrets"), Kind: "Secret", ListKind: "SecretList", SingularName: "secret",
			Namespaced: true, Strategy: secretStrategy{}},
		{GVR: gvr("serviceaccounts"), Kind: "ServiceAccount", ListKind: "ServiceAccountList", SingularName: "serviceaccount", ShortNames: []string{"sa"},
			Namespaced: true, Strategy: serviceAccountStrategy{}},
		{GVR: gvr("events"), Kind: "Event", ListKind: "EventList", SingularName: "event", ShortNames: []string{"ev"},
			Namespaced: true, Strategy: eventStrategy{}},
	}
}

// maxDataBytes is the size limit of a ConfigMap's or Secret's data.
const maxDataBytes = 1024 * 1024

// ---- Namespace ----

type namespaceStrategy struct{ registry.BaseStrategy }

func (namespaceStrategy) New() runtime.Object     { return &corev1.Namespace{} }
func (namespaceStrategy) NewList() runtime.Object { return &corev1.NamespaceList{} }

func (namespaceStrategy) ValidateName(name string, prefix bool) []string {
	return apivalidation.ValidateNamespaceName(name, prefix)
}

// Default labels every namespace with its own name, as upstream does on
// every write: namespace selectors (NetworkPolicy, admission webhooks)
// rely on kubernetes.io/metadata.name.
func (namespaceStrategy) Default(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func (namespaceStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if !hasFinalizer(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
}

func (namespaceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	switch sub {
	case "status":
		ns.Spec = o.Spec
	case "finalize":
		ns.Status = o.Status
	default:
		ns.Spec.Finalizers = o.Spec.Finalizers
		ns.Status = o.Status
	}
}

func (namespaceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateFinalizerNames(obj.(*corev1.Namespace).Spec.Finalizers)
}

func (namespaceStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validateFinalizerNames(obj.(*corev1.Namespace).Spec.Finalizers)
}

func (namespaceStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
}

// PrepareForDeletion marks the namespace Terminating.
func (namespaceStrategy) PrepareForDeletion(obj runtime.Object) {
	obj.(*corev1.Namespace).Status.Phase = corev1.NamespaceTerminating
}

// PendingFinalizers: a namespace is removed only when its spec finalizers
// (the namespace controller's) are done too.
func (namespaceStrategy) PendingFinalizers(obj runtime.Object) bool {
	return len(obj.(*corev1.Namespace).Spec.Finalizers) > 0
}

func validateFinalizerNames(finalizers []corev1.FinalizerName) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "finalizers")
	for i, f := range finalizers {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), p.Index(i))...)
	}
	return errs
}

func hasFinalizer(list []corev1.FinalizerName, f corev1.FinalizerName) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// ---- ConfigMap ----

type configMapStrategy struct{ registry.BaseStrategy }

func (configMapStrategy) New() runtime.Object     { return &corev1.ConfigMap{} }
func (configMapStrategy) NewList() runtime.Object { return &corev1.ConfigMapList{} }

func (configMapStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cm := obj.(*corev1.ConfigMap)
	return validateData(cm.Data, cm.BinaryData)
}

func (s configMapStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	cm, o := obj.(*corev1.ConfigMap), old.(*corev1.ConfigMap)
	errs := s.Validate(ctx, obj)
	if o.Immutable != nil && *o.Immutable {
		if cm.Immutable == nil || !*cm.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !apiequality.Semantic.DeepEqual(cm.Data, o.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
		if !apiequality.Semantic.DeepEqual(cm.BinaryData, o.BinaryData) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

// validateData checks ConfigMap keys: valid names, no key in both data and
// binaryData, at most 1 MiB in all.
func validateData(data map[string]string, binary map[string][]byte) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		size += len(k) + len(v)
	}
	for k, v := range binary {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, msg))
		}
		if _, dup := data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(k) + len(v)
	}
	if size > maxDataBytes {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxDataBytes))
	}
	return errs
}

// ---- Secret ----

type secretStrategy struct{ registry.BaseStrategy }

func (secretStrategy) New() runtime.Object     { return &corev1.Secret{} }
func (secretStrategy) NewList() runtime.Object { return &corev1.SecretList{} }

func (secretStrategy) Default(obj runtime.Object) {
	s := obj.(*corev1.Secret)
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	// stringData is write-only: merged into data, never stored.
	for k, v := range s.StringData {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func (secretStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateSecret(obj.(*corev1.Secret))
}

func (secretStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	s, o := obj.(*corev1.Secret), old.(*corev1.Secret)
	errs := validateSecret(s)
	errs = append(errs, apivalidation.ValidateImmutableField(s.Type, o.Type, field.NewPath("type"))...)
	if o.Immutable != nil && *o.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !apiequality.Semantic.DeepEqual(s.Data, o.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

func (secretStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for k, v := range s.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		size += len(v)
	}
	if size > maxDataBytes {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataBytes))
	}
	// Upstream requires the keys of most types to be present, and the
	// SSH private key to be non-empty.
	required := func(key string) bool {
		if _, ok := s.Data[key]; !ok {
			errs = append(errs, field.Required(field.NewPath("data").Key(key), ""))
			return false
		}
		return true
	}
	validJSON := func(key string) {
		if required(key) && !json.Valid(s.Data[key]) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), "<secret contents redacted>", "must be valid JSON"))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		validJSON(corev1.DockerConfigKey)
	case corev1.SecretTypeDockerConfigJson:
		validJSON(corev1.DockerConfigJsonKey)
	case corev1.SecretTypeBasicAuth:
		_, u := s.Data[corev1.BasicAuthUsernameKey]
		_, p := s.Data[corev1.BasicAuthPasswordKey]
		if !u && !p {
			errs = append(errs,
				field.Required(field.NewPath("data").Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(field.NewPath("data").Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		required(corev1.TLSCertKey)
		required(corev1.TLSPrivateKeyKey)
	}
	return errs
}

// ---- ServiceAccount ----

type serviceAccountStrategy struct{ registry.BaseStrategy }

func (serviceAccountStrategy) New() runtime.Object     { return &corev1.ServiceAccount{} }
func (serviceAccountStrategy) NewList() runtime.Object { return &corev1.ServiceAccountList{} }

// ---- Event ----

type eventStrategy struct{ registry.BaseStrategy }

func (eventStrategy) New() runtime.Object     { return &corev1.Event{} }
func (eventStrategy) NewList() runtime.Object { return &corev1.EventList{} }

func (eventStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	e := obj.(*corev1.Event)
	var errs field.ErrorList
	if e.InvolvedObject.Namespace != "" && e.InvolvedObject.Namespace != e.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	if e.Type != "" && e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.Type, []string{corev1.EventTypeNormal, corev1.EventTypeWarning}))
	}
	return errs
}

func (s eventStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

func (eventStrategy) SelectableFields(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         src,
		"type":                           e.Type,
	}
}
