package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/scheduler/framework"
)

// BenchmarkSchedulingCycle measures the scheduling loop's own work per pod
// on 1,000 nodes, without the API: refresh the snapshot, decide, assume,
// and confirm the binding as the informer would.
func BenchmarkSchedulingCycle(b *testing.B) {
	clk := testingclock.NewFakeClock(epoch)
	c := NewCache(clk, DefaultAssumedTTL)
	for i := range 1000 {
		n := testNode(fmt.Sprintf("node-%04d", i))
		n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("1000")
		n.Labels = map[string]string{corev1.LabelHostname: n.Name, corev1.LabelTopologyZone: fmt.Sprint("zone-", i%3)}
		c.AddNode(n)
	}
	fw := framework.Default()
	snap := NewSnapshot()
	nom := newNominator()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprint("pod-", i), UID: types.UID(fmt.Sprint("uid-", i))},
			Spec: corev1.PodSpec{SchedulerName: DefaultSchedulerName, Containers: []corev1.Container{{
				Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
				}},
			}}},
		}
		c.UpdateSnapshot(snap)
		res, err := fw.Schedule(pod, framework.NewSnapshot(nom.nodesWithNominated(snap, pod), nil))
		if err != nil {
			b.Fatal(err)
		}
		assumed := *pod
		assumed.Spec.NodeName = res.SuggestedHost
		if err := c.AssumePod(&assumed); err != nil {
			b.Fatal(err)
		}
		c.FinishBinding(&assumed)
		c.AddPod(&assumed)
	}
}
