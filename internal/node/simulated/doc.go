// Package simulated is the container runtime of simulated nodes, as a
// pure function: Step takes a pod bound to the node, the node's
// environment and the time, and returns the pod's next status, whether to
// delete it and when to look again. It does no I/O and starts no
// goroutines; the agent in package node applies its results through the
// API and calls it again when the pod changes or the returned delay ends.
//
// Containers do not exist: a container "runs" from the time its status
// says it started. Containers of pods whose restartPolicy is Never or
// OnFailure, and init containers, run for Env.RunDuration and exit 0;
// the pod annotations AnnotationDuration and AnnotationExitCode change
// how long main containers run and how they exit, for any restart
// policy. Exited containers are restarted as the pod's restart policy
// says, after the kubelet's back-off (10 s doubling to 5 min), with
// restartCount and lastState recorded. Readiness and startup probes pass
// once their initialDelaySeconds has gone by.
//
// The status is the state: everything Step needs is in the pod, so an
// agent restarted on the same node carries on where the last one stopped.
package simulated
