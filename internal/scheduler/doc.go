// Package scheduler is skiff's kube-scheduler runtime: it watches pods,
// nodes, volumes and PodDisruptionBudgets, keeps a cache of what each node
// holds, and places pending pods with the pure decision core in
// internal/scheduler/framework, binding them through pods/binding.
//
// Contract:
//   - Only pods with spec.schedulerName equal to Options.SchedulerName
//     ("default-scheduler" by default) and no spec.nodeName are placed;
//     other pods are never touched, and no Events are written for them.
//   - One scheduling loop makes decisions one pod at a time, highest
//     spec.priority first, then oldest (Queue). A decision is assumed in
//     the Cache before its binding is written, so the next decision sees
//     it; bindings run concurrently (Options.BindWorkers) off the loop. A
//     failed binding forgets the assumption and retries the pod with
//     backoff; an assumption never confirmed by the watch expires
//     DefaultAssumedTTL after its binding.
//   - A pod that fits no node gets a FailedScheduling Event with upstream's
//     message ("0/3 nodes are available: ...") and the PodScheduled=False
//     condition with reason Unschedulable (written only when it changes),
//     and waits until a cluster event relevant to the filters that
//     rejected it (node added or changed, pod deleted, volumes changed) or
//     the five-minute flush retries it; retries back off 1 s doubling to
//     10 s per pod. No timer retries pods otherwise.
//   - When preemption finds room by evicting lower-priority pods
//     (respecting PodDisruptionBudgets as the framework decides), the
//     victims get the DisruptionTarget condition (PreemptionByScheduler)
//     and are deleted, the preemptor's status.nominatedNodeName is set, and
//     pods of lower or equal priority are placed as if it were already on
//     that node.
//   - Events and status writes are asynchronous and bounded: the loop never
//     waits for them; identical Events are folded into one Event's count as
//     client-go's events broadcaster does, and new Events are written at
//     kube-scheduler's default client rate (50/s, bursts of 100), the
//     rest dropped, as its broadcaster drops what its sink cannot take.
//   - Run owns every goroutine it starts and returns after they stop.
package scheduler
