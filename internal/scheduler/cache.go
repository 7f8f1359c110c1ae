package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/scheduler/framework"
)

// DefaultAssumedTTL is how long an assumed pod whose binding finished may
// wait for the informer to show the binding before it is dropped. It is a
// safety net, not a timeout anything waits on: on a loaded machine the
// watch can lag the binding by tens of seconds, and dropping a pod the API
// already bound lets the next decisions overcommit its node (upstream went
// from 30 s to 15 min, and then to never, for that reason).
const DefaultAssumedTTL = 15 * time.Minute

// Cache is the scheduler's view of nodes and the pods placed on them,
// including pods it has assumed: placed by a decision whose binding has
// not been observed yet, so the next decisions account for them.
//
// An assumed pod is confirmed when the informer reports it bound (AddPod),
// forgotten when its binding fails (ForgetPod), and expires DefaultAssumedTTL
// after its binding finished if it is never confirmed. Every change to a
// node bumps that node's generation, so UpdateSnapshot copies only the
// nodes that changed since the last snapshot.
//
// Safe for concurrent use. Pods and nodes handed in are not copied and
// must not be modified afterwards (informer objects already obey this).
type Cache struct {
	clock clock.Clock
	ttl   time.Duration

	mu         sync.Mutex
	generation int64
	nodes      map[string]*nodeItem
	pods       map[types.UID]*podState
	assumed    map[types.UID]struct{}
	// nodeSetGen changes when nodes are added or removed, so snapshots
	// know to rebuild their node list.
	nodeSetGen int64
	// dirty names the nodes changed since generation dirtyBase, when the
	// last snapshot was taken: a snapshot taken then updates from it
	// without scanning every node.
	dirty     map[string]struct{}
	dirtyBase int64
}

type nodeItem struct {
	name       string
	info       *framework.NodeInfo
	generation int64
}

type podState struct {
	pod *corev1.Pod
	// deadline is set once binding finished; an assumed pod still not
	// confirmed at deadline expires.
	deadline        time.Time
	bindingFinished bool
}

// NewCache returns an empty cache; assumed pods expire ttl after binding.
func NewCache(clk clock.Clock, ttl time.Duration) *Cache {
	return &Cache{
		clock:   clk,
		ttl:     ttl,
		nodes:   map[string]*nodeItem{},
		pods:    map[types.UID]*podState{},
		assumed: map[types.UID]struct{}{},
		dirty:   map[string]struct{}{},
	}
}

func (c *Cache) nodeLocked(name string) *nodeItem {
	n, ok := c.nodes[name]
	if !ok {
		n = &nodeItem{name: name, info: framework.NewNodeInfo(nil)}
		c.nodes[name] = n
	}
	return n
}

func (c *Cache) touchLocked(n *nodeItem) {
	c.generation++
	n.generation = c.generation
	c.dirty[n.name] = struct{}{}
}

func (c *Cache) addPodLocked(pod *corev1.Pod) {
	n := c.nodeLocked(pod.Spec.NodeName)
	n.info.AddPod(pod)
	c.touchLocked(n)
}

func (c *Cache) removePodLocked(pod *corev1.Pod) {
	n, ok := c.nodes[pod.Spec.NodeName]
	if !ok {
		return
	}
	n.info.RemovePod(pod)
	c.touchLocked(n)
	if n.info.Node() == nil && len(n.info.Pods()) == 0 {
		delete(c.nodes, pod.Spec.NodeName)
		c.nodeSetGen++
	}
}

// AssumePod places pod (whose spec.nodeName is the chosen node) before its
// binding is written.
func (c *Cache) AssumePod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("scheduler: pod %s/%s is already in the cache", pod.Namespace, pod.Name)
	}
	c.addPodLocked(pod)
	c.pods[pod.UID] = &podState{pod: pod}
	c.assumed[pod.UID] = struct{}{}
	return nil
}

// FinishBinding starts the expiry of an assumed pod whose binding was
// written.
func (c *Cache) FinishBinding(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		if _, assumed := c.assumed[pod.UID]; assumed {
			ps.bindingFinished = true
			ps.deadline = c.clock.Now().Add(c.ttl)
		}
	}
}

// ForgetPod undoes AssumePod after a failed binding.
func (c *Cache) ForgetPod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return
	}
	if _, assumed := c.assumed[pod.UID]; !assumed {
		return
	}
	c.removePodLocked(ps.pod)
	delete(c.pods, pod.UID)
	delete(c.assumed, pod.UID)
}

// IsAssumed reports whether pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.assumed[pod.UID]
	return ok
}

// AddPod records a pod the informer shows bound to a node; it confirms
// the pod if it was assumed (on whichever node the API says).
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		if _, assumed := c.assumed[pod.UID]; assumed {
			delete(c.assumed, pod.UID)
		}
		c.removePodLocked(ps.pod)
		c.addPodLocked(pod)
		ps.pod = pod
		return
	}
	c.addPodLocked(pod)
	c.pods[pod.UID] = &podState{pod: pod}
}

