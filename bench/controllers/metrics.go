package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"

	"skiff.dev/skiff/bench/internal/skiffproc"
)

// requestCounts are the server's apiserver_request_total counters for the
// resources the benchmark follows, keyed "resource verb[/subresource]
// code", plus "dropped" for apiserver_dropped_requests_total (429s). Their
// differences over a phase say what the controllers, the scheduler and the
// agent asked of the server: re-established WATCHes and LISTs, conflicts.
type requestCounts map[string]float64

var followed = map[string]bool{"pods": true, "replicasets": true, "deployments": true, "events": true}

func scrapeRequests(ctx context.Context, cs *kubernetes.Clientset) (requestCounts, error) {
	m, err := skiffproc.ReadMetrics(ctx, cs.CoreV1().RESTClient())
	if err != nil {
		return nil, err
	}
	out := requestCounts{}
	for _, c := range m.Counters("apiserver_request_total") {
		l := c.Labels
		if !followed[l["resource"]] {
			continue
		}
		verb := l["verb"]
		if l["subresource"] != "" {
			verb += "/" + l["subresource"]
		}
		out[l["resource"]+" "+verb+" "+l["code"]] += c.Value
	}
	for _, c := range m.Counters("apiserver_dropped_requests_total") {
		out["dropped"] += c.Value
	}
	return out, nil
}

func (c requestCounts) sub(o requestCounts) requestCounts {
	d := requestCounts{}
	for k, v := range c {
		if n := v - o[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}

// lines groups the counts by resource: "pods: POST 10000, PUT/status
// 20000 (409: 12), ...".
func (c requestCounts) lines() []string {
	type verbCodes struct {
		total float64
		codes map[string]float64
	}
	byRes := map[string]map[string]*verbCodes{}
	for k, v := range c {
		f := strings.Fields(k)
		if len(f) != 3 {
			continue
		}
		res, verb, code := f[0], f[1], f[2]
		if byRes[res] == nil {
			byRes[res] = map[string]*verbCodes{}
		}
		vc := byRes[res][verb]
		if vc == nil {
			vc = &verbCodes{codes: map[string]float64{}}
			byRes[res][verb] = vc
		}
		vc.total += v
		if !strings.HasPrefix(code, "2") {
			vc.codes[code] += v
		}
	}
	var out []string
	for _, res := range slices.Sorted(maps.Keys(byRes)) {
		var parts []string
		for _, verb := range slices.Sorted(maps.Keys(byRes[res])) {
			vc := byRes[res][verb]
			p := fmt.Sprintf("%s %.0f", verb, vc.total)
			var errs []string
			for _, code := range slices.Sorted(maps.Keys(vc.codes)) {
				errs = append(errs, fmt.Sprintf("%s: %.0f", code, vc.codes[code]))
			}
			if len(errs) > 0 {
				p += " (" + strings.Join(errs, ", ") + ")"
			}
			parts = append(parts, p)
		}
		out = append(out, res+": "+strings.Join(parts, ", "))
	}
	if n := c["dropped"]; n > 0 {
		out = append(out, fmt.Sprintf("refused with 429: %.0f", n))
	}
	return out
}
