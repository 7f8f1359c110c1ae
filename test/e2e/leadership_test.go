package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLeadershipWonBack: when another holder takes the controller-manager
// and scheduler Leases, `skiff up` stops its controllers and scheduler,
// campaigns, wins the Leases back once the intruder stops renewing, and
// runs them again from scratch in the same process: a Deployment's pods
// are created, scheduled and replaced as before.
func TestLeadershipWonBack(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	leases := []string{"kube-controller-manager", "kube-scheduler"}
	acquired := func(lease string) int {
		return strings.Count(s.output.String(), `msg="leader election: acquired lease" lease=kube-system/`+lease+" ")
	}
	holder := func(lease string) string {
		out, _, _ := s.Kubectl("get", "lease", "-n", "kube-system", lease, "-o", "jsonpath={.spec.holderIdentity}")
		return out
	}
	own := map[string]string{}
	for _, lease := range leases {
		eventually(t, lease+" held", func() (bool, string) {
			own[lease] = holder(lease)
			return acquired(lease) == 1 && own[lease] != "", fmt.Sprintf("acquired %d times, holder %q", acquired(lease), own[lease])
		})
	}

	// The intruder renews once, with a one-second lease.
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	for _, lease := range leases {
		s.MustKubectl("patch", "lease", "-n", "kube-system", lease, "--type=merge", "-p",
			fmt.Sprintf(`{"spec":{"holderIdentity":"intruder","leaseDurationSeconds":1,"renewTime":%q}}`, now))
	}
	for _, lease := range leases {
		eventually(t, lease+" lost", func() (bool, string) {
			lost := strings.Count(s.output.String(), `msg="leader election: lost lease" lease=kube-system/`+lease+" ")
			return lost == 1, fmt.Sprintf("lost %d times", lost)
		})
		eventually(t, lease+" won back", func() (bool, string) {
			h := holder(lease)
			return acquired(lease) == 2 && h == own[lease], fmt.Sprintf("acquired %d times, holder %q", acquired(lease), h)
		})
	}

	// The new terms work: the Deployment controller creates pods, the
	// scheduler binds them, the ReplicaSet controller replaces one deleted.
	applyManifest(t, s, "web", deploymentManifest("web", 2, rollingOneOne, "nginx:1"))
	s.MustKubectl("rollout", "status", "deployment/web", "--timeout=20s")
	pods := activePods(t, s, "web")
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	s.MustKubectl("delete", "pod", pods[0].Name, "--wait=false")
	eventually(t, "the deleted pod replaced", func() (bool, string) {
		now := activePods(t, s, "web")
		names := make([]string, 0, len(now))
		running := 0
		for _, p := range now {
			names = append(names, p.Name)
			if p.Name == pods[0].Name {
				return false, "still there: " + strings.Join(names, " ")
			}
			if p.Spec.NodeName != "" && p.Status.Phase == "Running" {
				running++
			}
		}
		return len(now) == 2 && running == 2, strings.Join(names, " ")
	})
	if out := s.output.String(); strings.Contains(out, "level=ERROR") {
		t.Errorf("the server logged errors:\n%s", s.output.Tail(stderrTailBytes))
	}
}
