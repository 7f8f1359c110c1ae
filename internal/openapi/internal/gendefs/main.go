// Command gendefs writes the built-in OpenAPI definitions, openapi-gen's
// output in package generated, as data: one line per definition,
//
//	NAME<TAB>{"schema":SCHEMA,"dependencies":[NAME...]}
//
// sorted by name, every name canonical (REST-friendly) and every reference
// in OpenAPI v3 form ("#/components/schemas/NAME"). Package openapi embeds
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
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

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

func write(path string) error {
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
		fmt.Fprintf(w, "%s\t%s\n", name, line)
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
