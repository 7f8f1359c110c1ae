package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// matchPolicy is what the Job's podFailurePolicy says of a failed pod: the
// action of the first rule that matches it ("" when none does, which
// counts the failure), and for FailJob the message of the Job's failure,
// as upstream words it.
func matchPolicy(policy *batchv1.PodFailurePolicy, p *corev1.Pod) (batchv1.PodFailurePolicyAction, string) {
	if policy == nil {
		return "", ""
	}
	for i, r := range policy.Rules {
		switch {
		case r.OnExitCodes != nil:
			cs := matchExitCodes(&p.Status, r.OnExitCodes)
			if cs == nil {
				continue
			}
			return r.Action, fmt.Sprintf("Container %s for pod %s/%s failed with exit code %v matching %v rule at index %d",
				cs.Name, p.Namespace, p.Name, cs.State.Terminated.ExitCode, r.Action, i)
		case r.OnPodConditions != nil:
			c := matchPodConditions(&p.Status, r.OnPodConditions)
			if c == nil {
				continue
			}
			return r.Action, fmt.Sprintf("Pod %s/%s has condition %v matching %v rule at index %d", p.Namespace, p.Name, c.Type, r.Action, i)
		}
	}
	return "", ""
}

// matchExitCodes is the first terminated container, then init container,
// whose non-zero exit code the requirement matches.
func matchExitCodes(st *corev1.PodStatus, req *batchv1.PodFailurePolicyOnExitCodesRequirement) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{st.ContainerStatuses, st.InitContainerStatuses} {
		for i := range list {
			cs := &list[i]
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 || (req.ContainerName != nil && *req.ContainerName != cs.Name) {
				continue
			}
			in := slices.Contains(req.Values, t.ExitCode)
			if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && in) || (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpNotIn && !in) {
				return cs
			}
		}
	}
	return nil
}

func matchPodConditions(st *corev1.PodStatus, patterns []batchv1.PodFailurePolicyOnPodConditionsPattern) *corev1.PodCondition {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		for _, pat := range patterns {
			if c.Type == pat.Type && c.Status == pat.Status {
				return c
			}
		}
	}
	return nil
}

// matchSuccessPolicy is the message of the first successPolicy rule the
// completed indexes meet, as upstream words it, or "". A rule with
// succeededIndexes wants all of them done, or succeededCount of them; a
// rule with only succeededCount wants that many indexes done.
func matchSuccessPolicy(policy *batchv1.SuccessPolicy, completions int, completed map[int]bool) string {
	if policy == nil || len(completed) == 0 {
		return ""
	}
	for i, r := range policy.Rules {
		switch {
		case r.SucceededIndexes != nil:
			want := parseIndexes(*r.SucceededIndexes, completions)
			if len(want) == 0 {
				continue
			}
			done := 0
			for idx := range want {
				if completed[idx] {
					done++
				}
			}
			if (r.SucceededCount == nil && done == len(want)) || (r.SucceededCount != nil && done >= int(*r.SucceededCount)) {
				return fmt.Sprintf("Matched rules at index %d", i)
			}
		case r.SucceededCount != nil && len(completed) >= int(*r.SucceededCount):
			return fmt.Sprintf("Matched rules at index %d", i)
		}
	}
	return ""
}
