package etcd

import "testing"

func TestProgressOrdered(t *testing.T) {
	for _, c := range []struct {
		version string
		want    bool
	}{
		{"3.3.27", false},
		{"3.4.23", false}, // Debian's etcd-server
		{"3.4.24", false},
		{"3.4.25", true},
		{"3.4.37", true},
		{"3.5.7", false},
		{"3.5.8", true},
		{"3.5.35", true},
		{"3.6.0-rc.1", true},
		{"3.6.4", true},
		{"4.0.0", true},
		{"unknown", false},
		{"", false},
		{"3.5", false},
	} {
		if got := progressOrdered(c.version); got != c.want {
			t.Errorf("progressOrdered(%q) = %v, want %v", c.version, got, c.want)
		}
	}
}
