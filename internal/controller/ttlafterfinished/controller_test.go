package ttlafterfinished

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpiry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ttl := func(s int32) *int32 { return &s }
	cond := func(ct batchv1.JobConditionType, s corev1.ConditionStatus, at time.Time) batchv1.JobCondition {
		return batchv1.JobCondition{Type: ct, Status: s, LastTransitionTime: metav1.NewTime(at)}
	}
	tests := []struct {
		name    string
		ttl     *int32
		deleted bool
		conds   []batchv1.JobCondition
		at      time.Time
		ok      bool
		err     bool
	}{
		{name: "no ttl", conds: []batchv1.JobCondition{cond(batchv1.JobComplete, corev1.ConditionTrue, t0)}},
		{name: "not finished", ttl: ttl(10), conds: []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionTrue, t0)}},
		{name: "complete", ttl: ttl(10), conds: []batchv1.JobCondition{
			cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, t0), cond(batchv1.JobComplete, corev1.ConditionTrue, t0.Add(time.Second))},
			at: t0.Add(11 * time.Second), ok: true},
		{name: "failed, ttl 0", ttl: ttl(0), conds: []batchv1.JobCondition{cond(batchv1.JobFailed, corev1.ConditionTrue, t0)}, at: t0, ok: true},
		{name: "complete false is not finished", ttl: ttl(0), conds: []batchv1.JobCondition{cond(batchv1.JobComplete, corev1.ConditionFalse, t0)}},
		{name: "being deleted", ttl: ttl(0), deleted: true, conds: []batchv1.JobCondition{cond(batchv1.JobFailed, corev1.ConditionTrue, t0)}},
		{name: "finished without a time", ttl: ttl(5), conds: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &batchv1.Job{Spec: batchv1.JobSpec{TTLSecondsAfterFinished: tt.ttl}, Status: batchv1.JobStatus{Conditions: tt.conds}}
			if tt.deleted {
				j.DeletionTimestamp = &metav1.Time{Time: t0}
			}
			at, ok, err := Expiry(j)
			if !at.Equal(tt.at) || ok != tt.ok || (err != nil) != tt.err {
				t.Errorf("Expiry = %v, %v, %v; want %v, %v, error %v", at, ok, err, tt.at, tt.ok, tt.err)
			}
		})
	}
}
