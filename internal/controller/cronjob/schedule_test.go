package cronjob

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, spec string, tz *string) cron.Schedule {
	t.Helper()
	s, err := ParseSchedule(&batchv1.CronJobSpec{Schedule: spec, TimeZone: tz})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDueAt(t *testing.T) {
	ny := "America/New_York"
	tests := []struct {
		name       string
		sched      string
		tz         *string
		from, now  time.Time
		last, next time.Time
		missed     int
		tooMany    bool
	}{
		{name: "nothing due before the first time", sched: "*/5 * * * *", from: t0, now: t0.Add(4 * time.Minute),
			next: t0.Add(5 * time.Minute)},
		{name: "exactly at the time it is due", sched: "*/5 * * * *", from: t0, now: t0.Add(5 * time.Minute),
			last: t0.Add(5 * time.Minute), next: t0.Add(10 * time.Minute), missed: 1},
		{name: "from is exclusive", sched: "*/5 * * * *", from: t0.Add(5 * time.Minute), now: t0.Add(5*time.Minute + 30*time.Second),
			next: t0.Add(10 * time.Minute)},
		{name: "several missed: the latest is due", sched: "*/5 * * * *", from: t0, now: t0.Add(17 * time.Minute),
			last: t0.Add(15 * time.Minute), next: t0.Add(20 * time.Minute), missed: 3},
		{name: "hourly macro", sched: "@hourly", from: t0.Add(time.Second), now: t0.Add(3*time.Hour + time.Minute),
			last: t0.Add(3 * time.Hour), next: t0.Add(4 * time.Hour), missed: 3},
		{name: "daily macro", sched: "@daily", from: t0, now: t0.Add(24 * time.Hour),
			last: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), next: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC), missed: 1},
		{name: "more than 100 missed: counted, latest still found", sched: "* * * * *", from: t0, now: t0.Add(1000*time.Hour + 30*time.Second),
			last: t0.Add(1000 * time.Hour), next: t0.Add(1000*time.Hour + time.Minute), missed: 101, tooMany: true},
		{name: "years behind on a sparse schedule", sched: "0 9 1 * *", from: t0, now: t0.AddDate(20, 0, 0),
			last: time.Date(2046, 3, 1, 9, 0, 0, 0, time.UTC), next: time.Date(2046, 4, 1, 9, 0, 0, 0, time.UTC), missed: 101, tooMany: true},
		// 09:00 in New York on 10 March 2026 (EDT, UTC-4) is 13:00 UTC.
		{name: "in a time zone", sched: "0 9 * * *", tz: &ny, from: t0, now: t0.Add(90 * time.Minute),
			last: time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC), next: time.Date(2026, 3, 11, 13, 0, 0, 0, time.UTC), missed: 1},
		{name: "a date that never comes", sched: "0 0 30 2 *", from: t0, now: t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DueAt(mustParse(t, tt.sched, tt.tz), tt.from, tt.now)
			if !d.Last.Equal(tt.last) || !d.Next.Equal(tt.next) || d.Missed != tt.missed || d.TooMany() != tt.tooMany {
				t.Errorf("DueAt = last %v next %v missed %d tooMany %v; want last %v next %v missed %d tooMany %v",
					d.Last, d.Next, d.Missed, d.TooMany(), tt.last, tt.next, tt.missed, tt.tooMany)
			}
		})
	}
}

func TestParseScheduleRejects(t *testing.T) {
	for _, s := range []string{"", "* * * *", "61 * * * *", "@every-other-day"} {
		if _, err := ParseSchedule(&batchv1.CronJobSpec{Schedule: s}); err == nil {
			t.Errorf("ParseSchedule(%q) succeeded", s)
		}
	}
	bad := "Mars/Olympus"
	if _, err := ParseSchedule(&batchv1.CronJobSpec{Schedule: "* * * * *", TimeZone: &bad}); err == nil {
		t.Error("an unknown time zone parsed")
	}
}
