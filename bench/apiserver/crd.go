package main

import (
	"context"
	"flag"
	"fmt"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

var crds = flag.Int("crds", 20, "CRDs the crd phase creates one after another")

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdResult is the crd phase: how soon a new CRD's resource is served, and
// how fast custom resources are created.
type crdResult struct {
	established []time.Duration // create answered → Established=True seen by a watch
	served      []time.Duration // create answered → first 200 LIST of the new resource
	creates     opResult        // custom resource creates, 16 workers
}

// measureCRD creates -crds CRDs one at a time. For each it times, from the
// CRD create's response, the Established condition arriving on a watch and
// the first LIST of the new resource that succeeds (retried at once on
// 404); then it creates custom resources of the last one with 16 workers
// for -duration.
func measureCRD(ctx context.Context, c *clients, srv *skiffproc.Process, r *report) error {
	cfg := rest.CopyConfig(c.base)
	cfg.Timeout = requestTimeout
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.codes.take()
	var res crdResult
	var last schema.GroupVersionResource
	for i := range *crds {
		plural := fmt.Sprintf("benchthings%d", i)
		gvr := schema.GroupVersionResource{Group: "bench.skiff.dev", Version: "v1", Resource: plural}
		w, err := dyn.Resource(crdGVR).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + plural + ".bench.skiff.dev"})
		if err != nil {
			return err
		}
		if _, err := dyn.Resource(crdGVR).Create(ctx, benchCRD(plural), metav1.CreateOptions{}); err != nil {
			w.Stop()
			return err
		}
		created := time.Now()
		var served time.Duration
		var wg sync.WaitGroup
		var listErr error
		wg.Go(func() {
			for {
				_, err := dyn.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
				if err == nil {
					served = time.Since(created)
					return
				}
				if !apierrors.IsNotFound(err) || ctx.Err() != nil || time.Since(created) > time.Minute {
					listErr = err
					return
				}
			}
		})
		est, err := waitEstablished(ctx, w, created)
		w.Stop()
		wg.Wait()
		if err != nil {
			return err
		}
		if listErr != nil {
			return fmt.Errorf("listing %s: %w", gvr, listErr)
		}
		res.established = append(res.established, est)
		res.served = append(res.served, served)
		last = gvr
	}
	css, err := c.clientsets(1, requestTimeout)
	if err != nil {
		return err
	}
	create := func(ctx context.Context, _ *kubernetes.Clientset, worker, seq int) error {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "bench.skiff.dev/v1", "kind": kindOf(last.Resource),
			"metadata": map[string]any{"name": fmt.Sprintf("w%d-%d", worker, seq)},
			"spec":     map[string]any{"size": "small", "replicas": int64(seq % 10)},
		}}
		_, err := dyn.Resource(last).Namespace("default").Create(ctx, obj, metav1.CreateOptions{})
		return err
	}
	res.creates, err = timed(ctx, c, srv, css, "create", 16, create)
	if err != nil {
		return err
	}
	r.crd = res
	return nil
}

func waitEstablished(ctx context.Context, w watch.Interface, since time.Time) (time.Duration, error) {
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return 0, fmt.Errorf("CRD watch closed before Established")
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return time.Since(since), nil
				}
			}
		case <-timeout:
			return 0, fmt.Errorf("CRD not Established within a minute")
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func kindOf(plural string) string { return "Bench" + plural }

func benchCRD(plural string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + ".bench.skiff.dev"},
		"spec": map[string]any{
			"group": "bench.skiff.dev", "scope": "Namespaced",
			"names": map[string]any{"plural": plural, "kind": kindOf(plural)},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"spec": map[string]any{"type": "object", "properties": map[string]any{
							"size":     map[string]any{"type": "string", "enum": []any{"small", "large"}, "default": "small"},
							"replicas": map[string]any{"type": "integer", "minimum": int64(0)},
						}},
						"status": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
					},
				}},
			}},
		},
	}}
}

func (r crdResult) durations(which []time.Duration) (p50, maxD time.Duration) {
	s := slices.Clone(which)
	slices.Sort(s)
	return percentile(s, 0.5), s[len(s)-1]
}
