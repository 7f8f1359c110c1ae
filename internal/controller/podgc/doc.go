// Package podgc is the pod garbage collector. It force-deletes (grace 0)
// pods that nothing else will ever clean up, as upstream's PodGC:
//
//   - terminated pods (phase Succeeded or Failed) beyond a threshold
//     (12500 by default, upstream's --terminated-pod-gc-threshold), the
//     oldest first, evicted ones before others;
//   - pods bound to a node that does not exist, once the node has been
//     missing for a quarantine (40 s) and a live GET confirms it is gone;
//     they are first marked Failed with the DisruptionTarget condition
//     (reason DeletionByPodGC), since no kubelet will ever do it;
//   - terminating pods on a node that is not Ready and carries the
//     node.kubernetes.io/out-of-service taint;
//   - terminating pods that were never scheduled.
//
// What to delete is decided by pure functions of (pods, nodes, threshold)
// in decide.go; the controller applies them every 20 s, and handles an
// orphaned pod as soon as its node's quarantine ends.
package podgc
