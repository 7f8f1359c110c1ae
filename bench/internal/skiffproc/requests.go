package skiffproc

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// Requests counts the API server's requests by "VERB resource[/subresource]"
// (verb upper-cased),
// read from apiserver_request_total on /metrics.
type Requests map[string]float64

// ReadRequests reads the server's request counters through c (any client
// of the server, e.g. a clientset's RESTClient()).
func ReadRequests(ctx context.Context, c rest.Interface) (Requests, error) {
	b, err := c.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w", err)
	}
	out := Requests{}
	fam := families["apiserver_request_total"]
	if fam == nil {
		return out, nil
	}
	for _, m := range fam.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		k := strings.ToUpper(l["verb"]) + " " + l["resource"]
		if l["subresource"] != "" {
			k += "/" + l["subresource"]
		}
		out[k] += m.GetCounter().GetValue()
	}
	return out, nil
}

// Writes summarizes the mutating requests made since before, the most
// frequent first: "12000 UPDATE pods/status, 10000 CREATE pods, ...".
func (r Requests) Writes(before Requests) string {
	diff := map[string]float64{}
	for k, v := range r {
		verb, _, _ := strings.Cut(k, " ")
		switch verb {
		case "CREATE", "UPDATE", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY":
			if d := v - before[k]; d > 0 {
				diff[k] = d
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(diff), func(a, b string) int {
		if diff[a] != diff[b] {
			if diff[a] > diff[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%.0f %s", diff[k], k)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
