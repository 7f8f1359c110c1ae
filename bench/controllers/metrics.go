package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// requestCounts are the server's apiserver_request_total counters for the
// resources the benchmark follows, keyed "resource verb[/subresource]
// code", plus "dropped" for apiserver_dropped_requests_total (429s). Their
// differences over a phase say what the controllers, the scheduler and the
// agent asked of the server: re-established WATCHes and LISTs, conflicts.
type requestCounts map[string]float64

var followed = map[string]bool{"pods": true, "replicasets": true, "deployments": true, "events": true}

func scrapeRequests(ctx context.Context, cs *kubernetes.Clientset) (requestCounts, error) {
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := requestCounts{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		labelText, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		l := labels(labelText)
		switch name {
		case "apiserver_request_total":
			if !followed[l["resource"]] {
				continue
			}
			verb := l["verb"]
			if l["subresource"] != "" {
				verb += "/" + l["subresource"]
			}
			out[l["resource"]+" "+verb+" "+l["code"]] += v
		case "apiserver_dropped_requests_total":
			out["dropped"] += v
		}
	}
	return out, sc.Err()
}

// labels reads a="x",b="y" (values without escaped quotes, as these are).
func labels(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = strings.Trim(v, `"`)
		}
	}
	return m
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

// lines groups the counts by resource: "pods: CREATE 10000, UPDATE/status
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
