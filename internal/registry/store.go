package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/watchcache"
)

// Store gives one resource the Kubernetes verbs over a storage.Store.
// Reads of single objects and every write go to storage; lists and watches
// are served by the resource's watch cache, which Run keeps current.
type Store struct {
	Resource *Resource
	Storage  storage.Store
	Clock    clock.PassiveClock
	cache    *watchcache.Cache
}

// NewStore returns the generic store of r on s.
func NewStore(r *Resource, s storage.Store) (*Store, error) {
	st := &Store{Resource: r, Storage: s, Clock: clock.RealClock{}}
	stored := r
	if r.StoredAs != nil {
		stored = r.StoredAs.Resource
	}
	cache, err := watchcache.New(watchcache.Config{
		Store:      s,
		Prefix:     KeyPrefix(stored),
		Namespaced: r.Namespaced,
		GVK:        r.GVK(),
		New:        r.Strategy.New,
		Decode:     st.Decode,
		Attrs: func(obj runtime.Object) (labels.Set, fields.Set) {
			a := ObjectAttrs(r, obj)
			return a.Labels, a.Fields
		},
	})
	if err != nil {
		return nil, err
	}
	st.cache = cache
	return st, nil
}

// Run keeps the store's watch cache current until ctx ends.
func (s *Store) Run(ctx context.Context) error { return s.cache.Run(ctx) }

// WaitReady blocks until the watch cache has loaded.
func (s *Store) WaitReady(ctx context.Context) error { return s.cache.WaitReady(ctx) }

// Ready reports whether the watch cache has loaded.
func (s *Store) Ready() bool { return s.cache.Ready() }

// CacheSize is how many objects the watch cache holds.
func (s *Store) CacheSize() int { return s.cache.Len() }

// WriteOptions carry what a request says about a write.
type WriteOptions struct {
	DryRun bool
	// Mutate runs after defaulting and before validation: mutating
	// admission and managed-fields tracking. old is nil on create.
	Mutate func(ctx context.Context, obj, old runtime.Object) error
	// Validate runs after the strategy's validation: validating admission.
	Validate func(ctx context.Context, obj, old runtime.Object) error
	// Subresource is "" for the main resource, or e.g. "status".
	Subresource string
}

// UpdateFunc computes the new object from the current one: a PUT body, or
// a patch applied to old. old is nil when the object does not exist (and
// the resource allows create-on-update, as server-side apply needs).
type UpdateFunc func(ctx context.Context, old runtime.Object) (runtime.Object, error)

const maxGenerateNameAttempts = 8

// Create stores a new object in namespace ns ("" for cluster-scoped).
func (s *Store) Create(ctx context.Context, ns string, obj runtime.Object, opts WriteOptions) (runtime.Object, error) {
	if g, ok := s.Resource.Strategy.(CreateGate); ok {
		if err := g.AllowCreate(); err != nil {
			return nil, err
		}
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if err := s.checkNamespace(m, ns); err != nil {
		return nil, err
	}
	generated := m.GetName() == "" && m.GetGenerateName() != ""
	now := metav1.NewTime(s.Clock.Now().Truncate(time.Second))
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(now)
	// Only kinds that track spec changes have a generation; their
	// strategies set it to 1 in PrepareForCreate.
	m.SetGeneration(0)
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	if generated {
		m.SetName(m.GetGenerateName() + utilrand.String(5))
	}
	st := s.Resource.Strategy
	st.Default(obj)
	// As upstream: what the client sent (defaulted) is tracked in managed
	// fields and admitted before the strategy sets what the server owns
	// (status, generation), which is then no client's.
	if opts.Mutate != nil {
		if err := opts.Mutate(ctx, obj, nil); err != nil {
			return nil, err
		}
	}
	st.PrepareForCreate(ctx, obj)
	if err := s.validateCreate(ctx, obj, m, opts); err != nil {
		return nil, err
	}
	if opts.DryRun {
		if _, err := s.Storage.Get(ctx, s.Key(ns, m.GetName())); err == nil {
			return nil, apierrors.NewAlreadyExists(s.Resource.GVR.GroupResource(), m.GetName())
		}
		return obj, nil
	}
	txn, err := s.beforeWrite(ctx, obj, nil)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		data, err := s.encodePooled(obj)
		if err != nil {
			txn.Revert(context.WithoutCancel(ctx))
			return nil, apierrors.NewInternalError(err)
		}
		rev, err := s.Storage.Create(ctx, s.Key(ns, m.GetName()), data.Bytes())
		putEncodeBuffer(data)
		if errors.Is(err, storage.ErrKeyExists) && generated && attempt < maxGenerateNameAttempts {
			m.SetName(m.GetGenerateName() + utilrand.String(5))
			continue
		}
		if err != nil {
			txn.Revert(context.WithoutCancel(ctx))
			return nil, s.storageError(err, m.GetName())
		}
		txn.Commit(context.WithoutCancel(ctx))
		m.SetResourceVersion(rev.String())
		return obj, nil
	}
}

