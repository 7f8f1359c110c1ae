package printers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// now is the fixed clock of this package's tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ago is the time d before now.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"}, // clock skew up to a second reads as now
		{-2 * time.Second, "<invalid>"},
		{5 * time.Second, "5s"},
		{119 * time.Second, "119s"},
		{2 * time.Minute, "2m"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{10 * time.Minute, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{5*time.Hour + 7*time.Minute, "5h7m"},
		{47 * time.Hour, "47h"},
		{51 * time.Hour, "2d3h"},
		{8 * 24 * time.Hour, "8d"},
		{3 * 365 * 24 * time.Hour, "3y"},
		{3*365*24*time.Hour + 100*24*time.Hour, "3y100d"},
		{9 * 365 * 24 * time.Hour, "9y"},
	} {
		if got := Age(ago(tc.ago), now); got != tc.want {
			t.Errorf("Age(now-%v) = %q, want %q", tc.ago, got, tc.want)
		}
	}
	if got := Age(metav1.Time{}, now); got != "<unknown>" {
		t.Errorf("Age(zero) = %q, want <unknown>", got)
	}
}
