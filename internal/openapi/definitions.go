package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// ExtensionGVK is the vendor extension naming the group-version-kinds a
// definition or an operation belongs to.
const ExtensionGVK = "x-kubernetes-group-version-kind"

// Well-known definition names the paths refer to.
const (
	defStatus        = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
	defWatchEvent    = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"
	defPatch         = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
	defDeleteOptions = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
	defListOptions   = "io.k8s.apimachinery.pkg.apis.meta.v1.ListOptions"
	defCreateOptions = "io.k8s.apimachinery.pkg.apis.meta.v1.CreateOptions"
	defUpdateOptions = "io.k8s.apimachinery.pkg.apis.meta.v1.UpdateOptions"
	defPatchOptions  = "io.k8s.apimachinery.pkg.apis.meta.v1.PatchOptions"
	defAPIVersions   = "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions"
	defAPIGroupList  = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList"
	defAPIGroup      = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup"
	defResourceList  = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"
	defVersionInfo   = "io.k8s.apimachinery.pkg.version.Info"
	defPodLogOptions = "io.k8s.api.core.v1.PodLogOptions"
)

// builtinGVKs maps a definition name to the group-version-kinds its Go type
// is registered as, sorted, the way upstream's DefinitionNamer does (worked
// out by internal/gendefs, from a scheme of every group, when it wrote
// builtinJSON).
var builtinGVKs = sync.OnceValue(func() map[string][]schema.GroupVersionKind {
	out := map[string][]schema.GroupVersionKind{}
	for name, line := range *builtins() {
		if line.gvks == "" {
			continue
		}
		for _, k := range strings.Split(line.gvks, ",") {
			parts := strings.Split(k, "/")
			if len(parts) != 3 {
				panic(fmt.Sprintf("openapi: built-in definition %s: malformed kind %q", name, k))
			}
			out[name] = append(out[name], schema.GroupVersionKind{Group: parts[0], Version: parts[1], Kind: parts[2]})
		}
	}
	return out
})

// DefinitionName is the canonical OpenAPI definition name of a Go API type,
// e.g. "io.k8s.api.core.v1.ConfigMap" for a *corev1.ConfigMap: the type's
// OpenAPIModelName when it has one, otherwise its package path turned REST
// friendly (k8s.io/api/core/v1.Pod → io.k8s.api.core.v1.Pod).
func DefinitionName(obj any) string {
	name := util.GetCanonicalTypeName(obj)
	if strings.HasPrefix(name, "io.") || strings.HasPrefix(name, "com.") {
		return name
	}
	return util.ToRESTFriendlyName(name)
}

// builtinJSON holds the built-in definitions, one per line (see
// internal/gendefs): NAME, a tab, the kinds, a tab, and
// {"schema":...,"dependencies":[...]} with references in v3 form. Kept as data rather than as openapi-gen's Go
// code, which would be ~2.5 MiB of the binary, resident in every process.
// Not compressed: inflating it would put 1.3 MiB on the heap whenever a
// document or a kind's apply schemas are built, startup included.
//
//go:embed generated/definitions.jsonl
var builtinJSON string

// builtinTable maps each built-in definition's name to its line in
// builtinJSON (substrings of it: nothing is copied).
type builtinTable map[string]builtinLine

type builtinLine struct {
	gvks string // "group/version/Kind,..."
	json string
}

// builtins returns the table of built-in definitions.
var builtins = sync.OnceValue(func() *builtinTable {
	t := make(builtinTable, strings.Count(builtinJSON, "\n"))
	for line := range strings.Lines(builtinJSON) {
		fields := strings.SplitN(strings.TrimSuffix(line, "\n"), "\t", 3)
		if len(fields) != 3 {
			panic(fmt.Sprintf("openapi: malformed built-in definition line %.80q", line))
		}
		t[fields[0]] = builtinLine{gvks: fields[1], json: fields[2]}
	}
	return &t
})

// builtinIndex maps each built-in kind to the definition naming it in
// ExtensionGVK.
var builtinIndex = sync.OnceValue(func() map[schema.GroupVersionKind]string {
	out := map[schema.GroupVersionKind]string{}
	for name, gvks := range builtinGVKs() {
		if !isBuiltin(name) {
			continue
		}
		for _, gvk := range gvks {
			out[gvk] = name
		}
	}
	return out
})

func isBuiltin(name string) bool {
	_, ok := (*builtins())[name]
	return ok
}

// refPattern matches a reference as builtinJSON stores it; group 1 is the
// escaped definition name.
var refPattern = regexp.MustCompile(`"\$ref":"` + regexp.QuoteMeta(refV3) + `([^"]*)"`)

