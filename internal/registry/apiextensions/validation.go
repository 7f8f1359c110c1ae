package apiextensions

import (
	"errors"
	"fmt"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/util/jsonpath"

	crdcel "skiff.dev/skiff/internal/crd/cel"
	crdschema "skiff.dev/skiff/internal/crd/schema"
)

// ValidateCRD checks a CRD as upstream's ValidateCustomResourceDefinition
// does, for the rules a user meets: names, group, scope, versions, schemas
// (structural), subresources, printer columns and conversion.
func ValidateCRD(crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	var errs field.ErrorList
	spec := &crd.Spec
	specPath := field.NewPath("spec")
	if want := spec.Names.Plural + "." + spec.Group; crd.Name != want {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), crd.Name, `must be spec.names.plural+"."+spec.group`))
	}
	errs = append(errs, validateGroup(spec.Group, specPath.Child("group"))...)
	switch spec.Scope {
	case apiextensionsv1.ClusterScoped, apiextensionsv1.NamespaceScoped:
	case "":
		errs = append(errs, field.Required(specPath.Child("scope"), ""))
	default:
		errs = append(errs, field.NotSupported(specPath.Child("scope"), spec.Scope, []string{string(apiextensionsv1.ClusterScoped), string(apiextensionsv1.NamespaceScoped)}))
	}
	errs = append(errs, ValidateNames(&spec.Names, specPath.Child("names"))...)
	errs = append(errs, validateVersions(spec, specPath)...)
	if spec.PreserveUnknownFields {
		errs = append(errs, field.Invalid(specPath.Child("preserveUnknownFields"), true, "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"))
	}
	errs = append(errs, validateConversion(spec, specPath.Child("conversion"))...)
	errs = append(errs, validateStoredVersions(crd)...)
	return errs
}

// ValidateCRDUpdate is ValidateCRD plus what may not change.
func ValidateCRDUpdate(crd, old *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	errs := ValidateCRD(crd)
	errs = append(errs, apivalidation.ValidateImmutableField(crd.Spec.Scope, old.Spec.Scope, field.NewPath("spec", "scope"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(crd.Spec.Names.Kind, old.Spec.Names.Kind, field.NewPath("spec", "names", "kind"))...)
	return errs
}

func validateGroup(group string, path *field.Path) field.ErrorList {
	if group == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Subdomain(group) {
		errs = append(errs, field.Invalid(path, group, msg))
	}
	if len(strings.Split(group, ".")) < 2 {
		errs = append(errs, field.Invalid(path, group, "should be a domain with at least one dot"))
	}
	return errs
}

// ValidateNames checks spec.names (and, for the status copy, acceptedNames).
func ValidateNames(n *apiextensionsv1.CustomResourceDefinitionNames, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	label := func(p *field.Path, v string, required bool) {
		if v == "" {
			if required {
				errs = append(errs, field.Required(p, ""))
			}
			return
		}
		for _, msg := range utilvalidation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(p, v, msg))
		}
	}
	label(path.Child("plural"), n.Plural, true)
	label(path.Child("singular"), n.Singular, false)
	if n.Kind == "" {
		errs = append(errs, field.Required(path.Child("kind"), ""))
	} else {
		for _, msg := range utilvalidation.IsDNS1035Label(strings.ToLower(n.Kind)) {
			errs = append(errs, field.Invalid(path.Child("kind"), n.Kind, "may have mixed case, but should otherwise match: "+msg))
		}
	}
	if n.ListKind != "" {
		for _, msg := range utilvalidation.IsDNS1035Label(strings.ToLower(n.ListKind)) {
			errs = append(errs, field.Invalid(path.Child("listKind"), n.ListKind, "may have mixed case, but should otherwise match: "+msg))
		}
		if n.ListKind == n.Kind {
			errs = append(errs, field.Invalid(path.Child("listKind"), n.ListKind, "kind and listKind may not be the same"))
		}
	}
	for i, s := range n.ShortNames {
		label(path.Child("shortNames").Index(i), s, true)
	}
	for i, c := range n.Categories {
		if c == "" {
			errs = append(errs, field.Invalid(path.Child("categories").Index(i), c, "must not be empty"))
		}
	}
	return errs
}

