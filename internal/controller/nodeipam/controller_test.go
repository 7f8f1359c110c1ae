package nodeipam_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"skiff.dev/skiff/internal/controller/nodeipam"
	"skiff.dev/skiff/internal/controlplane"
	"skiff.dev/skiff/internal/controlplane/controlplanetest"
)

// TestAllocator runs the controller against a real control plane (its
// own nodeipam off) with room for two /24s: it rebuilds the allocation
// from a node that has a CIDR, gives a new node the other one, lets a
// third wait with CIDRNotAvailable, and gives it the CIDR a deleted node
// releases.
func TestAllocator(t *testing.T) {
	cfg := controlplanetest.Start(t, controlplane.Config{Controllers: "*,-nodeipam,-nodelifecycle", DisableScheduler: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(cfg)
	create := func(name, cidr string) {
		t.Helper()
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if cidr != "" {
			n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cidrOf := func(name string) string {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		return n.Spec.PodCIDR
	}
	until := func(what string, cond func() (bool, string)) {
		t.Helper()
		var msg string
		if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			var ok bool
			ok, msg = cond()
			return ok, nil
		}); err != nil {
			t.Fatalf("%s: %s", what, msg)
		}
	}

	create("old", "10.42.0.0/24") // the first CIDR: a broken rebuild would hand it out again
	c, err := nodeipam.New(cfg, nodeipam.Options{ClusterCIDR: "10.42.0.0/23", NodeMaskSize: 24}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctrlCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { c.Run(ctrlCtx, 2); close(ran) }()
	defer func() { stop(); <-ran }()

	create("a", "")
	until("a gets the free CIDR", func() (bool, string) {
		got := cidrOf("a")
		return got == "10.42.1.0/24", got
	})
	if n, _ := cs.CoreV1().Nodes().Get(ctx, "a", metav1.GetOptions{}); len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != "10.42.1.0/24" {
		t.Errorf("a podCIDRs = %v", n.Spec.PodCIDRs)
	}
	create("b", "")
	until("b waits: CIDRNotAvailable", func() (bool, string) {
		evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=CIDRNotAvailable"})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "b" {
				return e.Message == "Node b status is now: CIDRNotAvailable", e.Message
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})
	if got := cidrOf("b"); got != "" {
		t.Fatalf("b got %s from a full cluster CIDR", got)
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, "old", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	until("b gets the released CIDR", func() (bool, string) {
		got := cidrOf("b")
		return got == "10.42.0.0/24", got
	})
}
