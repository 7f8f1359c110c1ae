package scheduler

import (
	"testing"

	testingclock "k8s.io/utils/clock/testing"
)

func TestNominatedPodsHoldTheirRoom(t *testing.T) {
	c := NewCache(testingclock.NewFakeClock(epoch), DefaultAssumedTTL)
	c.AddNode(testNode("a"))
	c.AddNode(testNode("b"))
	snap := NewSnapshot()
	c.UpdateSnapshot(snap)
	n := newNominator()
	preemptor := onNode(testPod("preemptor", 100), "", "3")
	n.add(preemptor, "b")

	for _, tc := range []struct {
		name    string
		pod     string
		prio    int32
		bCPU    int64 // milli-CPU requested on b as pod sees it
		sameArr bool  // the snapshot's own list is returned
	}{
		{"lower priority sees the nominated pod", "low", 10, 3000, false},
		{"equal priority sees it", "peer", 100, 3000, false},
		{"higher priority does not", "high", 1000, 0, true},
		{"the nominated pod does not see itself", "preemptor", 100, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := n.nodesWithNominated(snap, testPod(tc.pod, tc.prio))
			if got := list[snap.pos["b"]].Requested.MilliCPU; got != tc.bCPU {
				t.Fatalf("b requests %dm, want %dm", got, tc.bCPU)
			}
			if same := &list[0] == &snap.List[0]; same != tc.sameArr {
				t.Fatalf("returned the snapshot's list: %v, want %v", same, tc.sameArr)
			}
		})
	}
	if snap.Get("b").Requested.MilliCPU != 0 {
		t.Fatal("the snapshot's NodeInfo was modified")
	}
	n.remove(preemptor)
	if list := n.nodesWithNominated(snap, testPod("low", 10)); &list[0] != &snap.List[0] {
		t.Fatal("a removed nomination still counts")
	}
}