// beforeWrite runs the strategy's WriteHooks, if it has them; the returned
// transaction is never nil.
func (s *Store) beforeWrite(ctx context.Context, obj, old runtime.Object) (WriteTxn, error) {
	hooks, ok := s.Resource.Strategy.(WriteHooks)
	if !ok {
		return noTxn{}, nil
	}
	txn, err := hooks.BeforeWrite(ctx, s.Storage, obj, old)
	if err != nil {
		return nil, err
	}
	if txn == nil {
		txn = noTxn{}
	}
	return txn, nil
}

// afterDelete runs the strategy's WriteHooks, if it has them, once obj is
// gone from storage.
func (s *Store) afterDelete(ctx context.Context, obj runtime.Object) {
	if hooks, ok := s.Resource.Strategy.(WriteHooks); ok {
		hooks.AfterDelete(context.WithoutCancel(ctx), s.Storage, obj)
	}
}

type noTxn struct{}

func (noTxn) Commit(context.Context) {}
func (noTxn) Revert(context.Context) {}

func (s *Store) validateCreate(ctx context.Context, obj runtime.Object, m metav1.Object, opts WriteOptions) error {
	nameFn := func(name string, prefix bool) []string { return s.Resource.Strategy.ValidateName(name, prefix) }
	errs := apivalidation.ValidateObjectMetaAccessor(m, s.Resource.Namespaced, nameFn, field.NewPath("metadata"))
	errs = append(errs, s.Resource.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return apierrors.NewInvalid(s.Resource.GVK().GroupKind(), m.GetName(), errs)
	}
	if opts.Validate != nil {
		return opts.Validate(ctx, obj, nil)
	}
	return nil
}

