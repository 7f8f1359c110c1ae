package cronjob

import (
	"fmt"
	"strings"
	"time"
	// A spec.timeZone is looked up in an embedded database, so schedules do
	// not depend on the host's zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// maxMissed is how many missed schedule times upstream tolerates before it
// warns that the clock or the deadline is likely wrong.
const maxMissed = 100

// Due is what a schedule owes at an instant.
type Due struct {
	// Last is the latest schedule time in (from, now]; zero if none.
	Last time.Time
	// Missed counts the schedule times in (from, now], counted up to
	// maxMissed+1 only.
	Missed int
	// Next is the first schedule time after now; zero if the schedule
	// names no time in the next five years (e.g. "0 0 30 2 *").
	Next time.Time
}

// TooMany reports whether more schedule times were missed than upstream
// tolerates silently.
func (d Due) TooMany() bool { return d.Missed > maxMissed }

// DueAt computes what s owes at now for the times after from. It walks at
// most maxMissed+1 times forward from from; past that, it finds the latest
// time by looking back from now over a doubling window, so a CronJob
// whose status is years old costs as little as a current one.
func DueAt(s cron.Schedule, from, now time.Time) Due {
	t := s.Next(from)
	if t.IsZero() || t.After(now) {
		return Due{Next: t}
	}
	var d Due
	for !t.IsZero() && !t.After(now) {
		d.Missed++
		d.Last = t
		if d.Missed > maxMissed {
			d.Last = latest(s, from, now)
			d.Next = s.Next(d.Last)
			return d
		}
		t = s.Next(t)
	}
	d.Next = t
	return d
}

// latest is the latest time of s in (from, now], knowing there is one.
func latest(s cron.Schedule, from, now time.Time) time.Time {
	for window := time.Minute; ; window *= 2 {
		start := now.Add(-window)
		if start.Before(from) {
			start = from
		}
		t := s.Next(start)
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			n := s.Next(t)
			if n.IsZero() || n.After(now) {
				return t
			}
			t = n
		}
	}
}

// ParseSchedule reads a CronJob's schedule in its time zone. A schedule
// that names its own zone (TZ= or CRON_TZ=, kept valid only for CronJobs
// created before spec.timeZone existed) is read as it is.
func ParseSchedule(spec *batchv1.CronJobSpec) (cron.Schedule, error) {
	sched := spec.Schedule
	if spec.TimeZone != nil && !strings.Contains(sched, "TZ") {
		sched = fmt.Sprintf("TZ=%s %s", *spec.TimeZone, sched)
	}
	return cron.ParseStandard(sched)
}

// location is the CronJob's time zone: UTC when none is set, as upstream.
func location(spec *batchv1.CronJobSpec) (*time.Location, error) {
	if spec.TimeZone == nil {
		return time.UTC, nil
	}
	return time.LoadLocation(*spec.TimeZone)
}