func validateVersions(spec *apiextensionsv1.CustomResourceDefinitionSpec, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	path := specPath.Child("versions")
	if len(spec.Versions) == 0 {
		return field.ErrorList{field.Invalid(path, spec.Versions, "must have exactly one version marked as storage version")}
	}
	storage, served := 0, 0
	seen := sets.New[string]()
	for i := range spec.Versions {
		v := &spec.Versions[i]
		vp := path.Index(i)
		if v.Storage {
			storage++
		}
		if v.Served {
			served++
		}
		if seen.Has(v.Name) {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		}
		seen.Insert(v.Name)
		if v.Name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else {
			for _, msg := range utilvalidation.IsDNS1035Label(v.Name) {
				errs = append(errs, field.Invalid(vp.Child("name"), v.Name, msg))
			}
		}
		errs = append(errs, validateSchema(v, vp)...)
		errs = append(errs, validateSubresources(v.Subresources, vp.Child("subresources"))...)
		errs = append(errs, validatePrinterColumns(v.AdditionalPrinterColumns, vp.Child("additionalPrinterColumns"))...)
		if v.DeprecationWarning != nil {
			if !v.Deprecated {
				errs = append(errs, field.Invalid(vp.Child("deprecationWarning"), *v.DeprecationWarning, "can only be set for deprecated versions"))
			} else if len(*v.DeprecationWarning) > 256 {
				errs = append(errs, field.TooLong(vp.Child("deprecationWarning"), "", 256))
			}
		}
	}
	if storage != 1 {
		errs = append(errs, field.Invalid(path, spec.Versions, "must have exactly one version marked as storage version"))
	}
	if served == 0 {
		errs = append(errs, field.Invalid(path, spec.Versions, "must have at least one version marked as served"))
	}
	return errs
}

func validateSchema(v *apiextensionsv1.CustomResourceDefinitionVersion, vp *field.Path) field.ErrorList {
	sp := vp.Child("schema", "openAPIV3Schema")
	if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
		return field.ErrorList{field.Required(sp, "schemas are required")}
	}
	s, err := crdschema.New(v.Schema.OpenAPIV3Schema)
	var notStructural *crdschema.NotStructuralError
	if errors.As(err, &notStructural) {
		return rebase(notStructural.Errs, sp)
	}
	if err != nil {
		return field.ErrorList{field.Invalid(sp, "", err.Error())}
	}
	_, errs := crdcel.Compile(s, sp)
	return errs
}

// rebase moves errors reported under openAPIV3Schema (crdschema.New's
// root) to the version's schema path.
func rebase(errs field.ErrorList, sp *field.Path) field.ErrorList {
	out := make(field.ErrorList, 0, len(errs))
	for _, e := range errs {
		c := *e
		c.Field = strings.Replace(c.Field, "openAPIV3Schema", sp.String(), 1)
		out = append(out, &c)
	}
	return out
}

func validateSubresources(s *apiextensionsv1.CustomResourceSubresources, path *field.Path) field.ErrorList {
	if s == nil || s.Scale == nil {
		return nil
	}
	var errs field.ErrorList
	sc, sp := s.Scale, path.Child("scale")
	under := func(p *field.Path, v string, prefixes ...string) {
		if v == "" {
			errs = append(errs, field.Required(p, ""))
			return
		}
		for _, pre := range prefixes {
			if strings.HasPrefix(v, pre+".") && validSimplePath(v) {
				return
			}
		}
		msg := "should be a json path under .spec"
		switch {
		case len(prefixes) == 2:
			msg = "should be a json path under either .spec or .status"
		case prefixes[0] == ".status":
			msg = "should be a json path under .status"
		}
		errs = append(errs, field.Invalid(p, v, msg))
	}
	under(sp.Child("specReplicasPath"), sc.SpecReplicasPath, ".spec")
	under(sp.Child("statusReplicasPath"), sc.StatusReplicasPath, ".status")
	if sc.LabelSelectorPath != nil {
		under(sp.Child("labelSelectorPath"), *sc.LabelSelectorPath, ".spec", ".status")
	}
	return errs
}

