// Package cronjob is the batch/v1 CronJob controller: it creates a Job
// from a CronJob's template at each time its schedule names, as
// kube-controller-manager's cronjob controller (v2) does.
//
// The decision is pure: Due says which schedule time a CronJob owes at a
// given instant (the latest one since its last schedule time, or since
// its creation, bounded by startingDeadlineSeconds, with the count of
// missed ones), and Plan turns a CronJob, the Jobs it controls and the
// time into the Job to create, the Jobs to delete, its new status, the
// Events to record and when to look again. The Controller feeds Plan from
// informers and carries it out; it never polls: each CronJob is requeued
// for the instant its next schedule time comes (plus 100 ms, as upstream),
// and again whenever one of its Jobs changes.
//
// Semantics follow upstream: schedules in standard cron syntax with the
// @yearly/@monthly/@weekly/@daily/@hourly macros (robfig/cron, the
// parser upstream uses), in spec.timeZone when set (an unknown zone is an
// UnknownTimeZone Warning and nothing runs); concurrencyPolicy Allow,
// Forbid (a due time waits while a Job is active, and starts late if it is
// still within startingDeadlineSeconds once the Job is done) and Replace
// (the active Jobs are deleted first); a due time past
// startingDeadlineSeconds is a MissSchedule Warning; more than 100 missed
// times is a TooManyMissedTimes Warning, and the latest one still runs;
// suspend stops new Jobs, not running ones. A Job is named
// <cronjob>-<scheduled time in Unix minutes>, so a time is never run twice
// even if a status write is lost; it carries the
// batch.kubernetes.io/cronjob-scheduled-timestamp annotation (RFC 3339 in
// the CronJob's zone) and a controller reference to the CronJob. Status
// keeps active (Jobs not finished), lastScheduleTime and
// lastSuccessfulTime; finished Jobs beyond successfulJobsHistoryLimit or
// failedJobsHistoryLimit are deleted oldest first, in the background.
//
// Not done: the cronjob_controller metrics upstream exports.
package cronjob
