package podspec

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// fieldRefPaths are the pod fields an env var or downward API file may
// read, besides metadata.labels['k'] and metadata.annotations['k'].
var fieldRefPaths = sets.New(
	"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
)

func defaultEnv(env []corev1.EnvVar) {
	for i := range env {
		if f := env[i].ValueFrom; f != nil {
			defaultFieldRef(f.FieldRef)
		}
	}
}

func validateEnv(env []corev1.EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		ep := path.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(e.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), e.Name, msg))
			}
		}
		if e.ValueFrom != nil {
			errs = append(errs, validateEnvSource(e.ValueFrom, e.Value != "", ep.Child("valueFrom"))...)
		}
	}
	return errs
}

// validateEnvSource requires exactly one source, and no value beside it.
func validateEnvSource(src *corev1.EnvVarSource, hasValue bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch set := setPointers(reflect.ValueOf(src).Elem()); {
	case len(set) == 0:
		return field.ErrorList{field.Invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")}
	case len(set) > 1:
		return field.ErrorList{field.Invalid(path, "", "may not have more than one field specified at a time")}
	}
	if hasValue {
		errs = append(errs, field.Invalid(path, "", "may not be specified when `value` is not empty"))
	}
	switch {
	case src.FieldRef != nil:
		errs = append(errs, validateFieldRef(src.FieldRef, path.Child("fieldRef"))...)
	case src.ResourceFieldRef != nil:
		if src.ResourceFieldRef.Resource == "" {
			errs = append(errs, field.Required(path.Child("resourceFieldRef", "resource"), ""))
		}
	case src.ConfigMapKeyRef != nil:
		errs = append(errs, validateKeyRef(src.ConfigMapKeyRef.Name, src.ConfigMapKeyRef.Key, path.Child("configMapKeyRef"))...)
	case src.SecretKeyRef != nil:
		errs = append(errs, validateKeyRef(src.SecretKeyRef.Name, src.SecretKeyRef.Key, path.Child("secretKeyRef"))...)
	}
	return errs
}

func validateFieldRef(f *corev1.ObjectFieldSelector, path *field.Path) field.ErrorList {
	fp := path.Child("fieldPath")
	if f.FieldPath == "" {
		return field.ErrorList{field.Required(fp, "")}
	}
	if f.APIVersion != "" && f.APIVersion != "v1" {
		return field.ErrorList{field.NotSupported(path.Child("apiVersion"), f.APIVersion, []string{"v1"})}
	}
	p := f.FieldPath
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(p, prefix) && strings.HasSuffix(p, "']") {
			key := p[len(prefix) : len(p)-2]
			var errs field.ErrorList
			for _, msg := range validation.IsQualifiedName(strings.ToLower(key)) {
				errs = append(errs, field.Invalid(fp, p, msg))
			}
			return errs
		}
	}
	if !fieldRefPaths.Has(p) {
		return field.ErrorList{field.NotSupported(fp, p, sets.List(fieldRefPaths))}
	}
	return nil
}

func validateKeyRef(name, key string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(path.Child("key"), ""))
	} else {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(path.Child("key"), key, msg))
		}
	}
	return errs
}

func validateEnvFrom(from []corev1.EnvFromSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range from {
		fp := path.Index(i)
		if f.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(f.Prefix) {
				errs = append(errs, field.Invalid(fp.Child("prefix"), f.Prefix, msg))
			}
		}
		switch {
		case f.ConfigMapRef == nil && f.SecretRef == nil:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`"))
		case f.ConfigMapRef != nil && f.SecretRef != nil:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		case f.ConfigMapRef != nil && f.ConfigMapRef.Name == "":
			errs = append(errs, field.Required(fp.Child("configMapRef", "name"), ""))
		case f.SecretRef != nil && f.SecretRef.Name == "":
			errs = append(errs, field.Required(fp.Child("secretRef", "name"), ""))
		}
	}
	return errs
}
