package skiffproc

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// Requests counts the API server's requests by "VERB resource[/subresource]",
// read from apiserver_request_total on /metrics. Verbs are as kube-apiserver
// labels them: POST, PUT, PATCH, APPLY, DELETE, GET, LIST, WATCH, ...
type Requests map[string]float64

// Metrics is one reading of the server's /metrics.
type Metrics map[string]*dto.MetricFamily

// ReadMetrics reads the server's /metrics through c (any client of the
// server, e.g. a clientset's RESTClient()).
func ReadMetrics(ctx context.Context, c rest.Interface) (Metrics, error) {
	b, err := c.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w", err)
	}
	return families, nil
}

// Histogram returns the sample count and sum of histogram name, summed
// over its label values.
func (m Metrics) Histogram(name string) (count uint64, sum float64) {
	if fam := m[name]; fam != nil {
		for _, x := range fam.GetMetric() {
			count += x.GetHistogram().GetSampleCount()
			sum += x.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}

// Gauge returns the value of gauge name (summed over its label values).
func (m Metrics) Gauge(name string) float64 {
	var v float64
	if fam := m[name]; fam != nil {
		for _, x := range fam.GetMetric() {
			v += x.GetGauge().GetValue()
		}
	}
	return v
}

// GoMemory summarizes the Go runtime's memory: the heap in use, the next
// collection's goal, goroutine stacks, and what the heap holds unused but
// not yet returned to the OS, in MiB.
func (m Metrics) GoMemory() string {
	mib := func(name string) float64 { return m.Gauge(name) / (1 << 20) }
	return fmt.Sprintf("heap in use %.0f MiB, GC goal %.0f MiB, stacks %.0f MiB, idle not released %.0f MiB",
		mib("go_memstats_heap_inuse_bytes"), mib("go_memstats_next_gc_bytes"), mib("go_memstats_stack_inuse_bytes"),
		mib("go_memstats_heap_idle_bytes")-mib("go_memstats_heap_released_bytes"))
}

// Counter is one labelled value of a counter.
type Counter struct {
	Labels map[string]string
	Value  float64
}

// Counters returns the values of counter name, one per label set.
func (m Metrics) Counters(name string) []Counter {
	fam := m[name]
	if fam == nil {
		return nil
	}
	out := make([]Counter, 0, len(fam.GetMetric()))
	for _, x := range fam.GetMetric() {
		l := make(map[string]string, len(x.GetLabel()))
		for _, p := range x.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		out = append(out, Counter{Labels: l, Value: x.GetCounter().GetValue()})
	}
	return out
}

// Requests returns the request counters.
func (m Metrics) Requests() Requests {
	out := Requests{}
	for _, c := range m.Counters("apiserver_request_total") {
		k := c.Labels["verb"] + " " + c.Labels["resource"]
		if c.Labels["subresource"] != "" {
			k += "/" + c.Labels["subresource"]
		}
		out[k] += c.Value
	}
	return out
}

// Writes summarizes the mutating requests made since before, the most
// frequent first: "12000 PUT pods/status, 10000 POST pods, ...".
func (r Requests) Writes(before Requests) string {
	diff := map[string]float64{}
	for k, v := range r {
		verb, _, _ := strings.Cut(k, " ")
		switch verb {
		case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
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
