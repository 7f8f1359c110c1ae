// Package controller holds what skiff's controllers share: a rate-limited
// work queue of keys, and the loop that runs a controller's informers and
// drains its queue with a number of workers until its context ends.
//
// Controllers are level-triggered: a key names what to look at (a
// namespace, an object), never what changed; sync re-reads the informers'
// state for it and makes the world right, so running it twice is harmless.
// The controllers themselves live in the packages below this one.
package controller

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// ErrRequeue, wrapped in sync's error, asks for the key to be looked at
// again after a backoff without logging a failure: the work is not done
// yet (a namespace's content is still being deleted), nothing went wrong.
var ErrRequeue = errors.New("controller: not done yet")

// NewQueue is the work queue of controller name: keys retried with an
// exponential backoff from 50 ms to 30 s.
func NewQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 30*time.Second),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// Loop is one controller's informers, queue and sync function.
type Loop struct {
	Name      string
	Queue     workqueue.TypedRateLimitingInterface[string]
	Informers []cache.SharedIndexInformer
	// Sync makes the world right for key. A nil error forgets the key's
	// failures; any other is retried with backoff.
	Sync func(ctx context.Context, key string) error
}

// Run runs the informers, waits for their caches, then runs workers that
// drain the queue, until ctx ends; it returns once every goroutine it
// started has stopped.
func (l Loop) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Queue.ShutDown()
	synced := make([]cache.InformerSynced, len(l.Informers))
	for i, inf := range l.Informers {
		wg.Go(func() { inf.RunWithContext(ctx) })
		synced[i] = inf.HasSynced
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	for range workers {
		wg.Go(func() { wait.UntilWithContext(ctx, l.work, time.Second) })
	}
	<-ctx.Done()
}

func (l Loop) work(ctx context.Context) {
	for {
		key, quit := l.Queue.Get()
		if quit {
			return
		}
		err := l.Sync(ctx, key)
		switch {
		case err == nil:
			l.Queue.Forget(key)
		case errors.Is(err, ErrRequeue):
			l.Queue.AddRateLimited(key)
		default:
			if ctx.Err() == nil {
				slog.Warn("controller sync failed", "controller", l.Name, "key", key, "err", err)
			}
			l.Queue.AddRateLimited(key)
		}
		l.Queue.Done(key)
	}
}
