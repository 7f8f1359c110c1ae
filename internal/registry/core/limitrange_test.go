package core_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newLimitRange(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "default"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func TestLimitRangeDefault(t *testing.T) {
	tests := []struct {
		name      string
		item      corev1.LimitRangeItem
		def, defR corev1.ResourceList
	}{
		{"max becomes default, default becomes request",
			corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "2", "memory", "1Gi")},
			rl("cpu", "2", "memory", "1Gi"), rl("cpu", "2", "memory", "1Gi")},
		{"min becomes request when there is no default",
			corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m"), Max: rl("memory", "1Gi")},
			rl("memory", "1Gi"), rl("cpu", "100m", "memory", "1Gi")},
		{"set values stay",
			corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "2"), Default: rl("cpu", "1"), DefaultRequest: rl("cpu", "500m")},
			rl("cpu", "1"), rl("cpu", "500m")},
		{"pod items are not defaulted", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "2")}, nil, nil},
		{"claim items are not defaulted", corev1.LimitRangeItem{Type: corev1.LimitTypePersistentVolumeClaim, Max: rl("storage", "10Gi")}, nil, nil},
	}
	s := clusterStrategy(t, "limitranges")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLimitRange(tt.item)
			s.Default(lr)
			it := lr.Spec.Limits[0]
			if !apiequality.Semantic.DeepEqual(it.Default, tt.def) || !apiequality.Semantic.DeepEqual(it.DefaultRequest, tt.defR) {
				t.Errorf("default %v, defaultRequest %v; want %v, %v", it.Default, it.DefaultRequest, tt.def, tt.defR)
			}
		})
	}
}

var longDomain = strings.Repeat("abcdefghi.", 25) + "com"

func TestLimitRangeValidate(t *testing.T) {
	c := corev1.LimitTypeContainer
	tests := []struct {
		name  string
		items []corev1.LimitRangeItem
		want  []fieldErr
	}{
		{"valid", []corev1.LimitRangeItem{
			{Type: c, Min: rl("cpu", "100m"), Max: rl("cpu", "2"), Default: rl("cpu", "1"), DefaultRequest: rl("cpu", "500m"), MaxLimitRequestRatio: rl("cpu", "4")},
			{Type: corev1.LimitTypePod, Max: rl("memory", "4Gi")},
			{Type: corev1.LimitTypePersistentVolumeClaim, Min: rl("storage", "1Gi")},
			{Type: "example.com/widget", Max: rl("example.com/widget", "3")},
		}, nil},
		{"type not standard", []corev1.LimitRangeItem{{Type: "Deployment"}}, []fieldErr{invalid("spec.limits[0].type")}},
		{"type empty", []corev1.LimitRangeItem{{}}, []fieldErr{invalid("spec.limits[0].type"), invalid("spec.limits[0].type")}},
		{"duplicate type", []corev1.LimitRangeItem{{Type: c}, {Type: c}}, []fieldErr{duplicate("spec.limits[1].type")}},
		{"container resource", []corev1.LimitRangeItem{{Type: c, Max: rl("storage", "1Gi"), Min: rl("bad name", "1")}},
			// Defaulting copies max to default and min to defaultRequest.
			[]fieldErr{invalid("spec.limits[0].max[storage]"), invalid("spec.limits[0].default[storage]"), invalid("spec.limits[0].defaultRequest[storage]"),
				invalid("spec.limits[0].min[bad name]"), invalid("spec.limits[0].defaultRequest[bad name]")}},
		{"extended resource", []corev1.LimitRangeItem{{Type: c, Max: rl("example.com/gpu", "2")}}, nil},
		// Its domain is too long to count in a quota as requests.<name>.
		{"extended resource name", []corev1.LimitRangeItem{{Type: corev1.LimitTypePod, Max: rl(longDomain+"/gpu", "2")}},
			[]fieldErr{invalid("spec.limits[0].max[" + longDomain + "/gpu]")}},
		{"pod defaults forbidden", []corev1.LimitRangeItem{{Type: corev1.LimitTypePod, Default: rl("cpu", "1"), DefaultRequest: rl("cpu", "1")}},
			[]fieldErr{forbidden("spec.limits[0].default"), forbidden("spec.limits[0].defaultRequest")}},
		{"claim needs storage bound", []corev1.LimitRangeItem{{Type: corev1.LimitTypePersistentVolumeClaim}},
			[]fieldErr{required("spec.limits[0].limits")}},
		{"min > max", []corev1.LimitRangeItem{{Type: c, Min: rl("cpu", "2"), Max: rl("cpu", "1")}},
			[]fieldErr{invalid("spec.limits[0].min[cpu]"), invalid("spec.limits[0].default[cpu]"), invalid("spec.limits[0].defaultRequest[cpu]")}},
		{"min > defaultRequest", []corev1.LimitRangeItem{{Type: c, Min: rl("cpu", "2"), DefaultRequest: rl("cpu", "1")}},
			[]fieldErr{invalid("spec.limits[0].defaultRequest[cpu]")}},
		{"defaultRequest > max", []corev1.LimitRangeItem{{Type: c, Max: rl("cpu", "1"), Default: rl("cpu", "1"), DefaultRequest: rl("cpu", "2")}},
			[]fieldErr{invalid("spec.limits[0].defaultRequest[cpu]"), invalid("spec.limits[0].defaultRequest[cpu]")}},
		{"defaultRequest > default", []corev1.LimitRangeItem{{Type: c, Default: rl("cpu", "1"), DefaultRequest: rl("cpu", "2")}},
			[]fieldErr{invalid("spec.limits[0].defaultRequest[cpu]")}},
		{"default > max", []corev1.LimitRangeItem{{Type: c, Max: rl("memory", "1Gi"), Default: rl("memory", "2Gi"), DefaultRequest: rl("memory", "1Gi")}},
			[]fieldErr{invalid("spec.limits[0].default[memory]")}},
		{"min > default", []corev1.LimitRangeItem{{Type: c, Min: rl("memory", "2Gi"), Default: rl("memory", "1Gi"), DefaultRequest: rl("memory", "2Gi")}},
			[]fieldErr{invalid("spec.limits[0].default[memory]"), invalid("spec.limits[0].defaultRequest[memory]")}},
		{"ratio < 1", []corev1.LimitRangeItem{{Type: c, MaxLimitRequestRatio: rl("cpu", "500m")}},
			[]fieldErr{invalid("spec.limits[0].maxLimitRequestRatio[cpu]")}},
		{"ratio > max/min", []corev1.LimitRangeItem{{Type: c, Min: rl("cpu", "1"), Max: rl("cpu", "2"), MaxLimitRequestRatio: rl("cpu", "3")}},
			[]fieldErr{invalid("spec.limits[0].maxLimitRequestRatio[cpu]")}},
		{"hugepages not overcommitted", []corev1.LimitRangeItem{{Type: c, Default: rl("hugepages-2Mi", "4Mi"), DefaultRequest: rl("hugepages-2Mi", "2Mi")}},
			[]fieldErr{invalid("spec.limits[0].defaultRequest[hugepages-2Mi]")}},
	}
	s := clusterStrategy(t, "limitranges")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLimitRange(tt.items...)
			s.Default(lr)
			checkErrs(t, s.Validate(bg, lr), tt.want...)
			checkErrs(t, s.ValidateUpdate(bg, lr, newLimitRange()), tt.want...)
		})
	}
}