// checkNamespace reconciles the object's namespace with the request's.
func (s *Store) checkNamespace(m metav1.Object, ns string) error {
	if !s.Resource.Namespaced {
		m.SetNamespace("")
		return nil
	}
	if m.GetNamespace() == "" {
		m.SetNamespace(ns)
	} else if m.GetNamespace() != ns {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// Get returns the current object.
func (s *Store) Get(ctx context.Context, ns, name string) (runtime.Object, error) {
	kv, err := s.Storage.Get(ctx, s.Key(ns, name))
	if err != nil {
		return nil, s.storageError(err, name)
	}
	obj, err := s.decodeCurrent(kv)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return obj, nil
}

// GetShared is Get without the copy, for checks that only read the object
// (does the namespace exist, is it terminating): it reads as consistently
// as Get but may return the watch cache's object itself, shared with every
// other reader. Callers must not modify it, nor anything it points to.
func (s *Store) GetShared(ctx context.Context, ns, name string) (runtime.Object, error) {
	kv, err := s.Storage.Get(ctx, s.Key(ns, name))
	if err != nil {
		return nil, s.storageError(err, name)
	}
	if obj, ok := s.cache.Object(kv.Key, kv.ModRevision); ok {
		return obj, nil
	}
	obj, err := s.Decode(kv)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return obj, nil
}

// decodeCurrent is Decode(kv) for a value just read from storage, made
// cheaply when the watch cache already holds that very version: a copy of
// the cache's object, which Decode made from the same bytes.
func (s *Store) decodeCurrent(kv storage.KeyValue) (runtime.Object, error) {
	if obj, ok := s.cache.Object(kv.Key, kv.ModRevision); ok {
		return obj.DeepCopyObject(), nil
	}
	return s.Decode(kv)
}

// Update changes an existing object (or creates it, when createIfMissing
// and the object does not exist) to what update computes, with optimistic
// concurrency: a resourceVersion in the new object must match the stored
// one; without one, a conflicting concurrent write makes Update retry.
func (s *Store) Update(ctx context.Context, ns, name string, update UpdateFunc, createIfMissing bool, opts WriteOptions) (runtime.Object, bool, error) {
	ctx = WithSubresource(ctx, opts.Subresource)
	key := s.Key(ns, name)
	for {
		kv, err := s.Storage.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			if !createIfMissing {
				return nil, false, s.storageError(err, name)
			}
			obj, err := update(ctx, nil)
			if err != nil {
				return nil, false, err
			}
			m, err := meta.Accessor(obj)
			if err != nil {
				return nil, false, apierrors.NewBadRequest(err.Error())
			}
			if m.GetName() != name {
				return nil, false, apierrors.NewBadRequest("the name of the object does not match the name on the URL")
			}
			if m.GetResourceVersion() != "" {
				return nil, false, s.storageError(storage.ErrNotFound, name)
			}
			created, err := s.Create(ctx, ns, obj, opts)
			if apierrors.IsAlreadyExists(err) {
				continue // someone else created it: update theirs
			}
			return created, true, err
		}
		if err != nil {
			return nil, false, s.storageError(err, name)
		}
		old, err := s.decodeCurrent(kv)
		if err != nil {
			return nil, false, apierrors.NewInternalError(err)
		}
		obj, err := update(ctx, old.DeepCopyObject())
		if err != nil {
			return nil, false, err
		}
		out, retry, err := s.updateOnce(ctx, ns, name, kv.ModRevision, obj, old, opts)
		if retry {
			continue
		}
		return out, false, err
	}
}

func (s *Store) updateOnce(ctx context.Context, ns, name string, rev storage.Revision, obj, old runtime.Object, opts WriteOptions) (runtime.Object, bool, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, false, apierrors.NewBadRequest(err.Error())
	}
	om, _ := meta.Accessor(old)
	if err := s.checkNamespace(m, ns); err != nil {
		return nil, false, err
	}
	if m.GetName() != name {
		return nil, false, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), name))
	}
	conditional := m.GetResourceVersion() != ""
	if conditional && m.GetResourceVersion() != om.GetResourceVersion() {
		return nil, false, s.conflict(name, "the object has been modified; please apply your changes to the latest version and try again")
	}
	if uid := m.GetUID(); uid != "" && uid != om.GetUID() {
		return nil, false, s.conflict(name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, om.GetUID()))
	}
	// What clients cannot change through an update.
	m.SetUID(om.GetUID())
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	m.SetGeneration(om.GetGeneration())
	m.SetSelfLink("")
	m.SetResourceVersion(om.GetResourceVersion())

	st := s.Resource.Strategy
	st.Default(obj)
	st.PrepareForUpdate(ctx, obj, old, opts.Subresource)
	if opts.Mutate != nil {
		if err := opts.Mutate(ctx, obj, old); err != nil {
			return nil, false, err
		}
	}
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(m, om, field.NewPath("metadata"))
	nameFn := func(name string, prefix bool) []string { return st.ValidateName(name, prefix) }
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(m, s.Resource.Namespaced, nameFn, field.NewPath("metadata"))...)
	if om.GetDeletionTimestamp() != nil {
		errs = append(errs, apivalidation.ValidateNoNewFinalizers(m.GetFinalizers(), om.GetFinalizers(), field.NewPath("metadata", "finalizers"))...)
	}
	errs = append(errs, st.ValidateUpdate(ctx, obj, old)...)
	if len(errs) > 0 {
		return nil, false, apierrors.NewInvalid(s.Resource.GVK().GroupKind(), name, errs)
	}
	if opts.Validate != nil {
		if err := opts.Validate(ctx, obj, old); err != nil {
			return nil, false, err
		}
	}
	// An update that changes nothing writes nothing: the resource version
	// stays, and no watch event is sent.
	if unchanged(obj, old) {
		return old, false, nil
	}
	if opts.DryRun {
		return obj, false, nil
	}
	key := s.Key(ns, name)
	// The last finalizer of an object being deleted is gone: delete it.
	ds, _ := st.(DeletionStrategy)
	// The last finalizer of an object being deleted is gone, and its grace
	// period (if any) was cut to zero: delete it.
	graceOver := m.GetDeletionGracePeriodSeconds() == nil || *m.GetDeletionGracePeriodSeconds() == 0
	if m.GetDeletionTimestamp() != nil && graceOver && len(m.GetFinalizers()) == 0 && (ds == nil || !ds.PendingFinalizers(obj)) {
		drev, _, err := s.Storage.Delete(ctx, key, rev)
		if errors.Is(err, storage.ErrConflict) && !conditional {
			return nil, true, nil
		}
		if err != nil {
			return nil, false, s.storageError(err, name)
		}
		// What is released is what the stored object held.
		s.afterDelete(ctx, old)
		m.SetResourceVersion(drev.String())
		return obj, false, nil
	}
	txn, err := s.beforeWrite(ctx, obj, old)
	if err != nil {
		return nil, false, err
	}
	data, err := s.encodePooled(obj)
	if err != nil {
		txn.Revert(context.WithoutCancel(ctx))
		return nil, false, apierrors.NewInternalError(err)
	}
	nrev, err := s.Storage.Update(ctx, key, data.Bytes(), rev)
	putEncodeBuffer(data)
	if err != nil {
		// A retry computes the object again and reserves anew.
		txn.Revert(context.WithoutCancel(ctx))
	}
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		if !conditional {
			return nil, true, nil
		}
	}
	if err != nil {
		return nil, false, s.storageError(err, name)
	}
	txn.Commit(context.WithoutCancel(ctx))
	m.SetResourceVersion(nrev.String())
	return obj, false, nil
}

