package disruption

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// scaleServer serves the objects pods' controllers are looked up by: a
// ReplicaSet controlled by a Deployment, a bare ReplicaSet, a
// StatefulSet's scale and discovery of batch/v1 (Jobs have no scale).
func scaleServer(t *testing.T) *httptest.Server {
	t.Helper()
	scale := func(w http.ResponseWriter, name string, uid types.UID, n int32) {
		_ = json.NewEncoder(w).Encode(autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: uid}, Spec: autoscalingv1.ScaleSpec{Replicas: n}})
	}
	rs := func(w http.ResponseWriter, name string, uid types.UID, n int32, owner *metav1.OwnerReference) {
		r := appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: uid}, Spec: appsv1.ReplicaSetSpec{Replicas: &n}}
		if owner != nil {
			r.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		_ = json.NewEncoder(w).Encode(r)
	}
	yes := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/apps/v1/namespaces/ns/replicasets/web-1":
			rs(w, "web-1", "rs1", 2, &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d1", Controller: &yes})
		case "/apis/apps/v1/namespaces/ns/replicasets/web-2":
			rs(w, "web-2", "rs2", 1, &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d1", Controller: &yes})
		case "/apis/apps/v1/namespaces/ns/replicasets/bare":
			rs(w, "bare", "rs3", 4, nil)
		case "/apis/apps/v1/namespaces/ns/deployments/web/scale":
			scale(w, "web", "d1", 3)
		case "/apis/apps/v1/namespaces/ns/statefulsets/db/scale":
			scale(w, "db", "s1", 5)
		case "/apis/batch/v1":
			fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"batch/v1","resources":[{"name":"jobs","namespaced":true,"kind":"Job"},{"name":"jobs/status","namespaced":true,"kind":"Job"}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func owned(name, apiVersion, kind, owner string, uid types.UID) *corev1.Pod {
	yes := true
	p := pod(name, true)
	p.Namespace = "ns"
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner, UID: uid, Controller: &yes}}
	}
	return p
}

func TestExpectedScale(t *testing.T) {
	c, err := New(&rest.Config{Host: scaleServer(t).URL}, Informers{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		pods          []*corev1.Pod
		want          int32
		wantUnmanaged int
		wantErr       string
	}{{
		// Two ReplicaSets of one Deployment mid-rollout count once, as
		// the Deployment's 3, not 2+1.
		name: "deployment through its replicasets",
		pods: []*corev1.Pod{owned("a", "apps/v1", "ReplicaSet", "web-1", "rs1"), owned("b", "apps/v1", "ReplicaSet", "web-1", "rs1"),
			owned("c", "apps/v1", "ReplicaSet", "web-2", "rs2")},
		want: 3,
	}, {
		name: "bare replicaset, statefulset and an unmanaged pod",
		pods: []*corev1.Pod{owned("a", "apps/v1", "ReplicaSet", "bare", "rs3"), owned("db-0", "apps/v1", "StatefulSet", "db", "s1"),
			owned("lone", "", "", "", "")},
		want: 9, wantUnmanaged: 1,
	}, {
		name:    "a controller without scale",
		pods:    []*corev1.Pod{owned("job-x", "batch/v1", "Job", "job", "j1")},
		wantErr: `found no controllers for pod "job-x"`,
	}, {
		name:    "a controller that is another object by now",
		pods:    []*corev1.Pod{owned("db-0", "apps/v1", "StatefulSet", "db", "old-uid")},
		wantErr: `found no controllers for pod "db-0"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unmanaged, err := c.expectedScale(context.Background(), tt.pods)
			if fmt.Sprint(err) != tt.wantErr && !(err == nil && tt.wantErr == "") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if err == nil && (got != tt.want || len(unmanaged) != tt.wantUnmanaged) {
				t.Errorf("expected %d (unmanaged %v), want %d (%d unmanaged)", got, unmanaged, tt.want, tt.wantUnmanaged)
			}
		})
	}
}
