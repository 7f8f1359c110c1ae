package controlplane

import (
	"fmt"
	"slices"
	"strings"
)

// Controllers are the built-in controllers' names, as
// kube-controller-manager's --controllers spells them.
var Controllers = []string{
	"namespace", "serviceaccount", "garbagecollector", "podgc",
	"replicaset", "replicationcontroller", "deployment", "endpoint", "endpointslice", "job",
}

// ParseControllers reads a --controllers value: a comma-separated list of
// controller names, where "*" is every controller, "name" enables one and
// "-name" disables one (later entries win), as kube-controller-manager
// reads it. "" is "*".
func ParseControllers(spec string) (map[string]bool, error) {
	if strings.TrimSpace(spec) == "" {
		spec = "*"
	}
	on := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		name, disable := strings.CutPrefix(item, "-")
		switch {
		case item == "*":
			for _, c := range Controllers {
				on[c] = true
			}
		case slices.Contains(Controllers, name):
			on[name] = !disable
		default:
			return nil, fmt.Errorf("--controllers: unknown controller %q; known: %s", item, strings.Join(Controllers, ", "))
		}
	}
	return on, nil
}
