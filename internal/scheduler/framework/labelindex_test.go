package framework

import (
	"fmt"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// TestLabelIndexMatchesScan checks the equality fast path against plain
// selector matching over random pods added to and removed from a node,
// clones included.
func TestLabelIndexMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ni := NewNodeInfo(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}})
	var live []*corev1.Pod
	for i := range 400 {
		if len(live) > 0 && r.IntN(3) == 0 {
			j := r.IntN(len(live))
			ni.RemovePod(live[j])
			live = append(live[:j], live[j+1:]...)
			continue
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Namespace: []string{"a", "b"}[r.IntN(2)], Name: fmt.Sprint(i), UID: types.UID(fmt.Sprint(i)),
			Labels: map[string]string{"app": fmt.Sprint(r.IntN(3)), "tier": fmt.Sprint(r.IntN(2))},
		}}
		if r.IntN(5) == 0 {
			p.DeletionTimestamp = &metav1.Time{}
		}
		ni.AddPod(p)
		live = append(live, p)
		if i%50 == 0 {
			ni = ni.Clone()
		}
	}
	for _, ns := range []string{"a", "b"} {
		for _, app := range []string{"0", "1", "2", "3"} {
			sel := newPodSelector(labels.SelectorFromSet(labels.Set{"app": app}))
			if !sel.eq {
				t.Fatal("app=x is not on the fast path")
			}
			slow := sel
			slow.eq = false
			if got, want := countMatching(ni, sel, ns), countMatching(ni, slow, ns); got != want {
				t.Errorf("ns %s app=%s: index counts %d live pods, scan %d", ns, app, got, want)
			}
			term := &affinityTerm{namespaces: sets.New(ns), selector: sel, nsSelector: labels.Nothing()}
			slowTerm := *term
			slowTerm.selector = slow
			snap := NewSnapshot([]*NodeInfo{ni}, nil)
			if got, want := countTermMatches(term, ni, snap), countTermMatches(&slowTerm, ni, snap); got != want {
				t.Errorf("ns %s app=%s: index counts %d pods, scan %d", ns, app, got, want)
			}
		}
	}
}
