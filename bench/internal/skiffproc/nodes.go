package skiffproc

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// StartNode starts `skiff node --kubeconfig kubeconfig args...` (a node
// agent joining the server the kubeconfig names), logging to
// skiff-node.log under dir. It returns once the process runs: the nodes
// it registers are for WaitNodes to wait for.
func StartNode(bin, dir, kubeconfig string, args ...string) (*Process, error) {
	logPath := filepath.Join(dir, "skiff-node.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, append([]string{"node", "--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd)
	p := &Process{Kubeconfig: kubeconfig, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// WaitNodes waits up to timeout for n Ready nodes and removes the
// not-ready NoSchedule taint registration gives them from any that still
// has it (the simulated agent removes it itself, as a node lifecycle
// controller would; this is for agents that do not).
func WaitNodes(ctx context.Context, cs kubernetes.Interface, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	untainted := map[string]bool{}
	for {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		var todo []corev1.Node
		for _, node := range list.Items {
			if untainted[node.Name] || !NodeReady(&node) {
				continue
			}
			todo = append(todo, node)
		}
		done, err := untaint(ctx, cs, todo)
		if err != nil {
			return err
		}
		for _, name := range done {
			untainted[name] = true
		}
		if len(untainted) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d nodes ready after %v", len(untainted), n, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// NodeReady says whether the node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// untaint returns the nodes it removed the taint from (or found without
// it); a node the agent changed meanwhile (a conflict) is left for the
// next round.
func untaint(ctx context.Context, cs kubernetes.Interface, nodes []corev1.Node) ([]string, error) {
	work := make(chan corev1.Node)
	var wg sync.WaitGroup
	var firstErr error
	var done []string
	var mu sync.Mutex
	for range 16 {
		wg.Go(func() {
			for n := range work {
				var keep []corev1.Taint
				for _, t := range n.Spec.Taints {
					if t.Key != corev1.TaintNodeNotReady {
						keep = append(keep, t)
					}
				}
				if len(keep) == len(n.Spec.Taints) {
					mu.Lock()
					done = append(done, n.Name)
					mu.Unlock()
					continue
				}
				patch, _ := json.Marshal(map[string]any{
					"metadata": map[string]any{"resourceVersion": n.ResourceVersion},
					"spec":     map[string]any{"taints": keep},
				})
				_, err := cs.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
				mu.Lock()
				switch {
				case err == nil:
					done = append(done, n.Name)
				case !apierrors.IsConflict(err) && firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, n := range nodes {
		work <- n
	}
	close(work)
	wg.Wait()
	return done, firstErr
}

// LoadAvg is the 1, 5 and 15 minute load averages of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	var a, b5, c float64
	fmt.Sscanf(string(b), "%f %f %f", &a, &b5, &c)
	return fmt.Sprintf("%.2f %.2f %.2f", a, b5, c)
}

// ClusterCIDRArgs are the `skiff up` flags for a cluster of nodes nodes:
// beyond the default --cluster-cidr (10.42.0.0/16 in /24s: 256 nodes), a
// range wide enough for a /24 each, as a cluster that size would be set
// up, so that the nodeipam controller has a pod CIDR for every node.
// 10.128.0.0 is aligned for any prefix from /9 and clear of the Service
// range (10.43.0.0/16).
func ClusterCIDRArgs(nodes int) []string {
	if nodes <= 256 {
		return nil
	}
	n := bits.Len(uint(nodes - 1))
	return []string{"--cluster-cidr", fmt.Sprintf("10.128.0.0/%d", max(24-n, 9))}
}
