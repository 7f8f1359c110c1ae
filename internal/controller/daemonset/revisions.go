package daemonset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/controller/history"
	"skiff.dev/skiff/internal/informers"
)

// historyHashLabel is where a revision carries the hash its pods are
// labelled with (controller-revision-hash).
const historyHashLabel = history.HashLabel

// defaultRevisionHistoryLimit is apps/v1's default, for a DaemonSet read
// without defaults.
const defaultRevisionHistoryLimit = 10

// revisionHash is the hash pods of revision r carry: its hash label, or
// for a revision someone else made without one, its name (as upstream
// labels such revisions).
func revisionHash(r *appsv1.ControllerRevision) string {
	if h := r.Labels[historyHashLabel]; h != "" {
		return h
	}
	return r.Name
}

// constructHistory claims ds's ControllerRevisions (adopting orphans its
// selector matches, releasing its own that no longer match), finds or
// creates the revision of its current template, makes it the newest and
// removes duplicates of it. old are its other revisions, oldest first.
// *collisions is raised when a revision name is taken by other Data.
func (c *Controller) constructHistory(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector, collisions *int32) (cur *appsv1.ControllerRevision, old []*appsv1.ControllerRevision, err error) {
	revClient := c.apps.ControllerRevisions(ds.Namespace)
	var all []*appsv1.ControllerRevision
	for _, ix := range []string{string(ds.UID), informers.OrphanIndexKey(ds.Namespace)} {
		objs, _ := c.revs.GetIndexer().ByIndex(informers.ControllerUIDIndex, ix)
		for _, o := range objs {
			all = append(all, o.(*appsv1.ControllerRevision))
		}
	}
	owned, adopt, release := history.Claim(all, ds, sel)
	if len(adopt) > 0 {
		if err := c.recheck(ctx, ds); err != nil {
			return nil, nil, err
		}
		for _, r := range adopt {
			got, err := history.Adopt(ctx, revClient, ds, controllerKind, r)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, nil, err
			}
			if err == nil {
				owned = append(owned, got)
			}
		}
	}
	for _, r := range release {
		if err := history.Release(ctx, revClient, ds, r); err != nil {
			return nil, nil, err
		}
	}

	data, err := history.TemplatePatch(&ds.Spec.Template)
	if err != nil {
		return nil, nil, err
	}
	var current []*appsv1.ControllerRevision
	for _, r := range owned {
		if bytes.Equal(r.Data.Raw, data) {
			current = append(current, r)
		} else {
			old = append(old, r)
		}
	}
	history.Sort(old)
	next := history.Next(old)
	if len(current) == 0 {
		r := history.New(ds, controllerKind, ds.Spec.Template.Labels, data, next, collisions)
		// Upstream copies the DaemonSet's annotations, so that `kubectl
		// rollout history` shows each revision's change-cause.
		r.Annotations = maps.Clone(ds.Annotations)
		cur, err = history.Create(ctx, revClient, r, collisions)
		return cur, old, err
	}
	history.Sort(current)
	cur = current[len(current)-1]
	if dups := current[:len(current)-1]; len(dups) > 0 {
		if err := c.dedup(ctx, ds, cur, dups); err != nil {
			return nil, nil, err
		}
	}
	if cur.Revision < next {
		if cur, err = history.SetRevision(ctx, revClient, cur, next); err != nil {
			return nil, nil, err
		}
	}
	return cur, old, nil
}

// dedup relabels the pods of duplicate current revisions with keep's hash
// (they run the same template) and deletes the duplicates.
func (c *Controller) dedup(ctx context.Context, ds *appsv1.DaemonSet, keep *appsv1.ControllerRevision, dups []*appsv1.ControllerRevision) error {
	hash := revisionHash(keep)
	dupHash := map[string]bool{}
	for _, d := range dups {
		dupHash[revisionHash(d)] = true
	}
	owned, _ := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(ds.UID))
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:%q}}}`, appsv1.DefaultDaemonSetUniqueLabelKey, hash)
	for _, o := range owned {
		p := o.(*corev1.Pod)
		if !dupHash[p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] {
			continue
		}
		if _, err := c.core.Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	var errs []error
	for _, d := range dups {
		errs = append(errs, history.Delete(ctx, c.apps.ControllerRevisions(ds.Namespace), d))
	}
	return errors.Join(errs...)
}

// truncateHistory deletes, oldest first, the old revisions beyond
// spec.revisionHistoryLimit that no pod of ds runs.
func (c *Controller) truncateHistory(ctx context.Context, ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, pods []*corev1.Pod) error {
	limit := defaultRevisionHistoryLimit
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	if len(old) <= limit {
		return nil
	}
	hashes := map[string]bool{}
	for _, p := range pods {
		if h := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; h != "" {
			hashes[h] = true
		}
	}
	live := map[string]bool{}
	for _, r := range old {
		if hashes[revisionHash(r)] {
			live[r.Name] = true
		}
	}
	var errs []error
	for _, r := range history.Truncate(slices.Clone(old), live, limit) {
		errs = append(errs, history.Delete(ctx, c.apps.ControllerRevisions(ds.Namespace), r))
	}
	return errors.Join(errs...)
}
