package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/client"
)

// runPods creates -pods pods bound to the agent's nodes in a namespace of
// their own and reports how long until every one is Running.
func runPods(ctx context.Context, core *client.Core, coord *client.Group, prefix string, pid, serverPID int) error {
	ns := prefix
	if _, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	w, err := core.Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	defer func() { w.Stop() }()

	agentCPU0, _ := cpuTicks(pid)
	serverCPU0, _ := cpuTicks(serverPID)
	start := time.Now()
	var created atomic.Int64
	var createErr error
	var errOnce sync.Once
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= *pods {
					return
				}
				p := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i), Namespace: ns},
					Spec: corev1.PodSpec{
						NodeName:   fmt.Sprintf("%s-%d", prefix, i%*count),
						Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
					},
				}
				if _, err := core.Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					errOnce.Do(func() { createErr = err })
					return
				}
				created.Add(1)
			}
		})
	}
	createdAll := make(chan time.Duration, 1)
	go func() { wg.Wait(); createdAll <- time.Since(start) }()

	// The oldest lease renewal seen while the pods start: heartbeats must
	// not wait behind pod work.
	var maxLeaseAge time.Duration
	leaseTick := time.NewTicker(2 * time.Second)
	defer leaseTick.Stop()
	running := map[string]bool{}
	var lastRV string
	deadline := time.After(5 * time.Minute)
	for len(running) < *pods {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				// The server ends watches now and then; carry on from
				// the last event seen.
				if w, err = core.Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: lastRV}); err != nil {
					return err
				}
				continue
			}
			if ev.Type == watch.Error {
				return fmt.Errorf("pod watch: %v", ev.Object)
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			if p, ok := ev.Object.(*corev1.Pod); ok {
				lastRV = p.ResourceVersion
				if p.Status.Phase == corev1.PodRunning {
					running[p.Name] = true
				}
			}
		case <-leaseTick.C:
			ls, err := coord.Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			now := time.Now()
			for _, l := range ls.Items {
				if strings.HasPrefix(l.Name, prefix+"-") && l.Spec.RenewTime != nil {
					maxLeaseAge = max(maxLeaseAge, now.Sub(l.Spec.RenewTime.Time))
				}
			}
		case <-deadline:
			return fmt.Errorf("%d of %d pods Running after 5 minutes (created %d)", len(running), *pods, created.Load())
		}
	}
	allRunning := time.Since(start)
	createTime := <-createdAll
	if createErr != nil {
		return createErr
	}
	agentCPU1, _ := cpuTicks(pid)
	serverCPU1, _ := cpuTicks(serverPID)
	rss, _ := procStatus(pid, "VmRSS")
	hwm, _ := procStatus(pid, "VmHWM")
	fmt.Printf("%-34s %12d\n", "pods", *pods)
	fmt.Printf("%-34s %11.2fs\n", "all created", createTime.Seconds())
	fmt.Printf("%-34s %11.2fs\n", "all Running", allRunning.Seconds())
	fmt.Printf("%-34s %11.2fs\n", "agent CPU until all Running", float64(agentCPU1-agentCPU0)/clockTicks)
	if serverPID != 0 {
		fmt.Printf("%-34s %11.2fs\n", "server CPU until all Running", float64(serverCPU1-serverCPU0)/clockTicks)
	}
	fmt.Printf("%-34s %11.2fs\n", "oldest lease while pods started", maxLeaseAge.Seconds())
	fmt.Printf("%-34s %8.1f MiB\n", "agent RSS, pods running", float64(rss)/1024)
	fmt.Printf("%-34s %8.1f MiB\n", "agent peak RSS", float64(hwm)/1024)
	fmt.Printf("metric pods_all_running_s %.2f s\n", allRunning.Seconds())
	fmt.Printf("metric max_lease_age_s %.2f s\n", maxLeaseAge.Seconds())
	fmt.Printf("metric agent_rss_with_pods_mib %.1f MiB\n", float64(rss)/1024)
	return nil
}
