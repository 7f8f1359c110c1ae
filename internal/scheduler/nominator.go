package scheduler

import (
	"sync"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

// nominator remembers pods nominated to a node by preemption (or seen with
// status.nominatedNodeName) until they are placed or deleted, so that pods
// of lower or equal priority do not take the room freed for them.
type nominator struct {
	mu     sync.Mutex
	byPod  map[string]nominated
	byNode map[string]map[string]*corev1.Pod
}

type nominated struct {
	node string
	pod  *corev1.Pod
}

func newNominator() *nominator {
	return &nominator{byPod: map[string]nominated{}, byNode: map[string]map[string]*corev1.Pod{}}
}

func (n *nominator) add(pod *corev1.Pod, node string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked(pod)
	if node == "" {
		return
	}
	k := podKey(pod)
	n.byPod[k] = nominated{node: node, pod: pod}
	if n.byNode[node] == nil {
		n.byNode[node] = map[string]*corev1.Pod{}
	}
	n.byNode[node][k] = pod
}

func (n *nominator) remove(pod *corev1.Pod) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked(pod)
}

func (n *nominator) removeLocked(pod *corev1.Pod) {
	k := podKey(pod)
	old, ok := n.byPod[k]
	if !ok {
		return
	}
	delete(n.byPod, k)
	delete(n.byNode[old.node], k)
	if len(n.byNode[old.node]) == 0 {
		delete(n.byNode, old.node)
	}
}

// nodesWithNominated returns snap's node list with, on each node that has
// nominated pods of priority >= pod's (other than pod), a copy of the
// NodeInfo that accounts for them, as upstream's filters do. Without such
// pods it returns snap.List itself.
func (n *nominator) nodesWithNominated(snap *Snapshot, pod *corev1.Pod) []*framework.NodeInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.byNode) == 0 {
		return snap.List
	}
	prio := podPriority(pod)
	self := podKey(pod)
	var out []*framework.NodeInfo
	for node, pods := range n.byNode {
		i, ok := snap.pos[node]
		if !ok {
			continue
		}
		var ni *framework.NodeInfo
		for k, p := range pods {
			if k == self || podPriority(p) < prio {
				continue
			}
			if ni == nil {
				ni = cloneNodeInfo(snap.List[i])
			}
			q := *p
			q.Spec.NodeName = node
			ni.AddPod(&q)
		}
		if ni == nil {
			continue
		}
		if out == nil {
			out = append([]*framework.NodeInfo(nil), snap.List...)
		}
		out[i] = ni
	}
	if out == nil {
		return snap.List
	}
	return out
}
