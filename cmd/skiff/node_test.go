package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseTaint(t *testing.T) {
	for _, tt := range []struct {
		spec    string
		want    corev1.Taint
		wantErr bool
	}{
		{spec: "dedicated=sim:NoSchedule", want: corev1.Taint{Key: "dedicated", Value: "sim", Effect: corev1.TaintEffectNoSchedule}},
		{spec: "example.com/gpu:NoExecute", want: corev1.Taint{Key: "example.com/gpu", Effect: corev1.TaintEffectNoExecute}},
		{spec: "k=v:PreferNoSchedule", want: corev1.Taint{Key: "k", Value: "v", Effect: corev1.TaintEffectPreferNoSchedule}},
		{spec: "k=v", wantErr: true},
		{spec: "k=v:Sometimes", wantErr: true},
		{spec: "bad key=v:NoSchedule", wantErr: true},
	} {
		got, err := parseTaint(tt.spec)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parseTaint(%q) = %+v, %v; want %+v (error %v)", tt.spec, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestHostnamePrefix(t *testing.T) {
	p := hostnamePrefix()
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			t.Fatalf("hostnamePrefix() = %q: not fit for a node name", p)
		}
	}
	if p == "" || p[0] == '-' || p[len(p)-1] == '-' {
		t.Errorf("hostnamePrefix() = %q", p)
	}
}
