package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
)

// scalableConfigMaps is a test resource: ConfigMaps whose data.replicas is
// their replica count, so the scale plumbing is tested apart from any
// workload kind.
func scalableConfigMaps(t *testing.T, s *Server) {
	t.Helper()
	var base *registry.Resource
	for _, r := range s.resourcesForTest() {
		if r.GVR.Resource == "configmaps" {
			base = r
		}
	}
	res := *base
	res.GVR.Resource = "scalables"
	res.Subresources = []string{"scale"}
	res.Scale = &registry.Scale{
		Replicas: func(obj runtime.Object) int32 {
			n, _ := strconv.Atoi(obj.(*corev1.ConfigMap).Data["replicas"])
			return int32(n)
		},
		SetReplicas: func(obj runtime.Object, n int32) {
			cm := obj.(*corev1.ConfigMap)
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data["replicas"] = strconv.Itoa(int(n))
		},
		StatusReplicas: func(runtime.Object) int32 { return 7 },
		Selector:       func(runtime.Object) string { return "app=web" },
	}
	if _, err := s.Register(&res); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestScaleSubresource(t *testing.T) {
	s, hs := newTestServer(t)
	scalableConfigMaps(t, s)
	base := hs.URL + "/api/v1/namespaces/default/scalables"
	if code, _, b := do(t, "POST", base, "application/json", "", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web"},"data":{"replicas":"2"}}`)); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	scale := func(code int, body []byte) autoscalingv1.Scale {
		t.Helper()
		var sc autoscalingv1.Scale
		if err := json.Unmarshal(body, &sc); err != nil || code != 200 || sc.Kind != "Scale" || sc.APIVersion != "autoscaling/v1" {
			t.Fatalf("scale answer %d: %s", code, body)
		}
		return sc
	}
	code, _, body := do(t, "GET", base+"/web/scale", "", "", nil)
	sc := scale(code, body)
	if sc.Spec.Replicas != 2 || sc.Status.Replicas != 7 || sc.Status.Selector != "app=web" || sc.Name != "web" || sc.ResourceVersion == "" {
		t.Fatalf("GET scale: %+v", sc)
	}
	// kubectl scale sends a merge patch.
	code, _, body = do(t, "PATCH", base+"/web/scale", "application/merge-patch+json", "", []byte(`{"spec":{"replicas":5}}`))
	if sc := scale(code, body); sc.Spec.Replicas != 5 {
		t.Fatalf("PATCH scale: %+v", sc)
	}
	_, _, body = do(t, "GET", base+"/web", "", "", nil)
	if !strings.Contains(string(body), `"replicas":"5"`) {
		t.Fatalf("the object did not change: %s", body)
	}
	// PUT with a stale resourceVersion conflicts; without one it applies.
	code, _, body = do(t, "PUT", base+"/web/scale", "application/json", "", []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web","resourceVersion":"1"},"spec":{"replicas":9}}`))
	if code != http.StatusConflict {
		t.Fatalf("stale PUT: %d %s", code, body)
	}
	code, _, body = do(t, "PUT", base+"/web/scale", "application/json", "", []byte(`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":9}}`))
	if sc := scale(code, body); sc.Spec.Replicas != 9 {
		t.Fatalf("PUT scale: %+v", sc)
	}
	code, _, body = do(t, "PATCH", base+"/web/scale", "application/merge-patch+json", "", []byte(`{"spec":{"replicas":-1}}`))
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "spec.replicas") {
		t.Fatalf("negative replicas: %d %s", code, body)
	}
	if code, _, _ := do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps/web/scale", "", "", nil); code != http.StatusNotFound {
		t.Fatalf("scale of a kind without it answered %d", code)
	}
}

// resourcesForTest lists the registered resources.
func (s *Server) resourcesForTest() []*registry.Resource {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*registry.Resource, 0, len(s.resources))
	for _, sv := range s.resources {
		out = append(out, sv.res)
	}
	return out
}
