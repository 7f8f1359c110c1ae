package podgc

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// terminated: the pod's phase is final.
func terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// evicted: the kubelet evicted the pod (phase Failed, reason Evicted).
func evicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// excessTerminated returns the terminated pods beyond threshold, in the
// order upstream deletes them: evicted first, then oldest, then by name.
// A threshold of zero or less disables this collection.
func excessTerminated(pods []*corev1.Pod, threshold int) []*corev1.Pod {
	if threshold <= 0 {
		return nil
	}
	var done []*corev1.Pod
	for _, p := range pods {
		if terminated(p) {
			done = append(done, p)
		}
	}
	n := len(done) - threshold
	if n <= 0 {
		return nil
	}
	slices.SortFunc(done, byEvictionAndAge)
	return done[:n]
}

func byEvictionAndAge(a, b *corev1.Pod) int {
	if ea, eb := evicted(a), evicted(b); ea != eb {
		if ea {
			return -1
		}
		return 1
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		if a.CreationTimestamp.Before(&b.CreationTimestamp) {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Name, b.Name)
}

// missingNodes returns the names of nodes pods are bound to that are not
// among nodes: candidates for the quarantine, sorted.
func missingNodes(pods []*corev1.Pod, nodes []*corev1.Node) []string {
	have := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		have[n.Name] = true
	}
	var out []string
	for _, p := range pods {
		if n := p.Spec.NodeName; n != "" && !have[n] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// orphanedOn returns the pods bound to any of gone, nodes confirmed gone.
func orphanedOn(pods []*corev1.Pod, gone map[string]bool) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != "" && gone[p.Spec.NodeName] {
			out = append(out, p)
		}
	}
	return out
}

// terminatingOutOfService returns the terminating pods whose node is not
// Ready and is tainted node.kubernetes.io/out-of-service: the node was
// shut down and said so, its kubelet will never finish them.
func terminatingOutOfService(pods []*corev1.Pod, nodes []*corev1.Node) []*corev1.Pod {
	byName := make(map[string]*corev1.Node, len(nodes))
	for _, n := range nodes {
		byName[n.Name] = n
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			continue
		}
		n, ok := byName[p.Spec.NodeName]
		if !ok || ready(n) || !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService }) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, byEvictionAndAge)
	return out
}

// terminatingUnscheduled returns the terminating pods never bound to a
// node: no kubelet will ever finish their deletion.
func terminatingUnscheduled(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			out = append(out, p)
		}
	}
	return out
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// failedStatus is the status a pod is given before PodGC force-deletes
// it: phase Failed unless already final, and cond (if any) set.
func failedStatus(p *corev1.Pod, cond *corev1.PodCondition) (corev1.PodStatus, bool) {
	if terminated(p) {
		return p.Status, false
	}
	st := *p.Status.DeepCopy()
	st.Phase = corev1.PodFailed
	if cond != nil {
		i := slices.IndexFunc(st.Conditions, func(c corev1.PodCondition) bool { return c.Type == cond.Type })
		if i < 0 {
			st.Conditions = append(st.Conditions, *cond)
		} else if st.Conditions[i].Status != cond.Status || st.Conditions[i].Reason != cond.Reason || st.Conditions[i].Message != cond.Message {
			st.Conditions[i] = *cond
		}
	}
	return st, true
}
