package statefulset

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"

	"skiff.dev/skiff/internal/controller/history"
)

// RevisionPlan is what a pass does about a set's revisions before it
// looks at pods, as upstream decides it: the set's template is the update
// revision; an identical latest revision is reused, an identical older
// one is renumbered to be the latest (a rollback), otherwise a new one is
// created.
type RevisionPlan struct {
	// Update is the update revision: an existing one, or the one to create.
	Update *appsv1.ControllerRevision
	// Create: Update is new and must be created (history.Create may
	// rename it after a collision).
	Create bool
	// Renumber, when not 0, is the Revision the existing Update must get.
	Renumber int64
	// Current is the revision status.currentRevision names, nil when none
	// of revisions does (the update revision is then the current one too).
	Current *appsv1.ControllerRevision
}

// NewRevision is set's revision of its own template, numbered revision.
func NewRevision(set *appsv1.StatefulSet, revision int64, collisionCount int32) (*appsv1.ControllerRevision, error) {
	data, err := history.TemplatePatch(&set.Spec.Template)
	if err != nil {
		return nil, err
	}
	r := history.New(set, Kind, set.Spec.Template.Labels, data, revision, &collisionCount)
	// kubectl rollout history shows the change-cause annotation from here.
	if len(set.Annotations) > 0 {
		r.Annotations = maps.Clone(set.Annotations)
	}
	return r, nil
}

// PlanRevisions decides set's update and current revisions from the
// revisions it owns, sorted (history.Sort).
func PlanRevisions(set *appsv1.StatefulSet, revisions []*appsv1.ControllerRevision) (RevisionPlan, error) {
	var collisions int32
	if set.Status.CollisionCount != nil {
		collisions = *set.Status.CollisionCount
	}
	candidate, err := NewRevision(set, history.Next(revisions), collisions)
	if err != nil {
		return RevisionPlan{}, err
	}
	var p RevisionPlan
	eq := history.FindEqual(revisions, candidate)
	switch {
	case len(eq) > 0 && eq[len(eq)-1] == revisions[len(revisions)-1]:
		p.Update = eq[len(eq)-1]
	case len(eq) > 0:
		p.Update, p.Renumber = eq[len(eq)-1], candidate.Revision
	default:
		p.Update, p.Create = candidate, true
	}
	for _, r := range revisions {
		if r.Name == set.Status.CurrentRevision {
			p.Current = r
			break
		}
	}
	return p, nil
}
