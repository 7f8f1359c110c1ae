package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The DaemonSet controller with `skiff up --nodes 2` and a node agent that
// joins later, driven with kubectl as a user would.

func daemonSetManifest(name, image, nodeSelector string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: %[1]s
spec:
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      nodeSelector: {%[3]s}
      terminationGracePeriodSeconds: 0
      containers:
      - name: agent
        image: %[2]s
`, name, image, nodeSelector)
}

// daemonPods maps node name to the names of the DaemonSet's pods bound
// there that are not being deleted; ready counts the Ready ones.
func daemonPods(t *testing.T, s *Skiff, app string) (byNode map[string][]string, ready int, pods []corev1.Pod) {
	t.Helper()
	var l corev1.PodList
	getJSON(t, s, &l, "pods", "-l", "app="+app)
	byNode = map[string][]string{}
	for _, p := range l.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p.Name)
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
		pods = append(pods, p)
	}
	return byNode, ready, pods
}

func daemonSet(t *testing.T, s *Skiff, name string) appsv1.DaemonSet {
	t.Helper()
	var ds appsv1.DaemonSet
	getJSON(t, s, &ds, "daemonset", name)
	return ds
}

// onNodes waits until app's pods are exactly one Ready pod on each of
// nodes and the DaemonSet's status says so.
func onNodes(t *testing.T, s *Skiff, app string, nodes ...string) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	eventually(t, fmt.Sprintf("%s runs one ready pod on each of %v", app, nodes), func() (bool, string) {
		byNode, ready, ps := daemonPods(t, s, app)
		pods = ps
		got := make([]string, 0, len(byNode))
		for n, names := range byNode {
			if len(names) != 1 {
				return false, fmt.Sprintf("pods by node %v", byNode)
			}
			got = append(got, n)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(nodes))
		st := daemonSet(t, s, app).Status
		ok := slices.Equal(got, want) && ready == len(nodes) &&
			int(st.DesiredNumberScheduled) == len(nodes) && int(st.NumberReady) == len(nodes) && st.NumberMisscheduled == 0
		return ok, fmt.Sprintf("pods by node %v, %d ready; status %+v", byNode, ready, st)
	})
	return pods
}

func TestDaemonSet(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, "--nodes", "2")
	applyStdin(t, s, daemonSetManifest("agent", "registry.example/agent:1", ""))
	s.MustKubectl("rollout", "status", "daemonset/agent", "--timeout=20s")
	pods := onNodes(t, s, "agent", "skiff-node-0", "skiff-node-1")

	// The pod is aimed at its node by affinity, placed by the scheduler,
	// and tolerates what upstream's daemon pods tolerate.
	p := pods[0]
	terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Key != "metadata.name" ||
		terms[0].MatchFields[0].Values[0] != p.Spec.NodeName {
		t.Errorf("pod %s on %s has node affinity %+v", p.Name, p.Spec.NodeName, terms)
	}
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeUnschedulable, corev1.TaintNodeDiskPressure} {
		if !slices.ContainsFunc(p.Spec.Tolerations, func(tol corev1.Toleration) bool { return tol.Key == key && tol.TolerationSeconds == nil }) {
			t.Errorf("pod %s lacks the %s toleration: %+v", p.Name, key, p.Spec.Tolerations)
		}
	}
	hash1 := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	if hash1 == "" {
		t.Errorf("pod %s has no %s label: %v", p.Name, appsv1.DefaultDaemonSetUniqueLabelKey, p.Labels)
	}

	eventually(t, "SuccessfulCreate events on the DaemonSet", func() (bool, string) {
		var l corev1.EventList
		getJSON(t, s, &l, "events", "--field-selector", "involvedObject.kind=DaemonSet,involvedObject.name=agent")
		n := 0
		for _, e := range l.Items {
			if e.Reason == "SuccessfulCreate" && e.Source.Component == "daemonset-controller" && strings.HasPrefix(e.Message, "Created pod: agent-") {
				n += int(max(e.Count, 1))
			}
		}
		return n == 2, fmt.Sprintf("%d creations in %+v", n, l.Items)
	})

	// A node that joins gets the daemon.
	out := startNodeAgent(t, "--runtime", "simulated", "--kubeconfig", s.Kubeconfig, "--count", "1", "--name-prefix", "extra")
	waitNodeReady(t, s, "extra-0")
	onNodes(t, s, "agent", "skiff-node-0", "skiff-node-1", "extra-0")

	// A NoSchedule taint keeps new daemons off a node (the running one
	// stays), a nodeSelector picks nodes, and a node that stops matching
	// loses its pod.
	s.MustKubectl("taint", "node", "skiff-node-1", "dedicated=infra:NoSchedule")
	s.MustKubectl("label", "node", "skiff-node-0", "skiff-node-1", "pick=yes")
	applyStdin(t, s, daemonSetManifest("picky", "registry.example/picky:1", "pick: \"yes\""))
	onNodes(t, s, "picky", "skiff-node-0")
	eventually(t, "agent counts skiff-node-1 as misscheduled and keeps its pod", func() (bool, string) {
		st := daemonSet(t, s, "agent").Status
		byNode, _, _ := daemonPods(t, s, "agent")
		return st.DesiredNumberScheduled == 2 && st.NumberMisscheduled == 1 && len(byNode["skiff-node-1"]) == 1, fmt.Sprintf("%+v %v", st, byNode)
	})
	s.MustKubectl("label", "node", "skiff-node-0", "pick-")
	eventually(t, "picky has no pods left", func() (bool, string) {
		byNode, _, _ := daemonPods(t, s, "picky")
		st := daemonSet(t, s, "picky").Status
		return len(byNode) == 0 && st.DesiredNumberScheduled == 0, fmt.Sprintf("%v %+v", byNode, st)
	})
	s.MustKubectl("taint", "node", "skiff-node-1", "dedicated-")

	// An image change rolls out, one node at a time, recorded as a new
	// ControllerRevision; rollout undo goes back to the first.
	s.MustKubectl("set", "image", "daemonset/agent", "agent=registry.example/agent:2")
	s.MustKubectl("rollout", "status", "daemonset/agent", "--timeout=30s")
	pods = onNodes(t, s, "agent", "skiff-node-0", "skiff-node-1", "extra-0")
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "registry.example/agent:2" || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash1 {
			t.Errorf("after the rollout pod %s runs %s with hash %s", p.Name, p.Spec.Containers[0].Image, p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey])
		}
	}
	if st := daemonSet(t, s, "agent").Status; st.UpdatedNumberScheduled != 3 || st.NumberAvailable != 3 || st.ObservedGeneration != 2 {
		t.Errorf("status after the rollout: %+v", st)
	}
	hist := s.MustKubectl("rollout", "history", "daemonset/agent")
	wantContains(t, "rollout history", hist, "REVISION", "1", "2")
	s.MustKubectl("rollout", "undo", "daemonset/agent")
	s.MustKubectl("rollout", "status", "daemonset/agent", "--timeout=30s")
	pods = onNodes(t, s, "agent", "skiff-node-0", "skiff-node-1", "extra-0")
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "registry.example/agent:1" || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash1 {
			t.Errorf("after the undo pod %s runs %s with hash %s", p.Name, p.Spec.Containers[0].Image, p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey])
		}
	}
	var revs appsv1.ControllerRevisionList
	getJSON(t, s, &revs, "controllerrevisions", "-l", "app=agent")
	if len(revs.Items) != 2 {
		t.Errorf("%d ControllerRevisions, want 2 (the undo reuses the first)", len(revs.Items))
	}
	for _, r := range revs.Items {
		if strings.Contains(string(r.Data.Raw), "agent:1") && r.Revision != 3 {
			t.Errorf("the revision rolled back to is number %d, want 3", r.Revision)
		}
	}

	// With maxSurge the new pod starts beside the old one, which goes once
	// the new one is available.
	watch := s.KubectlBackground("get", "pods", "-l", "app=agent", "--watch", "--output-watch-events", "-o",
		`jsonpath={.type} {.object.spec.containers[0].image} {.object.spec.nodeName}{"\n"}`)
	watch.WaitLine("the current pods", func(string) bool { return true })
	s.MustKubectl("patch", "daemonset", "agent", "--type=merge", "-p",
		`{"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},"template":{"spec":{"containers":[{"name":"agent","image":"registry.example/agent:surge"}]}}}}`)
	s.MustKubectl("rollout", "status", "daemonset/agent", "--timeout=30s")
	pods = onNodes(t, s, "agent", "skiff-node-0", "skiff-node-1", "extra-0")
	for _, p := range pods {
		if p.Spec.Containers[0].Image != "registry.example/agent:surge" {
			t.Errorf("after the surge rollout pod %s runs %s", p.Name, p.Spec.Containers[0].Image)
		}
	}
	// On every node the new pod was bound before the old one was deleted.
	surged := map[string]bool{}
	for _, line := range strings.Split(watch.Output(), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) != 3:
		case f[1] == "registry.example/agent:surge":
			surged[f[2]] = true
		case f[0] == "DELETED" && !surged[f[2]]:
			t.Errorf("the old pod on %s was deleted before a new one was bound there:\n%s", f[2], watch.Output())
		}
	}
	if len(surged) != 3 {
		t.Errorf("new pods were bound on %v:\n%s", surged, watch.Output())
	}

	// OnDelete: a new template waits until someone deletes a pod.
	s.MustKubectl("patch", "daemonset", "agent", "--type=merge", "-p",
		`{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"template":{"spec":{"containers":[{"name":"agent","image":"registry.example/agent:3"}]}}}}`)
	eventually(t, "the OnDelete template is observed and no pod is replaced", func() (bool, string) {
		ds := daemonSet(t, s, "agent")
		return ds.Status.ObservedGeneration == ds.Generation && ds.Status.UpdatedNumberScheduled == 0 && ds.Status.NumberReady == 3, fmt.Sprintf("%+v", ds.Status)
	})
	var victim string
	for _, p := range pods {
		if p.Spec.NodeName == "skiff-node-0" {
			victim = p.Name
		}
	}
	s.MustKubectl("delete", "pod", victim)
	eventually(t, "the deleted pod is replaced from the new template", func() (bool, string) {
		_, _, ps := daemonPods(t, s, "agent")
		st := daemonSet(t, s, "agent").Status
		images := map[string]string{}
		for _, p := range ps {
			images[p.Spec.NodeName] = p.Spec.Containers[0].Image
		}
		return images["skiff-node-0"] == "registry.example/agent:3" && images["skiff-node-1"] == "registry.example/agent:surge" &&
			st.UpdatedNumberScheduled == 1 && st.NumberReady == 3, fmt.Sprintf("%v %+v", images, st)
	})

	// A deleted node's daemon pod goes with it.
	s.MustKubectl("delete", "node", "extra-0")
	eventually(t, "the pod on the deleted node is gone", func() (bool, string) {
		byNode, _, _ := daemonPods(t, s, "agent")
		st := daemonSet(t, s, "agent").Status
		return len(byNode["extra-0"]) == 0 && st.DesiredNumberScheduled == 2, fmt.Sprintf("%v %+v\n%s", byNode, st, out.String())
	})
	onNodes(t, s, "agent", "skiff-node-0", "skiff-node-1")
}
