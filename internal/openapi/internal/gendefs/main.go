// Command gendefs writes the built-in OpenAPI definitions, openapi-gen's
// output in package generated, as data: one line per definition,
//
//	NAME<TAB>GVKS<TAB>{"schema":SCHEMA,"dependencies":[NAME...]}
//
// sorted by name, every name canonical (REST-friendly), every reference in
// OpenAPI v3 form ("#/components/schemas/NAME"), and GVKS the kinds the
// definition's Go type is registered as ("group/version/Kind", the core
// group empty, comma-separated, sorted; empty for a type that is no kind),
// which package openapi publishes as x-kubernetes-group-version-kind.
// Computing them here keeps the API packages of groups skiff does not
// serve, and a scheme of every group, out of the skiff binary. Package openapi embeds
// the file and decodes a definition when a document or a kind needs it. As
// Go code the definitions are ~2.5 MiB of the skiff binary (instructions
// and their pc tables), and a binary's pages are resident memory; as data
// they are 1.3 MiB (their strings, which the code held too), and package
// generated is left out of the binary.
//
// generate.sh runs it after openapi-gen; TestEmbeddedDefinitions checks the
// file matches package generated.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	schedulingv1alpha3 "k8s.io/api/scheduling/v1alpha3"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"skiff.dev/skiff/internal/openapi/generated"
)

func main() {
	out := flag.String("o", "", "file to write")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gendefs: -o is required")
		os.Exit(2)
	}
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendefs:", err)
		os.Exit(1)
	}
}

// entry is one definition as written; package openapi reads the same shape.
type entry struct {
	Schema       spec.Schema `json:"schema"`
	Dependencies []string    `json:"dependencies,omitempty"`
}

// schemeBuilder registers the kinds of every group-version whose types
// generate.sh feeds to openapi-gen; keep the two lists in step
// (TestSchemeMatchesGenerated checks).
var schemeBuilder = runtime.NewSchemeBuilder(
	admissionregistrationv1.AddToScheme,
	apidiscoveryv2.AddToScheme,
	appsv1.AddToScheme,
	authenticationv1.AddToScheme,
	authorizationv1.AddToScheme,
	autoscalingv1.AddToScheme,
	autoscalingv2.AddToScheme,
	batchv1.AddToScheme,
	certificatesv1.AddToScheme,
	coordinationv1.AddToScheme,
	corev1.AddToScheme,
	discoveryv1.AddToScheme,
	eventsv1.AddToScheme,
	flowcontrolv1.AddToScheme,
	networkingv1.AddToScheme,
	nodev1.AddToScheme,
	policyv1.AddToScheme,
	rbacv1.AddToScheme,
	resourcev1.AddToScheme,
	schedulingv1.AddToScheme,
	schedulingv1alpha3.AddToScheme,
	storagev1.AddToScheme,
	storagemigrationv1.AddToScheme,
	apiextensionsv1.AddToScheme,
)

// kinds maps a definition name to the kinds its Go type is registered as,
// sorted by group, version and kind, as upstream's DefinitionNamer does.
func kinds() (map[string][]schema.GroupVersionKind, error) {
	scheme := runtime.NewScheme()
	if err := schemeBuilder.AddToScheme(scheme); err != nil {
		return nil, err
	}
	byName := map[string][]schema.GroupVersionKind{}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		name := definitionName(reflect.New(t).Interface())
		if !slices.Contains(byName[name], gvk) {
			byName[name] = append(byName[name], gvk)
		}
	}
	for _, gvks := range byName {
		slices.SortFunc(gvks, func(a, b schema.GroupVersionKind) int {
			return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Version, b.Version), strings.Compare(a.Kind, b.Kind))
		})
	}
	return byName, nil
}

// definitionName is package openapi's DefinitionName: the type's
// OpenAPIModelName when it has one, otherwise its package path turned REST
// friendly.
func definitionName(obj any) string {
	name := util.GetCanonicalTypeName(obj)
	if strings.HasPrefix(name, "io.") || strings.HasPrefix(name, "com.") {
		return name
	}
	return util.ToRESTFriendlyName(name)
}

func write(path string) error {
	byKind, err := kinds()
	if err != nil {
		return err
	}
	defs := generated.GetOpenAPIDefinitions(func(name string) spec.Ref {
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(restFriendly(name)))
	})
	byName := make(map[string]entry, len(defs))
	for name, def := range defs {
		deps := make([]string, len(def.Dependencies))
		for i, d := range def.Dependencies {
			deps[i] = restFriendly(d)
		}
		byName[restFriendly(name)] = entry{Schema: def.Schema, Dependencies: deps}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range byName {
			if !yield(n) {
				return
			}
		}
	}) {
		line, err := json.Marshal(byName[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var gvks []string
		for _, k := range byKind[name] {
			gvks = append(gvks, k.Group+"/"+k.Version+"/"+k.Kind)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", name, strings.Join(gvks, ","), line)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// restFriendly is package openapi's: Go-path names (types without a model
// name) become canonical, canonical names pass through.
func restFriendly(name string) string {
	if strings.Contains(name, "/") {
		return util.ToRESTFriendlyName(name)
	}
	return name
}
