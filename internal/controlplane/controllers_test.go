package controlplane

import (
	"slices"
	"testing"
)

func TestParseControllers(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want []string
	}{
		{"", Controllers},
		{"*", Controllers},
		{"*,-deployment", slices.DeleteFunc(slices.Clone(Controllers), func(n string) bool { return n == "deployment" })},
		{"namespace,serviceaccount", []string{"namespace", "serviceaccount"}},
		{"namespace,-namespace", nil},
	} {
		on, err := ParseControllers(tt.spec)
		if err != nil {
			t.Fatalf("%q: %v", tt.spec, err)
		}
		var got []string
		for name, enabled := range on {
			if enabled {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(got, want) {
			t.Errorf("%q enables %v, want %v", tt.spec, got, want)
		}
	}
	if _, err := ParseControllers("bogus"); err == nil {
		t.Error("an unknown controller name was accepted")
	}
}
