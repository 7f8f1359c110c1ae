package podgc

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The slim copies must decide exactly as the full objects do: every
// decision function gives the same answer on both.
func TestSlimCopiesDecideAlike(t *testing.T) {
	full := []*corev1.Pod{
		pod("a", on("gone"), phase(corev1.PodSucceeded), created(1)),
		pod("b", on("oos"), terminating),
		pod("c", terminating),
		pod("d", evictedPod, on("n1"), created(2)),
		pod("e", on("n1")),
	}
	for _, p := range full {
		p.UID = types.UID("uid-" + p.Name)
		p.ResourceVersion = "7"
		p.Labels = map[string]string{"app": "x"}
		p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "m"}}
		p.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	}
	nodes := []*corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "n1", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "oos"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}}},
	}
	var slim []*corev1.Pod
	for _, p := range full {
		o, err := slimPod(p.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		s := o.(*corev1.Pod)
		if s.ManagedFields != nil || s.Labels != nil || s.Spec.Containers != nil {
			t.Errorf("slimPod(%s) kept what PodGC does not read: %+v", p.Name, s)
		}
		slim = append(slim, s)
	}
	var slimNodes []*corev1.Node
	for _, n := range nodes {
		o, err := slimNode(n.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		if o.(*corev1.Node).ManagedFields != nil {
			t.Errorf("slimNode(%s) kept managed fields", n.Name)
		}
		slimNodes = append(slimNodes, o.(*corev1.Node))
	}
	names := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	gone := map[string]bool{"gone": true}
	for _, c := range []struct {
		name       string
		full, slim any
	}{
		{"excessTerminated", names(excessTerminated(full, 1)), names(excessTerminated(slim, 1))},
		{"missingNodes", missingNodes(full, nodes), missingNodes(slim, slimNodes)},
		{"orphanedOn", names(orphanedOn(full, gone)), names(orphanedOn(slim, gone))},
		{"terminatingOutOfService", names(terminatingOutOfService(full, nodes)), names(terminatingOutOfService(slim, slimNodes))},
		{"terminatingUnscheduled", names(terminatingUnscheduled(full)), names(terminatingUnscheduled(slim))},
	} {
		if !reflect.DeepEqual(c.full, c.slim) {
			t.Errorf("%s: full objects give %v, slim copies %v", c.name, c.full, c.slim)
		}
	}
	for i := range full {
		cond := &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}
		fs, fc := failedStatus(full[i], cond)
		ss, sc := failedStatus(slim[i], cond)
		if fc != sc || fs.Phase != ss.Phase || !reflect.DeepEqual(fs.Conditions, ss.Conditions) {
			t.Errorf("failedStatus(%s): full %v %+v, slim %v %+v", full[i].Name, fc, fs, sc, ss)
		}
	}
}