// builtinDefinition decodes the built-in definition name from t,
// references rendered under prefix (refV2 or refV3), with ExtensionGVK set
// if it is a registered kind. The caller owns the result.
func builtinDefinition(t *builtinTable, name, prefix string) (common.OpenAPIDefinition, bool) {
	l, ok := (*t)[name]
	if !ok {
		return common.OpenAPIDefinition{}, false
	}
	line := l.json
	if prefix != refV3 {
		line = strings.ReplaceAll(line, `"$ref":"`+refV3, `"$ref":"`+prefix)
	}
	return decodeBuiltin(name, line), true
}

// decodeBuiltin decodes one line of builtinJSON. The lines are generated
// and tested (TestEmbeddedDefinitions), so one that does not decode is a
// bug in the build, not an input error.
func decodeBuiltin(name, line string) common.OpenAPIDefinition {
	var e struct {
		Schema       spec.Schema `json:"schema"`
		Dependencies []string    `json:"dependencies"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		panic(fmt.Sprintf("openapi: built-in definition %s: %v", name, err))
	}
	def := common.OpenAPIDefinition{Schema: e.Schema, Dependencies: e.Dependencies}
	// The v2 builder takes a type's v2 form (IntOrString, Quantity) from
	// this extension only as a spec.Schema, not as decoded JSON.
	if v2, ok := def.Schema.Extensions[common.ExtensionV2Schema]; ok {
		raw, err := json.Marshal(v2)
		var v2Schema spec.Schema
		if err == nil {
			err = json.Unmarshal(raw, &v2Schema)
		}
		if err != nil {
			panic(fmt.Sprintf("openapi: built-in definition %s: %s: %v", name, common.ExtensionV2Schema, err))
		}
		def.Schema.Extensions[common.ExtensionV2Schema] = v2Schema
	}
	if kinds, ok := builtinGVKs()[name]; ok {
		if def.Schema.Extensions == nil {
			def.Schema.Extensions = spec.Extensions{}
		}
		def.Schema.Extensions[ExtensionGVK] = gvkExtension(kinds)
	}
	return def
}

// BuiltinDefinitions returns the definitions of every built-in type skiff
// serves (openapi-gen's output, see generate.sh), keyed by canonical name,
// with ExtensionGVK set on each registered kind. ref renders references:
// "#/definitions/NAME" for OpenAPI v2, "#/components/schemas/NAME" for v3.
// Each call decodes a fresh map the caller owns; serving decodes only the
// definitions a document needs.
func BuiltinDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	t := builtins()
	out := make(map[string]common.OpenAPIDefinition, len(*t))
	for name, l := range *t {
		line := refPattern.ReplaceAllStringFunc(l.json, func(m string) string {
			escaped := refPattern.FindStringSubmatch(m)[1]
			target := ref(unescapeJSONPointer(escaped))
			r, err := json.Marshal(target.String())
			if err != nil {
				panic(err)
			}
			return `"$ref":` + string(r)
		})
		out[name] = decodeBuiltin(name, line)
	}
	return out
}

var _ common.GetOpenAPIDefinitions = BuiltinDefinitions

// unescapeJSONPointer undoes common.EscapeJsonPointer.
func unescapeJSONPointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// restFriendly turns a Go-path definition name (only produced for types
// without a model-package tag) into its canonical form; canonical names pass
// through unchanged.
func restFriendly(name string) string {
	if strings.Contains(name, "/") {
		return util.ToRESTFriendlyName(name)
	}
	return name
}

// gvkExtension renders kinds as the JSON-shaped value of ExtensionGVK.
func gvkExtension(kinds []schema.GroupVersionKind) []any {
	out := make([]any, len(kinds))
	for i, k := range kinds {
		out[i] = map[string]any{"group": k.Group, "version": k.Version, "kind": k.Kind}
	}
	return out
}

// gvksOf reads ExtensionGVK from extensions, accepting a single object or a
// list of objects in any of the shapes Go code or decoded JSON produce.
func gvksOf(ext spec.Extensions) ([]schema.GroupVersionKind, error) {
	v, ok := ext[ExtensionGVK]
	if !ok {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	type gvk struct{ Group, Version, Kind string }
	var list []gvk
	if err := json.Unmarshal(raw, &list); err != nil {
		var one gvk
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%s is neither an object nor a list of objects: %s", ExtensionGVK, raw)
		}
		list = []gvk{one}
	}
	out := make([]schema.GroupVersionKind, len(list))
	for i, k := range list {
		out[i] = schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
	}
	return out, nil
}