// Delete deletes an object, or marks it for deletion when finalizers must
// run first. It returns the object as it was deleted (or as it now is, when
// only marked) and whether it is gone.
func (s *Store) Delete(ctx context.Context, ns, name string, opts *metav1.DeleteOptions, wopts WriteOptions) (runtime.Object, bool, error) {
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	key := s.Key(ns, name)
	for {
		kv, err := s.Storage.Get(ctx, key)
		if err != nil {
			return nil, false, s.storageError(err, name)
		}
		obj, err := s.decodeCurrent(kv)
		if err != nil {
			return nil, false, apierrors.NewInternalError(err)
		}
		m, _ := meta.Accessor(obj)
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.GetUID() {
				return nil, false, s.conflict(name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *p.UID, m.GetUID()))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
				return nil, false, s.conflict(name, fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *p.ResourceVersion, m.GetResourceVersion()))
			}
		}
		finalizers := withPropagationFinalizer(m.GetFinalizers(), opts)
		ds, _ := s.Resource.Strategy.(DeletionStrategy)
		var grace int64
		if gs, ok := s.Resource.Strategy.(GracefulDeleteStrategy); ok {
			grace = gs.GracePeriod(obj, opts.GracePeriodSeconds)
		}
		if grace > 0 || len(finalizers) > 0 || (ds != nil && ds.PendingFinalizers(obj)) {
			deleting := m.GetDeletionTimestamp() != nil
			var current int64
			if g := m.GetDeletionGracePeriodSeconds(); g != nil {
				current = *g
			}
			// A second delete may only shorten a running grace period.
			shorten := deleting && grace < current
			if deleting && !shorten && equalStrings(finalizers, m.GetFinalizers()) {
				return obj, false, nil // already being deleted
			}
			m.SetFinalizers(finalizers)
			if !deleting || shorten {
				at := metav1.NewTime(s.Clock.Now().Add(time.Duration(grace) * time.Second).Truncate(time.Second))
				m.SetDeletionTimestamp(&at)
				m.SetDeletionGracePeriodSeconds(&grace)
			}
			if !deleting && ds != nil {
				ds.PrepareForDeletion(obj)
			}
			if wopts.DryRun {
				return obj, false, nil
			}
			data, err := s.encodePooled(obj)
			if err != nil {
				return nil, false, apierrors.NewInternalError(err)
			}
			rev, err := s.Storage.Update(ctx, key, data.Bytes(), kv.ModRevision)
			putEncodeBuffer(data)
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			if err != nil {
				return nil, false, s.storageError(err, name)
			}
			m.SetResourceVersion(rev.String())
			return obj, false, nil
		}
		// No grace period and nothing holding it (also a zero-grace delete
		// ending a running grace period): the object goes now.
		if wopts.DryRun {
			return obj, true, nil
		}
		if _, _, err := s.Storage.Delete(ctx, key, kv.ModRevision); errors.Is(err, storage.ErrConflict) {
			continue
		} else if err != nil {
			return nil, false, s.storageError(err, name)
		}
		s.afterDelete(ctx, obj)
		return obj, true, nil
	}
}

