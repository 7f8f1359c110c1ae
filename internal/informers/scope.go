package informers

import (
	"errors"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
)

// scope remembers the event handlers added through one Factory.Scope.
type scope struct {
	mu       sync.Mutex
	views    map[*shared]*scoped // one view per informer, so views compare equal
	added    []registration
	released bool
}

type registration struct {
	inf cache.SharedIndexInformer
	reg cache.ResourceEventHandlerRegistration
}

func (s *scope) view(inf *shared) *scoped {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[inf]
	if v == nil {
		v = &scoped{shared: inf, scope: s}
		s.views[inf] = v
	}
	return v
}

// errReleased refuses a handler to a released scope, as a stopped
// informer refuses one.
var errReleased = errors.New("informers: the scope was released; the handler was not added")

// add adds a handler to inf through do, unless the scope was released
// before or while it did.
func (s *scope) add(inf cache.SharedIndexInformer, do func() (cache.ResourceEventHandlerRegistration, error)) (cache.ResourceEventHandlerRegistration, error) {
	s.mu.Lock()
	released := s.released
	s.mu.Unlock()
	if released {
		return nil, errReleased
	}
	reg, err := do()
	if err != nil {
		return reg, err
	}
	s.mu.Lock()
	if released = s.released; !released {
		s.added = append(s.added, registration{inf, reg})
	}
	s.mu.Unlock()
	if released {
		_ = inf.RemoveEventHandler(reg)
		return nil, errReleased
	}
	return reg, nil
}

func (s *scope) release() {
	s.mu.Lock()
	added := s.added
	s.added, s.released = nil, true
	s.mu.Unlock()
	for _, r := range added {
		// Fails only for a registration of another informer.
		_ = r.inf.RemoveEventHandler(r.reg)
	}
}

// scoped is a shared informer as one scope sees it: handlers added
// through it belong to the scope.
type scoped struct {
	*shared
	scope *scope
}

func (v *scoped) AddEventHandler(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	return v.scope.add(v.shared, func() (cache.ResourceEventHandlerRegistration, error) {
		return v.shared.AddEventHandler(h)
	})
}

func (v *scoped) AddEventHandlerWithResyncPeriod(h cache.ResourceEventHandler, resync time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	return v.scope.add(v.shared, func() (cache.ResourceEventHandlerRegistration, error) {
		return v.shared.AddEventHandlerWithResyncPeriod(h, resync)
	})
}

func (v *scoped) AddEventHandlerWithOptions(h cache.ResourceEventHandler, o cache.HandlerOptions) (cache.ResourceEventHandlerRegistration, error) {
	return v.scope.add(v.shared, func() (cache.ResourceEventHandlerRegistration, error) {
		return v.shared.AddEventHandlerWithOptions(h, o)
	})
}
