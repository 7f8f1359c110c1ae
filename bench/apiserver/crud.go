package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// crudWorkerSets are the concurrent client-go workers creates and gets run
// with.
var crudWorkerSets = []int{16, 64}

// requestTimeout bounds every non-watch request; one that takes longer
// counts as an error.
const requestTimeout = 30 * time.Second

// opResult is one configuration of a timed operation.
type opResult struct {
	op         string // "create", "get"
	workers    int
	n          int // successful operations
	errors     int // failed operations, as the caller saw them
	firstErr   string
	perSec     float64
	p50, p99   time.Duration
	max        time.Duration
	failures   failures // HTTP responses >= 400 and transport errors, retries included
	dials      int64    // connections the clientsets opened, setup included
	clientsets int
	cpu        skiffproc.CPUTimes
}

func measureCRUD(ctx context.Context, c *clients, srv *skiffproc.Process, r *report) error {
	for _, n := range crudWorkerSets {
		dials0 := c.dials.Load()
		css, err := c.clientsets(min(*clientsets, n), requestTimeout)
		if err != nil {
			return err
		}
		ns := fmt.Sprintf("bench-crud-%d", n)
		if err := createNamespace(ctx, css[0], ns); err != nil {
			return err
		}
		c.codes.take()
		value := strings.Repeat("x", *valueSize)
		names := make([][]string, n) // per worker: the ConfigMaps it created
		create := func(ctx context.Context, cs *kubernetes.Clientset, worker, seq int) error {
			name := fmt.Sprintf("w%d-%d", worker, seq)
			_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap(name, value), metav1.CreateOptions{})
			if err == nil {
				names[worker] = append(names[worker], name)
			}
			return err
		}
		res, err := timed(ctx, c, srv, css, "create", n, create)
		if err != nil {
			return err
		}
		res.dials = c.dials.Load() - dials0
		r.crud = append(r.crud, res)

		all := slices.Concat(names...)
		if len(all) == 0 {
			return fmt.Errorf("%d workers created no ConfigMap: %s", n, res.firstErr)
		}
		get := func(ctx context.Context, cs *kubernetes.Clientset, _, _ int) error {
			_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, all[rand.IntN(len(all))], metav1.GetOptions{})
			return err
		}
		res, err = timed(ctx, c, srv, css, "get", n, get)
		if err != nil {
			return err
		}
		res.dials = c.dials.Load() - dials0
		r.crud = append(r.crud, res)
	}
	var err error
	r.crudRSS, err = skiffproc.ProcStatusKiB(srv.PID(), "VmRSS")
	return err
}

// timed runs op in n workers for *duration; worker i uses clientset
// i mod len(css). A failed op is counted and the worker goes on.
func timed(ctx context.Context, c *clients, srv *skiffproc.Process, css []*kubernetes.Clientset, name string, n int,
	op func(ctx context.Context, cs *kubernetes.Clientset, worker, seq int) error) (opResult, error) {
	lat := make([][]time.Duration, n)
	errs := make([]int, n)
	var (
		mu       sync.Mutex
		firstErr string
	)
	cpu0 := skiffproc.ReadCPU(srv.PID())
	deadline := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		cs := css[i%len(css)]
		wg.Go(func() {
			for seq := 0; time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
				t0 := time.Now()
				if err := op(ctx, cs, i, seq); err != nil {
					errs[i]++
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return opResult{}, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res := opResult{
		op:         name,
		workers:    n,
		n:          len(all),
		firstErr:   firstErr,
		perSec:     float64(len(all)) / elapsed.Seconds(),
		p50:        percentile(all, 0.50),
		p99:        percentile(all, 0.99),
		failures:   c.codes.take(),
		clientsets: len(css),
		cpu:        skiffproc.ReadCPU(srv.PID()).Sub(cpu0),
	}
	if len(all) > 0 {
		res.max = all[len(all)-1]
	}
	for _, e := range errs {
		res.errors += e
	}
	return res, nil
}

func configMap(name, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data:       map[string]string{"value": value},
	}
}

func createNamespace(ctx context.Context, cs *kubernetes.Clientset, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(float64(len(sorted))*p), len(sorted)-1)]
}