// validSimplePath accepts the dotted field paths scale paths are: no
// array indices or filters.
func validSimplePath(p string) bool {
	for _, seg := range strings.Split(p, ".")[1:] {
		if seg == "" || strings.ContainsAny(seg, "[]*@?()") {
			return false
		}
	}
	return true
}

var printerColumnTypes = []string{"boolean", "date", "integer", "number", "string"}

func validatePrinterColumns(cols []apiextensionsv1.CustomResourceColumnDefinition, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range cols {
		p := path.Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		if c.Type == "" {
			errs = append(errs, field.Required(p.Child("type"), fmt.Sprintf("must be one of %s", strings.Join(printerColumnTypes, ", "))))
		} else if !sets.New(printerColumnTypes...).Has(c.Type) {
			errs = append(errs, field.NotSupported(p.Child("type"), c.Type, printerColumnTypes))
		}
		if c.Format != "" && !sets.New("int32", "int64", "float", "double", "byte", "date", "date-time", "password").Has(c.Format) {
			errs = append(errs, field.NotSupported(p.Child("format"), c.Format, []string{"int32", "int64", "float", "double", "byte", "date", "date-time", "password"}))
		}
		if c.JSONPath == "" {
			errs = append(errs, field.Required(p.Child("jsonPath"), ""))
		} else if err := jsonpath.New(c.Name).Parse("{" + c.JSONPath + "}"); err != nil {
			errs = append(errs, field.Invalid(p.Child("jsonPath"), c.JSONPath, "must be a simple json path"))
		}
	}
	return errs
}

func validateConversion(spec *apiextensionsv1.CustomResourceDefinitionSpec, path *field.Path) field.ErrorList {
	c := spec.Conversion
	if c == nil {
		return nil
	}
	var errs field.ErrorList
	switch c.Strategy {
	case apiextensionsv1.NoneConverter:
		if c.Webhook != nil {
			errs = append(errs, field.Forbidden(path.Child("webhook"), "should not be set when strategy is not set to Webhook"))
		}
	case apiextensionsv1.WebhookConverter:
		wp := path.Child("webhook")
		if c.Webhook == nil {
			return append(errs, field.Required(wp, "required when strategy is set to Webhook"))
		}
		cc := c.Webhook.ClientConfig
		if cc == nil {
			errs = append(errs, field.Required(wp.Child("clientConfig"), "required when strategy is set to Webhook"))
		} else {
			cp := wp.Child("clientConfig")
			switch {
			case cc.URL == nil && cc.Service == nil:
				errs = append(errs, field.Required(cp, "exactly one of url or service is required"))
			case cc.URL != nil && cc.Service != nil:
				errs = append(errs, field.Required(cp, "exactly one of url or service is required"))
			case cc.URL != nil && !strings.HasPrefix(*cc.URL, "https://"):
				errs = append(errs, field.Invalid(cp.Child("url"), *cc.URL, "'https' is the only allowed URL scheme"))
			}
		}
		if len(c.Webhook.ConversionReviewVersions) == 0 {
			errs = append(errs, field.Required(wp.Child("conversionReviewVersions"), "must specify one of v1, v1beta1"))
		} else if !sets.New(c.Webhook.ConversionReviewVersions...).HasAny("v1", "v1beta1") {
			errs = append(errs, field.Invalid(wp.Child("conversionReviewVersions"), c.Webhook.ConversionReviewVersions, "must include at least one of v1, v1beta1"))
		}
	case "":
		errs = append(errs, field.Required(path.Child("strategy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("strategy"), c.Strategy, []string{string(apiextensionsv1.NoneConverter), string(apiextensionsv1.WebhookConverter)}))
	}
	return errs
}

func validateStoredVersions(crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("status", "storedVersions")
	versions := sets.New[string]()
	for _, v := range crd.Spec.Versions {
		versions.Insert(v.Name)
	}
	for i, v := range crd.Status.StoredVersions {
		if !versions.Has(v) {
			errs = append(errs, field.Invalid(path.Index(i), v, "must appear in spec.versions"))
		}
	}
	return errs
}
