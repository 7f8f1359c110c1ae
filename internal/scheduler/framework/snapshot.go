package framework

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// VolumeLister looks up the storage objects the volume filters need. A nil
// result means the object does not exist.
type VolumeLister interface {
	PersistentVolumeClaim(namespace, name string) *corev1.PersistentVolumeClaim
	PersistentVolume(name string) *corev1.PersistentVolume
	StorageClass(name string) *storagev1.StorageClass
}

// NamespaceLister gives the labels of namespaces, for pod (anti-)affinity
// terms with a namespaceSelector. A VolumeLister passed to NewSnapshot that
// also implements NamespaceLister is used as one. Without it a namespace's
// labels are taken to be only kubernetes.io/metadata.name=<name>, the label
// the API server puts on every namespace.
type NamespaceLister interface {
	Namespace(name string) *corev1.Namespace
}

// Snapshot is the cluster as one scheduling cycle sees it: the NodeInfos
// (with their pods, assumed ones included), indexes the cross-node plugins
// need, and volume lookups.
//
// A Snapshot and its NodeInfos must not be modified while a Schedule or
// Preempt call uses them; several calls may share a Snapshot concurrently.
type Snapshot struct {
	nodes []*NodeInfo
	// byName or pos finds a node by name: pos, its index in nodes, when
	// the caller keeps one (NewIndexedSnapshot).
	byName map[string]*NodeInfo
	pos    map[string]int
	// withAffinity and withRequiredAnti list the nodes with pods that have
	// any (anti-)affinity, and required anti-affinity, so an incoming pod
	// without terms is checked against only those.
	withAffinity     []*NodeInfo
	withRequiredAnti []*NodeInfo

	volumes        VolumeLister
	namespaces     NamespaceLister
	spreadDefaults DefaultSpreadLister

	imagesOnce sync.Once
	imageNodes map[string]int // normalized image name -> nodes holding it

	claimsOnce sync.Once
	claimRefs  map[string]int // "namespace/claim" -> pods using it
}

// NewSnapshot returns a Snapshot of nodes. NodeInfos without a Node are
// left out, as upstream's snapshot does. volumes may be nil: pods with
// PersistentVolumeClaims then fail the volume filters' lookups. When
// volumes also implements NamespaceLister or DefaultSpreadLister, those
// are used too. The cost is O(len(nodes)); per-pod indexes live in the
// NodeInfos.
func NewSnapshot(nodes []*NodeInfo, volumes VolumeLister) *Snapshot {
	s := newSnapshot(volumes)
	s.nodes = make([]*NodeInfo, 0, len(nodes))
	s.byName = make(map[string]*NodeInfo, len(nodes))
	for _, ni := range nodes {
		if ni == nil || ni.Node() == nil {
			continue
		}
		s.nodes = append(s.nodes, ni)
		s.byName[ni.Node().Name] = ni
	}
	s.index()
	return s
}

// NewIndexedSnapshot is NewSnapshot for a caller that keeps its nodes'
// positions by name: every node in nodes has its Node, pos maps each
// name to its index, and neither changes while the Snapshot is used. It
// saves building a map of every node per scheduling cycle.
func NewIndexedSnapshot(nodes []*NodeInfo, pos map[string]int, volumes VolumeLister) *Snapshot {
	s := newSnapshot(volumes)
	s.nodes, s.pos = nodes, pos
	s.index()
	return s
}

func newSnapshot(volumes VolumeLister) *Snapshot {
	s := &Snapshot{volumes: volumes}
	if nl, ok := volumes.(NamespaceLister); ok {
		s.namespaces = nl
	}
	if dl, ok := volumes.(DefaultSpreadLister); ok {
		s.spreadDefaults = dl
	}
	return s
}

// index lists the nodes with (anti-)affinity pods.
func (s *Snapshot) index() {
	for _, ni := range s.nodes {
		if len(ni.podsWithAffinity) > 0 {
			s.withAffinity = append(s.withAffinity, ni)
		}
		if len(ni.podsWithRequiredAnti) > 0 {
			s.withRequiredAnti = append(s.withRequiredAnti, ni)
		}
	}
}

// NodeInfos returns the nodes in the order given to NewSnapshot; the caller
// must not modify the slice.
func (s *Snapshot) NodeInfos() []*NodeInfo { return s.nodes }

// Get returns the named node's NodeInfo, or nil.
func (s *Snapshot) Get(name string) *NodeInfo {
	if s.pos != nil {
		if i, ok := s.pos[name]; ok {
			return s.nodes[i]
		}
		return nil
	}
	return s.byName[name]
}

// namespaceLabels returns the labels of the namespace ns.
func (s *Snapshot) namespaceLabels(ns string) labels.Set {
	if s.namespaces != nil {
		if n := s.namespaces.Namespace(ns); n != nil {
			return n.Labels
		}
	}
	return labels.Set{corev1.LabelMetadataName: ns}
}

// imageNodeCount returns how many nodes hold the normalized image.
func (s *Snapshot) imageNodeCount(image string) int {
	s.imagesOnce.Do(func() {
		s.imageNodes = map[string]int{}
		for _, ni := range s.nodes {
			for name := range ni.images {
				s.imageNodes[name]++
			}
		}
	})
	return s.imageNodes[image]
}

// claimUsers returns how many pods in the cluster use the claim.
func (s *Snapshot) claimUsers(namespace, claim string) int {
	s.claimsOnce.Do(func() {
		s.claimRefs = map[string]int{}
		for _, ni := range s.nodes {
			for k, v := range ni.pvcRefs {
				s.claimRefs[k] += v
			}
		}
	})
	return s.claimRefs[namespace+"/"+claim]
}
