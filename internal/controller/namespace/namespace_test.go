package namespace_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"skiff.dev/skiff/internal/controlplane"
	"skiff.dev/skiff/internal/controlplane/controlplanetest"
)

// startControlPlane runs a whole control plane, this controller included,
// in the test process and returns a client of it.
func startControlPlane(t *testing.T) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(controlplanetest.Start(t, controlplane.Config{}))
}

// waitNamespace waits until cond holds for the namespace, or it is gone
// and cond accepts nil.
func waitNamespace(t *testing.T, cs kubernetes.Interface, name string, what string, cond func(*corev1.Namespace) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return cs.CoreV1().Namespaces().List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return cs.CoreV1().Namespaces().Watch(ctx, o)
		},
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Namespace{}, func(store cache.Store) (bool, error) {
		obj, ok, err := store.GetByKey(name)
		if err != nil || !ok {
			return cond(nil), err
		}
		return cond(obj.(*corev1.Namespace)), nil
	}, func(e watch.Event) (bool, error) {
		if e.Type == watch.Deleted {
			return cond(nil), nil
		}
		ns, ok := e.Object.(*corev1.Namespace)
		return ok && cond(ns), nil
	})
	if err != nil {
		t.Fatalf("waiting until namespace %s %s: %v", name, what, err)
	}
}

func condition(ns *corev1.Namespace, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range ns.Status.Conditions {
		if ns.Status.Conditions[i].Type == t {
			return &ns.Status.Conditions[i]
		}
	}
	return nil
}

// TestDeleteNamespace: deleting a namespace deletes its content; content
// held by a finalizer keeps the namespace, with the ContentRemaining
// condition saying what is left, until the finalizer goes.
func TestDeleteNamespace(t *testing.T) {
	cs := startControlPlane(t)
	ctx := context.Background()
	const ns = "doomed"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cms := cs.CoreV1().ConfigMaps(ns)
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "free"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}},
	} {
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var remaining corev1.NamespaceCondition
	waitNamespace(t, cs, ns, "reports the held ConfigMap", func(n *corev1.Namespace) bool {
		if n == nil {
			return true
		}
		c := condition(n, corev1.NamespaceContentRemaining)
		if c == nil || c.Status != corev1.ConditionTrue {
			return false
		}
		remaining = *c
		return true
	})
	if want := "configmaps has 1 resource instances"; remaining.Reason != "SomeResourcesRemain" || !strings.Contains(remaining.Message, want) {
		t.Errorf("ContentRemaining condition %+v, want reason SomeResourcesRemain and a message with %q", remaining, want)
	}
	if _, err := cms.Get(ctx, "free", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap without finalizers in the deleted namespace: %v, want NotFound", err)
	}
	if _, err := cs.CoreV1().Secrets(ns).Get(ctx, "s", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Secret in the deleted namespace: %v, want NotFound", err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Errorf("namespace with content held by a finalizer: %v, want it still there", err)
	}

	held, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	held.Finalizers = nil
	if _, err := cms.Update(ctx, held, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNamespace(t, cs, ns, "is gone", func(n *corev1.Namespace) bool { return n == nil })
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace after its content went: %v, want NotFound", err)
	}
}
