package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// verdict is the taint eviction decision for one pod.
type verdict struct {
	// evict is false when the pod may stay: no NoExecute taint, or all
	// tolerated without a time limit. The pending eviction, if any, is
	// cancelled.
	evict bool
	// created and at: the eviction is scheduled since created, to happen
	// at at (at <= now: at once). keep: the pending eviction stands as it
	// is.
	created, at time.Time
	keep        bool
}

// pending is a scheduled eviction, as the controller's timers hold it.
type pending struct {
	created, at time.Time
}

// decideEviction is upstream's taint-based eviction decision
// (processPodOnNode): a pod that does not tolerate every NoExecute taint
// of its node goes now; one that tolerates them all goes after the
// smallest tolerationSeconds of the tolerations used (never, when one of
// them has none), counted from when the eviction was first scheduled, so
// that a taint update does not push a pending eviction further out.
func decideEviction(tolerations []corev1.Toleration, taints []corev1.Taint, now time.Time, cur *pending) verdict {
	var noExec []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			noExec = append(noExec, t)
		}
	}
	if len(noExec) == 0 {
		return verdict{}
	}
	minSeconds, forever := int64(-1), false
	for i := range noExec {
		tol := matching(tolerations, &noExec[i])
		if tol == nil {
			return verdict{evict: true, created: now, at: now}
		}
		switch {
		case tol.TolerationSeconds == nil:
			forever = true
		case minSeconds < 0 || *tol.TolerationSeconds < minSeconds:
			minSeconds = *tol.TolerationSeconds
		}
	}
	if minSeconds < 0 && forever {
		return verdict{}
	}
	wait := time.Duration(max(minSeconds, 0)) * time.Second
	if cur == nil {
		return verdict{evict: true, created: now, at: now.Add(wait)}
	}
	at := cur.created.Add(wait)
	return verdict{evict: true, created: cur.created, at: at, keep: at.Equal(cur.at)}
}

// matching is the first toleration that tolerates t, or nil.
func matching(ts []corev1.Toleration, t *corev1.Taint) *corev1.Toleration {
	for i := range ts {
		if tolerates(&ts[i], t) {
			return &ts[i]
		}
	}
	return nil
}

// tolerates is the toleration matching rule: the effect matches (or the
// toleration names none), the key matches (or, with Exists, it names
// none), and with Equal (the default) the value matches too.
func tolerates(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return tol.Value == t.Value
	}
	return false
}
