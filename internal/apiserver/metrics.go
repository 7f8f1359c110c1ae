package apiserver

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"skiff.dev/skiff/internal/auth"
)

// metrics are the server's own Prometheus metrics, named as
// kube-apiserver names the same figures so dashboards carry over.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watches  *prometheus.GaugeVec
	inflight *prometheus.GaugeVec
	rejected *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Requests by verb, group, resource, subresource and HTTP code.",
		}, []string{"verb", "group", "resource", "subresource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_request_duration_seconds",
			Help:    "Request latency by verb, group, resource and subresource (watches excluded).",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"verb", "group", "resource", "subresource"}),
		watches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_longrunning_requests",
			Help: "Open watches by group and resource.",
		}, []string{"group", "resource"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_current_inflight_requests",
			Help: "Requests being served, by kind (readOnly or mutating).",
		}, []string{"request_kind"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_dropped_requests_total",
			Help: "Requests refused with 429 because too many were in flight.",
		}, []string{"request_kind"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.watches, m.inflight, m.rejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registerer is where other parts of the process (the store, the watch
// caches, controllers) register their metrics, to be served on /metrics.
func (s *Server) Registerer() prometheus.Registerer { return s.metrics.registry }

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// statusRecorder remembers the code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets watches stream through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Limits on requests in flight, as kube-apiserver's --max-requests-inflight
// and --max-mutating-requests-inflight; watches do not count.
const (
	DefaultMaxReadOnlyInflight = 400
	DefaultMaxMutatingInflight = 200
)

// exempt reports whether a request is beyond the in-flight limits: one of
// system:masters, as kube-apiserver's API Priority and Fairness exempts
// that group (the "exempt" FlowSchema). The in-process controllers and
// scheduler are system:masters: a busy scheduler's bindings refused with
// 429 waited a second each before their retry.
func exempt(r *http.Request) bool {
	u, ok := auth.UserFrom(r.Context())
	return ok && slices.Contains(u.Groups, auth.GroupMasters)
}

// connectSubresources are the subresources kube-apiserver's request
// metrics report under the verb CONNECT.
var connectSubresources = map[string]bool{"log": true, "exec": true, "portforward": true, "attach": true, "proxy": true}

// reportedVerb is the verb label of a request's metrics, as kube-apiserver
// reports it: its route's action (POST, PUT, LIST, WATCH, ...), APPLY for
// a server-side apply patch, CONNECT for the streaming subresources. So
// dashboards and alerts written for it (verb=~"POST|PUT|PATCH|DELETE")
// carry over.
func reportedVerb(info RequestInfo, r *http.Request) string {
	if connectSubresources[info.Subresource] {
		return "CONNECT"
	}
	switch info.Verb {
	case "create":
		return "POST"
	case "update":
		return "PUT"
	case "patch":
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			return "APPLY"
		}
		return "PATCH"
	}
	return strings.ToUpper(info.Verb)
}

// instrument counts, times and limits a resource request.
func (s *Server) instrument(w http.ResponseWriter, r *http.Request, info RequestInfo, serve func(http.ResponseWriter, *http.Request)) {
	verb := reportedVerb(info, r)
	if info.Verb == "watch" {
		g := s.metrics.watches.WithLabelValues(info.APIGroup, info.Resource)
		g.Inc()
		defer g.Dec()
		rec := &statusRecorder{ResponseWriter: w}
		serve(rec, r)
		s.metrics.requests.WithLabelValues(verb, info.APIGroup, info.Resource, info.Subresource, strconv.Itoa(rec.code)).Inc()
		return
	}
	kind, sem := "readOnly", s.readOnlySlots
	switch info.Verb {
	case "create", "update", "patch", "delete", "deletecollection":
		kind, sem = "mutating", s.mutatingSlots
	}
	if !exempt(r) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		default:
			s.metrics.rejected.WithLabelValues(kind).Inc()
			s.metrics.requests.WithLabelValues(verb, info.APIGroup, info.Resource, info.Subresource, "429").Inc()
			writeError(w, r, apierrors.NewTooManyRequests("too many requests, please try again later", 1))
			return
		}
	}
	g := s.metrics.inflight.WithLabelValues(kind)
	g.Inc()
	defer g.Dec()
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	serve(rec, r)
	s.metrics.latency.WithLabelValues(verb, info.APIGroup, info.Resource, info.Subresource).Observe(time.Since(start).Seconds())
	s.metrics.requests.WithLabelValues(verb, info.APIGroup, info.Resource, info.Subresource, strconv.Itoa(rec.code)).Inc()
}

// cacheCollector reports each resource's watch-cache size at scrape time,
// as kube-apiserver's apiserver_storage_objects.
type cacheCollector struct{ s *Server }

var storageObjectsDesc = prometheus.NewDesc("apiserver_storage_objects",
	"Objects of each resource, as held by its watch cache.", []string{"resource"}, nil)

func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- storageObjectsDesc }

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	// Versions of one resource (autoscaling/v1 and v2 HPAs) share their
	// objects: report the resource once.
	seen := map[string]bool{}
	for gvr, sv := range c.s.resources {
		gr := gvr.GroupResource().String()
		if seen[gr] {
			continue
		}
		seen[gr] = true
		ch <- prometheus.MustNewConstMetric(storageObjectsDesc, prometheus.GaugeValue, float64(sv.store.CacheSize()), gr)
	}
}