// withPropagationFinalizer adds the garbage collector's finalizer that the
// delete's propagation policy asks for.
func withPropagationFinalizer(finalizers []string, opts *metav1.DeleteOptions) []string {
	policy := opts.PropagationPolicy
	if policy == nil && opts.OrphanDependents != nil {
		p := metav1.DeletePropagationBackground
		if *opts.OrphanDependents {
			p = metav1.DeletePropagationOrphan
		}
		policy = &p
	}
	add := ""
	if policy != nil {
		switch *policy {
		case metav1.DeletePropagationForeground:
			add = metav1.FinalizerDeleteDependents
		case metav1.DeletePropagationOrphan:
			add = metav1.FinalizerOrphanDependents
		}
	}
	out := make([]string, 0, len(finalizers)+1)
	for _, f := range finalizers {
		// The policy of this delete replaces that of an earlier one.
		if policy != nil && (f == metav1.FinalizerDeleteDependents || f == metav1.FinalizerOrphanDependents) {
			continue
		}
		out = append(out, f)
	}
	if add != "" {
		out = append(out, add)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Key is the storage key of an object; name "" gives the prefix of a
// namespace (or, with ns "" too, of the whole resource).
func (s *Store) Key(ns, name string) string {
	r := s.Resource
	if r.StoredAs != nil {
		r = r.StoredAs.Resource
	}
	return KeyPrefix(r) + keySuffix(r.Namespaced, ns, name)
}

func keySuffix(namespaced bool, ns, name string) string {
	switch {
	case namespaced && ns != "" && name != "":
		return ns + "/" + name
	case namespaced && ns != "":
		return ns + "/"
	default:
		return name
	}
}

// KeyPrefix is /registry/<group>/<resource>/, the core group spelled
// "core".
func KeyPrefix(r *Resource) string {
	g := r.GVR.Group
	if g == "" {
		g = "core"
	}
	return "/registry/" + g + "/" + r.GVR.Resource + "/"
}

// storageError maps a storage error to the API's Status error.
func (s *Store) storageError(err error, name string) error {
	gr := s.Resource.GVR.GroupResource()
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, storage.ErrKeyExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, storage.ErrConflict):
		return s.conflict(name, "the object has been modified; please apply your changes to the latest version and try again")
	case errors.Is(err, storage.ErrCompacted):
		return apierrors.NewResourceExpired("too old resource version: " + strings.TrimPrefix(err.Error(), "storage: "))
	case errors.Is(err, storage.ErrFutureRevision):
		return apierrors.NewTimeoutError("Too large resource version", 1)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError(err.Error(), 1)
	}
	return apierrors.NewInternalError(err)
}

func (s *Store) conflict(name, msg string) error {
	return apierrors.NewConflict(s.Resource.GVR.GroupResource(), name, errors.New(msg))
}

// unchanged reports whether obj is old, give or take the times of their
// managed-fields entries: as upstream, an update that changes nothing but
// those times changes nothing. Re-applying a manifest whose atomic lists
// or maps hold defaulted fields (ports' protocol, an env
// resourceFieldRef's divisor) replaces them and has them defaulted again,
// a change that undoes itself but would stamp the manager's entry with a
// new time, and so write. One comparison of the objects' encodings
// (EqualEncoded), with obj given old's times while it runs.
func unchanged(obj, old runtime.Object) bool {
	m, err := meta.Accessor(obj)
	if err != nil {
		return apiequality.Semantic.DeepEqual(obj, old)
	}
	om, err := meta.Accessor(old)
	if err != nil {
		return apiequality.Semantic.DeepEqual(obj, old)
	}
	now, before := m.GetManagedFields(), om.GetManagedFields()
	if len(now) == 0 || len(now) != len(before) {
		return EqualEncoded(obj, old)
	}
	kept := make([]metav1.ManagedFieldsEntry, len(now))
	for i := range now {
		kept[i] = now[i]
		kept[i].Time = before[i].Time
	}
	m.SetManagedFields(kept)
	if EqualEncoded(obj, old) {
		return true
	}
	m.SetManagedFields(now)
	return false
}