// UpdatePod replaces a bound pod.
func (c *Cache) UpdatePod(oldPod, newPod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[newPod.UID]
	if !ok {
		c.addPodLocked(newPod)
		c.pods[newPod.UID] = &podState{pod: newPod}
		return
	}
	delete(c.assumed, newPod.UID)
	c.removePodLocked(ps.pod)
	c.addPodLocked(newPod)
	ps.pod = newPod
}

// RemovePod forgets a bound pod that was deleted (or finished).
func (c *Cache) RemovePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return
	}
	c.removePodLocked(ps.pod)
	delete(c.pods, pod.UID)
	delete(c.assumed, pod.UID)
}

// AddNode and UpdateNode record node.
func (c *Cache) AddNode(node *corev1.Node) { c.UpdateNode(nil, node) }

// UpdateNode records node's new state.
func (c *Cache) UpdateNode(_, node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[node.Name]
	if !ok || n.info.Node() == nil {
		c.nodeSetGen++
	}
	n = c.nodeLocked(node.Name)
	n.info.SetNode(node)
	c.touchLocked(n)
}

// RemoveNode forgets node; pods still bound to it stay accounted until
// they are deleted, as upstream does, but the node is no longer offered.
func (c *Cache) RemoveNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	c.nodeSetGen++
	if len(n.info.Pods()) == 0 {
		delete(c.nodes, node.Name)
		return
	}
	n.info.SetNode(nil)
	c.touchLocked(n)
}

// CleanupExpired drops assumed pods whose binding finished more than the
// TTL ago and were never confirmed, and returns them.
func (c *Cache) CleanupExpired() []*corev1.Pod {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	var expired []*corev1.Pod
	for uid := range c.assumed {
		ps := c.pods[uid]
		if ps.bindingFinished && now.After(ps.deadline) {
			c.removePodLocked(ps.pod)
			delete(c.pods, uid)
			delete(c.assumed, uid)
			expired = append(expired, ps.pod)
		}
	}
	return expired
}

// Counts returns the number of nodes and pods, and how many pods are
// assumed.
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.info.Node() != nil {
			nodes++
		}
	}
	return nodes, len(c.pods), len(c.assumed)
}

// Snapshot is a point-in-time copy of the cache's nodes that the
// scheduling loop reads without locks. Refresh it with UpdateSnapshot.
type Snapshot struct {
	generation int64
	nodeSetGen int64
	infos      map[string]*nodeItem
	pos        map[string]int // index in List
	// List holds the nodes that exist (Node() != nil), in name order.
	List []*framework.NodeInfo
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{infos: map[string]*nodeItem{}, pos: map[string]int{}, nodeSetGen: -1}
}

// Get returns the snapshot's NodeInfo for name.
func (s *Snapshot) Get(name string) *framework.NodeInfo {
	if n, ok := s.infos[name]; ok {
		return n.info
	}
	return nil
}

// UpdateSnapshot brings s up to date, copying only nodes whose generation
// is newer than s's; the list is re-sorted only when nodes come or go.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.generation == c.generation && s.nodeSetGen == c.nodeSetGen {
		return
	}
	rebuild := s.nodeSetGen != c.nodeSetGen
	update := func(name string, n *nodeItem) {
		if n.generation <= s.generation {
			return
		}
		item := &nodeItem{name: name, info: cloneNodeInfo(n.info), generation: n.generation}
		if old, ok := s.infos[name]; ok && !rebuild {
			if i, ok := s.pos[name]; ok && old.info.Node() != nil && item.info.Node() != nil {
				s.List[i] = item.info
			} else {
				rebuild = true
			}
		}
		s.infos[name] = item
	}
	if s.generation == c.dirtyBase {
		for name := range c.dirty {
			if n, ok := c.nodes[name]; ok {
				update(name, n)
			}
		}
	} else {
		for name, n := range c.nodes {
			update(name, n)
		}
	}
	clear(c.dirty)
	c.dirtyBase = c.generation
	if rebuild {
		for name := range s.infos {
			if _, ok := c.nodes[name]; !ok {
				delete(s.infos, name)
			}
		}
		s.List = s.List[:0]
		for _, n := range s.infos {
			if n.info.Node() != nil {
				s.List = append(s.List, n.info)
			}
		}
		slices.SortFunc(s.List, func(a, b *framework.NodeInfo) int { return strings.Compare(a.Node().Name, b.Node().Name) })
		clear(s.pos)
		for i, ni := range s.List {
			s.pos[ni.Node().Name] = i
		}
	}
	s.generation = c.generation
	s.nodeSetGen = c.nodeSetGen
}

func cloneNodeInfo(ni *framework.NodeInfo) *framework.NodeInfo {
	return ni.Clone()
}
