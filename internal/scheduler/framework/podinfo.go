package framework

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"
)

// affinityTerm is a PodAffinityTerm with its selectors parsed once, so
// matching it against thousands of pods costs no parsing.
type affinityTerm struct {
	// namespaces is the term's namespaces, or the owning pod's namespace
	// when neither namespaces nor namespaceSelector is set.
	namespaces sets.Set[string]
	selector   podSelector
	nsSelector labels.Selector
	// nsSelectorSet tells whether nsSelector can match at all, so matching
	// skips the namespace label lookup for the common terms without one.
	nsSelectorSet bool
	topologyKey   string
}

type weightedTerm struct {
	affinityTerm
	weight int64
}

// matches reports whether pod, whose namespace has labels nsLabels, is
// selected by the term, as upstream's AffinityTerm.Matches.
func (t *affinityTerm) matches(pod *corev1.Pod, nsLabels labels.Set) bool {
	if t.namespaces.Has(pod.Namespace) || t.nsSelector.Matches(nsLabels) {
		return t.selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// matchesIn is matches with the namespace labels looked up in snap only
// when the term has a namespaceSelector.
func (t *affinityTerm) matchesIn(pod *corev1.Pod, snap *Snapshot) bool {
	if !t.namespaces.Has(pod.Namespace) && (!t.nsSelectorSet || !t.nsSelector.Matches(snap.namespaceLabels(pod.Namespace))) {
		return false
	}
	return t.selector.Matches(labels.Set(pod.Labels))
}

// podInfo is a pod with its inter-pod (anti-)affinity terms parsed.
type podInfo struct {
	pod                *corev1.Pod
	requiredAffinity   []affinityTerm
	requiredAnti       []affinityTerm
	preferredAffinity  []weightedTerm
	preferredAnti      []weightedTerm
	hasAffinity        bool // any pod affinity or anti-affinity field is set
	hasRequiredAntiAff bool
}

func newPodInfo(pod *corev1.Pod) *podInfo {
	pi := &podInfo{pod: pod}
	aff := pod.Spec.Affinity
	if aff == nil {
		return pi
	}
	if a := aff.PodAffinity; a != nil {
		pi.requiredAffinity = parseTerms(pod, a.RequiredDuringSchedulingIgnoredDuringExecution)
		pi.preferredAffinity = parseWeightedTerms(pod, a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if a := aff.PodAntiAffinity; a != nil {
		pi.requiredAnti = parseTerms(pod, a.RequiredDuringSchedulingIgnoredDuringExecution)
		pi.preferredAnti = parseWeightedTerms(pod, a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	pi.hasAffinity = aff.PodAffinity != nil || aff.PodAntiAffinity != nil
	pi.hasRequiredAntiAff = len(pi.requiredAnti) > 0
	return pi
}

func parseTerms(pod *corev1.Pod, terms []corev1.PodAffinityTerm) []affinityTerm {
	if len(terms) == 0 {
		return nil
	}
	out := make([]affinityTerm, len(terms))
	for i := range terms {
		out[i] = newAffinityTerm(pod, &terms[i])
	}
	return out
}

func parseWeightedTerms(pod *corev1.Pod, terms []corev1.WeightedPodAffinityTerm) []weightedTerm {
	if len(terms) == 0 {
		return nil
	}
	out := make([]weightedTerm, len(terms))
	for i := range terms {
		out[i] = weightedTerm{newAffinityTerm(pod, &terms[i].PodAffinityTerm), int64(terms[i].Weight)}
	}
	return out
}

// newAffinityTerm parses term as upstream's newAffinityTerm. An invalid
// selector selects nothing. matchLabelKeys/mismatchLabelKeys are merged
// into the selector with the owning pod's label values, as the API server
// does at creation; merging twice adds an identical requirement, so terms
// already merged upstream-style are unaffected.
func newAffinityTerm(pod *corev1.Pod, term *corev1.PodAffinityTerm) affinityTerm {
	t := affinityTerm{topologyKey: term.TopologyKey}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		sel = labels.Nothing()
	}
	if term.LabelSelector != nil && err == nil {
		sel = mergeLabelKeys(sel, pod, term.MatchLabelKeys, selection.In)
		sel = mergeLabelKeys(sel, pod, term.MismatchLabelKeys, selection.NotIn)
	}
	t.selector = newPodSelector(sel)
	if len(term.Namespaces) == 0 && term.NamespaceSelector == nil {
		t.namespaces = sets.New(pod.Namespace)
	} else {
		t.namespaces = sets.New(term.Namespaces...)
	}
	nsSel, err := metav1.LabelSelectorAsSelector(term.NamespaceSelector)
	if err != nil {
		nsSel = labels.Nothing()
	}
	t.nsSelector = nsSel
	t.nsSelectorSet = term.NamespaceSelector != nil && err == nil
	return t
}

func mergeLabelKeys(sel labels.Selector, pod *corev1.Pod, keys []string, op selection.Operator) labels.Selector {
	for _, k := range keys {
		v, ok := pod.Labels[k]
		if !ok {
			continue
		}
		r, err := labels.NewRequirement(k, op, []string{v})
		if err != nil {
			continue
		}
		sel = sel.Add(*r)
	}
	return sel
}

// podMatchesAllTerms reports whether pod matches every term (false for no
// terms).
func podMatchesAllTerms(terms []affinityTerm, pod *corev1.Pod, snap *Snapshot) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !terms[i].matchesIn(pod, snap) {
			return false
		}
	}
	return true
}
