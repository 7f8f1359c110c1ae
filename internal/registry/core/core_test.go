package core_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/registrytest"
)

// maxData is the 1 MiB limit of ConfigMap and Secret data. A ConfigMap
// over it is reported, as upstream, at field.NewPath(""), which prints "[]".
const maxData = 1024 * 1024

// strategy returns the strategy core.Resources registers for resource, so
// that the tests also check the wiring.
func strategy(t *testing.T, resource string) registry.Strategy {
	t.Helper()
	for _, r := range core.Resources() {
		if r.GVR.Resource == resource {
			return r.Strategy
		}
	}
	t.Fatalf("core.Resources has no %q", resource)
	return nil
}

type fieldErr = registrytest.FieldErr

var (
	checkErrs    = registrytest.CheckErrors
	required     = registrytest.Required
	invalid      = registrytest.Invalid
	forbidden    = registrytest.Forbidden
	tooLong      = registrytest.TooLong
	notSupported = registrytest.NotSupported
)

func ptr[T any](v T) *T { return &v }

func TestResources(t *testing.T) {
	tests := []struct {
		resource, kind string
		namespaced     bool
		obj, list      runtime.Object
	}{
		{"namespaces", "Namespace", false, &corev1.Namespace{}, &corev1.NamespaceList{}},
		{"configmaps", "ConfigMap", true, &corev1.ConfigMap{}, &corev1.ConfigMapList{}},
		{"secrets", "Secret", true, &corev1.Secret{}, &corev1.SecretList{}},
		{"serviceaccounts", "ServiceAccount", true, &corev1.ServiceAccount{}, &corev1.ServiceAccountList{}},
		{"events", "Event", true, &corev1.Event{}, &corev1.EventList{}},
	}
	byName := map[string]*registry.Resource{}
	for _, r := range core.Resources() {
		byName[r.GVR.Resource] = r
	}
	if len(byName) != len(tests) {
		t.Errorf("core.Resources has %d resources, want %d", len(byName), len(tests))
	}
	for _, tt := range tests {
		r := byName[tt.resource]
		if r == nil {
			t.Errorf("no resource %s", tt.resource)
			continue
		}
		if r.GVR.Group != "" || r.GVR.Version != "v1" || r.Kind != tt.kind || r.ListKind != tt.kind+"List" || r.Namespaced != tt.namespaced {
			t.Errorf("%s: %+v", tt.resource, r)
		}
		if got := r.Strategy.New(); !apiequality.Semantic.DeepEqual(got, tt.obj) {
			t.Errorf("%s: New() = %T", tt.resource, got)
		}
		if got := r.Strategy.NewList(); !apiequality.Semantic.DeepEqual(got, tt.list) {
			t.Errorf("%s: NewList() = %T", tt.resource, got)
		}
	}
	if ns := byName["namespaces"]; ns != nil && (!ns.HasSubresource("status") || !ns.HasSubresource("finalize")) {
		t.Errorf("namespaces subresources = %v, want status and finalize", ns.Subresources)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		resource string
		name     string
		prefix   bool
		ok       bool
	}{
		// Namespaces are DNS labels.
		{"namespaces", "kube-system", false, true},
		{"namespaces", "a.b", false, false},
		{"namespaces", "Upper", false, false},
		{"namespaces", strings.Repeat("a", 64), false, false},
		{"namespaces", "gen-", true, true},
		// The others are DNS subdomains.
		{"configmaps", "a.b-c", false, true},
		{"configmaps", "Upper", false, false},
		{"configmaps", "a_b", false, false},
		{"configmaps", "gen-", true, true},
		{"secrets", "default-token.x", false, true},
		{"secrets", "-a", false, false},
		{"serviceaccounts", "default", false, true},
		{"serviceaccounts", "a b", false, false},
		{"events", "pod.17a2b3c4d5e6f7", false, true},
		{"events", "Pod.1", false, false},
	}
	for _, tt := range tests {
		errs := strategy(t, tt.resource).ValidateName(tt.name, tt.prefix)
		if ok := len(errs) == 0; ok != tt.ok {
			t.Errorf("%s ValidateName(%q, %v) = %q, want ok=%v", tt.resource, tt.name, tt.prefix, errs, tt.ok)
		}
	}
}

// ---- ConfigMap ----

func TestConfigMapValidate(t *testing.T) {
	s := strategy(t, "configmaps")
	tests := []struct {
		name   string
		data   map[string]string
		binary map[string][]byte
		want   []fieldErr
	}{
		{name: "empty"},
		{name: "valid keys", data: map[string]string{"a": "1", "a.b": "", "_x": "", "-y": "", "A-Z_09.conf": ""},
			binary: map[string][]byte{"bin.dat": {0, 1}}},
		{name: "key with space", data: map[string]string{"a b": "x"}, want: []fieldErr{invalid("data[a b]")}},
		{name: "key with slash", data: map[string]string{"a/b": "x"}, want: []fieldErr{invalid("data[a/b]")}},
		{name: "key dot-dot", data: map[string]string{"..": "x"}, want: []fieldErr{invalid("data[..]")}},
		{name: "empty key", data: map[string]string{"": "x"}, want: []fieldErr{invalid("data[]")}},
		{name: "invalid binary key", binary: map[string][]byte{"x:y": nil}, want: []fieldErr{invalid("binaryData[x:y]")}},
		{name: "key in data and binaryData", data: map[string]string{"k": "a"}, binary: map[string][]byte{"k": []byte("a")},
			want: []fieldErr{invalid("data[k]")}},
		{name: "exactly 1 MiB, keys counted", data: map[string]string{"k": strings.Repeat("x", maxData-1)}},
		{name: "over 1 MiB by the key", data: map[string]string{"kk": strings.Repeat("x", maxData-1)}, want: []fieldErr{tooLong("[]")}},
		{name: "over 1 MiB across data and binaryData",
			data:   map[string]string{"a": strings.Repeat("x", maxData/2)},
			binary: map[string][]byte{"b": make([]byte, maxData/2)},
			want:   []fieldErr{tooLong("[]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: tt.data, BinaryData: tt.binary}
			checkErrs(t, s.Validate(context.Background(), cm), tt.want...)
			// An update validates the new object the same way.
			checkErrs(t, s.ValidateUpdate(context.Background(), cm, &corev1.ConfigMap{}), tt.want...)
		})
	}
}

func TestConfigMapValidateUpdate(t *testing.T) {
	s := strategy(t, "configmaps")
	cm := func(immutable *bool, data map[string]string, binary map[string][]byte) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Immutable: immutable, Data: data, BinaryData: binary}
	}
	d1, d2 := map[string]string{"k": "1"}, map[string]string{"k": "2"}
	b1, b2 := map[string][]byte{"b": {1}}, map[string][]byte{"b": {2}}
	tests := []struct {
		name     string
		old, obj *corev1.ConfigMap
		want     []fieldErr
	}{
		{name: "mutable data change", old: cm(nil, d1, nil), obj: cm(nil, d2, nil)},
		{name: "mutable made immutable with a change", old: cm(ptr(false), d1, nil), obj: cm(ptr(true), d2, nil)},
		{name: "immutable unchanged", old: cm(ptr(true), d1, b1), obj: cm(ptr(true), d1, b1)},
		{name: "immutable, labels may change", old: cm(ptr(true), d1, nil), obj: func() *corev1.ConfigMap {
			c := cm(ptr(true), d1, nil)
			c.Labels = map[string]string{"a": "b"}
			return c
		}()},
		{name: "immutable data change", old: cm(ptr(true), d1, nil), obj: cm(ptr(true), d2, nil), want: []fieldErr{forbidden("data")}},
		{name: "immutable data removed", old: cm(ptr(true), d1, nil), obj: cm(ptr(true), nil, nil), want: []fieldErr{forbidden("data")}},
		{name: "immutable binaryData change", old: cm(ptr(true), nil, b1), obj: cm(ptr(true), nil, b2), want: []fieldErr{forbidden("binaryData")}},
		{name: "immutable unset", old: cm(ptr(true), d1, nil), obj: cm(nil, d1, nil), want: []fieldErr{forbidden("immutable")}},
		{name: "immutable set false", old: cm(ptr(true), d1, nil), obj: cm(ptr(false), d1, nil), want: []fieldErr{forbidden("immutable")}},
		{name: "immutable unset and data change", old: cm(ptr(true), d1, nil), obj: cm(nil, d2, nil),
			want: []fieldErr{forbidden("immutable"), forbidden("data")}},
		{name: "invalid key on update", old: cm(nil, d1, nil), obj: cm(nil, map[string]string{"a b": ""}, nil),
			want: []fieldErr{invalid("data[a b]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrs(t, s.ValidateUpdate(context.Background(), tt.obj, tt.old), tt.want...)
		})
	}
}

// TestNoOpPreparation covers the kinds whose Default and Prepare* change
// nothing: no status to protect, no generation.
func TestNoOpPreparation(t *testing.T) {
	tests := []struct {
		resource string
		obj, old runtime.Object
	}{
		{"configmaps",
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Data: map[string]string{"k": "v"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Data: map[string]string{"k": "old"}}},
		{"serviceaccounts",
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Secrets: []corev1.ObjectReference{{Name: "s"}}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}}},
		{"events",
			&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Reason: "R", Count: 2},
			&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Reason: "R", Count: 1}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			s := strategy(t, tt.resource)
			obj := tt.obj.DeepCopyObject()
			s.Default(obj)
			s.PrepareForCreate(ctx, obj)
			if !apiequality.Semantic.DeepEqual(obj, tt.obj) {
				t.Errorf("Default+PrepareForCreate changed the object:\n%+v", obj)
			}
			for _, sub := range []string{"", "status"} {
				obj := tt.obj.DeepCopyObject()
				s.PrepareForUpdate(ctx, obj, tt.old.DeepCopyObject(), sub)
				if !apiequality.Semantic.DeepEqual(obj, tt.obj) {
					t.Errorf("PrepareForUpdate(%q) changed the object:\n%+v", sub, obj)
				}
			}
			if errs := s.Validate(ctx, tt.obj); len(errs) > 0 {
				t.Errorf("Validate: %v", errs)
			}
			if errs := s.ValidateUpdate(ctx, tt.obj, tt.old); len(errs) > 0 {
				t.Errorf("ValidateUpdate: %v", errs)
			}
		})
	}
}

func TestSelectableFields(t *testing.T) {
	tests := []struct {
		resource string
		obj      runtime.Object
		want     fields.Set
	}{
		{"configmaps", &corev1.ConfigMap{Data: map[string]string{"a": "b"}}, nil},
		{"serviceaccounts", &corev1.ServiceAccount{}, nil},
		{"secrets", &corev1.Secret{Type: corev1.SecretTypeTLS}, fields.Set{"type": "kubernetes.io/tls"}},
		{"namespaces", &corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			fields.Set{"status.phase": "Terminating"}},
		{"events", &corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p", UID: "u1", APIVersion: "v1", ResourceVersion: "7", FieldPath: "spec.containers{c}"},
			Reason:         "Started", Type: corev1.EventTypeNormal, Source: corev1.EventSource{Component: "kubelet"}, ReportingController: "skiff.dev/ctl",
		}, fields.Set{
			"involvedObject.kind": "Pod", "involvedObject.namespace": "ns", "involvedObject.name": "p", "involvedObject.uid": "u1",
			"involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "7", "involvedObject.fieldPath": "spec.containers{c}",
			"reason": "Started", "reportingComponent": "skiff.dev/ctl", "source": "kubelet", "type": "Normal",
		}},
		// Without source.component, source is the reporting controller.
		{"events", &corev1.Event{ReportingController: "skiff.dev/ctl"}, fields.Set{
			"involvedObject.kind": "", "involvedObject.namespace": "", "involvedObject.name": "", "involvedObject.uid": "",
			"involvedObject.apiVersion": "", "involvedObject.resourceVersion": "", "involvedObject.fieldPath": "",
			"reason": "", "reportingComponent": "skiff.dev/ctl", "source": "skiff.dev/ctl", "type": "",
		}},
	}
	for _, tt := range tests {
		got := strategy(t, tt.resource).SelectableFields(tt.obj)
		if len(got) != len(tt.want) || !fields.SelectorFromSet(tt.want).Matches(got) {
			t.Errorf("%s SelectableFields = %v, want %v", tt.resource, got, tt.want)
		}
	}
}

// ---- Secret ----

func TestSecretDefault(t *testing.T) {
	s := strategy(t, "secrets")
	tests := []struct {
		name string
		in   corev1.Secret
		want corev1.Secret
	}{
		{name: "type defaults to Opaque", in: corev1.Secret{}, want: corev1.Secret{Type: corev1.SecretTypeOpaque}},
		{name: "type kept", in: corev1.Secret{Type: corev1.SecretTypeTLS}, want: corev1.Secret{Type: corev1.SecretTypeTLS}},
		{name: "stringData into empty data",
			in:   corev1.Secret{StringData: map[string]string{"a": "1"}},
			want: corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": []byte("1")}}},
		{name: "stringData merged, wins over data",
			in:   corev1.Secret{Data: map[string][]byte{"a": []byte("old"), "b": []byte("2")}, StringData: map[string]string{"a": "new", "c": "3"}},
			want: corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": []byte("new"), "b": []byte("2"), "c": []byte("3")}}},
		{name: "empty stringData cleared", in: corev1.Secret{StringData: map[string]string{}}, want: corev1.Secret{Type: corev1.SecretTypeOpaque}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			s.Default(got)
			if got.StringData != nil {
				t.Errorf("stringData = %v, want nil", got.StringData)
			}
			if !apiequality.Semantic.DeepEqual(*got, tt.want) {
				t.Errorf("Default:\n got  %+v\n want %+v", *got, tt.want)
			}
		})
	}
}

func TestSecretValidate(t *testing.T) {
	s := strategy(t, "secrets")
	type data = map[string][]byte
	tests := []struct {
		name        string
		typ         corev1.SecretType
		data        data
		annotations map[string]string
		want        []fieldErr
	}{
		{name: "opaque empty", typ: corev1.SecretTypeOpaque},
		{name: "valid keys", typ: corev1.SecretTypeOpaque, data: data{"a.b": nil, "_c-d": nil}},
		{name: "invalid key", typ: corev1.SecretTypeOpaque, data: data{"a b": nil}, want: []fieldErr{invalid("data[a b]")}},
		{name: "1 MiB of values, keys not counted", typ: corev1.SecretTypeOpaque, data: data{"key": make([]byte, maxData)}},
		{name: "over 1 MiB", typ: corev1.SecretTypeOpaque, data: data{"a": make([]byte, maxData/2), "b": make([]byte, maxData/2+1)},
			want: []fieldErr{tooLong("data")}},
		{name: "custom type", typ: "example.com/thing"},
		// Upstream accepts any custom type.
		{name: "custom type", typ: "a b"},

		{name: "tls complete", typ: corev1.SecretTypeTLS, data: data{"tls.crt": []byte("c"), "tls.key": []byte("k")}},
		{name: "tls empty", typ: corev1.SecretTypeTLS, want: []fieldErr{required("data[tls.crt]"), required("data[tls.key]")}},
		{name: "tls without key", typ: corev1.SecretTypeTLS, data: data{"tls.crt": []byte("c")}, want: []fieldErr{required("data[tls.key]")}},
		{name: "tls without cert", typ: corev1.SecretTypeTLS, data: data{"tls.key": []byte("k")}, want: []fieldErr{required("data[tls.crt]")}},

		{name: "basic-auth username only", typ: corev1.SecretTypeBasicAuth, data: data{"username": []byte("u")}},
		{name: "basic-auth password only", typ: corev1.SecretTypeBasicAuth, data: data{"password": []byte("p")}},
		{name: "basic-auth empty values", typ: corev1.SecretTypeBasicAuth, data: data{"username": {}, "password": {}}},
		{name: "basic-auth neither", typ: corev1.SecretTypeBasicAuth, data: data{"other": nil}, want: []fieldErr{required("data[username]"), required("data[password]")}},

		{name: "ssh-auth", typ: corev1.SecretTypeSSHAuth, data: data{"ssh-privatekey": []byte("k")}},
		{name: "ssh-auth missing", typ: corev1.SecretTypeSSHAuth, want: []fieldErr{required("data[ssh-privatekey]")}},
		// Upstream requires a non-empty key (len(data[ssh-privatekey]) == 0
		// is Required).
		{name: "ssh-auth empty", typ: corev1.SecretTypeSSHAuth, data: data{"ssh-privatekey": {}}, want: []fieldErr{required("data[ssh-privatekey]")}},

		{name: "dockerconfigjson", typ: corev1.SecretTypeDockerConfigJson, data: data{".dockerconfigjson": []byte(`{"auths":{}}`)}},
		{name: "dockerconfigjson missing", typ: corev1.SecretTypeDockerConfigJson, data: data{".dockercfg": []byte(`{}`)},
			want: []fieldErr{required("data[.dockerconfigjson]")}},
		// Upstream checks the content is well-formed JSON.
		{name: "dockerconfigjson not JSON", typ: corev1.SecretTypeDockerConfigJson, data: data{".dockerconfigjson": []byte(`{"auths":`)},
			want: []fieldErr{invalid("data[.dockerconfigjson]")}},
		{name: "dockercfg", typ: corev1.SecretTypeDockercfg, data: data{".dockercfg": []byte(`{}`)}},
		{name: "dockercfg missing", typ: corev1.SecretTypeDockercfg, want: []fieldErr{required("data[.dockercfg]")}},
		{name: "dockercfg not JSON", typ: corev1.SecretTypeDockercfg, data: data{".dockercfg": []byte(`nope`)},
			want: []fieldErr{invalid("data[.dockercfg]")}},

		{name: "service-account-token", typ: corev1.SecretTypeServiceAccountToken,
			annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		{name: "service-account-token without annotation", typ: corev1.SecretTypeServiceAccountToken,
			want: []fieldErr{required("metadata.annotations[kubernetes.io/service-account.name]")}},
		{name: "service-account-token empty annotation", typ: corev1.SecretTypeServiceAccountToken,
			annotations: map[string]string{corev1.ServiceAccountNameKey: ""},
			want:        []fieldErr{required("metadata.annotations[kubernetes.io/service-account.name]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", Annotations: tt.annotations},
				Type:       tt.typ, Data: tt.data,
			}
			checkErrs(t, s.Validate(context.Background(), sec), tt.want...)
			checkErrs(t, s.ValidateUpdate(context.Background(), sec, sec.DeepCopy()), tt.want...)
		})
	}
}

func TestSecretValidateUpdate(t *testing.T) {
	s := strategy(t, "secrets")
	sec := func(typ corev1.SecretType, immutable *bool, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Type: typ, Immutable: immutable, Data: data}
	}
	tlsData := map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}
	d1, d2 := map[string][]byte{"k": []byte("1")}, map[string][]byte{"k": []byte("2")}
	tests := []struct {
		name     string
		old, obj *corev1.Secret
		want     []fieldErr
	}{
		{name: "data change", old: sec(corev1.SecretTypeOpaque, nil, d1), obj: sec(corev1.SecretTypeOpaque, nil, d2)},
		{name: "type change", old: sec(corev1.SecretTypeOpaque, nil, tlsData), obj: sec(corev1.SecretTypeTLS, nil, tlsData),
			want: []fieldErr{invalid("type")}},
		{name: "type change, new type invalid too", old: sec(corev1.SecretTypeOpaque, nil, nil), obj: sec(corev1.SecretTypeTLS, nil, nil),
			want: []fieldErr{invalid("type"), required("data[tls.crt]"), required("data[tls.key]")}},
		{name: "made immutable", old: sec(corev1.SecretTypeOpaque, nil, d1), obj: sec(corev1.SecretTypeOpaque, ptr(true), d2)},
		{name: "immutable unchanged", old: sec(corev1.SecretTypeOpaque, ptr(true), d1), obj: sec(corev1.SecretTypeOpaque, ptr(true), d1)},
		{name: "immutable data change", old: sec(corev1.SecretTypeOpaque, ptr(true), d1), obj: sec(corev1.SecretTypeOpaque, ptr(true), d2),
			want: []fieldErr{forbidden("data")}},
		{name: "immutable unset", old: sec(corev1.SecretTypeOpaque, ptr(true), d1), obj: sec(corev1.SecretTypeOpaque, nil, d1),
			want: []fieldErr{forbidden("immutable")}},
		{name: "immutable set false with data change", old: sec(corev1.SecretTypeOpaque, ptr(true), d1), obj: sec(corev1.SecretTypeOpaque, ptr(false), d2),
			want: []fieldErr{forbidden("immutable"), forbidden("data")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrs(t, s.ValidateUpdate(context.Background(), tt.obj, tt.old), tt.want...)
		})
	}
}

// TestSecretStringDataOnImmutable: stringData is merged by Default before
// validation, so it cannot slip a change past an immutable secret.
func TestSecretStringDataOnImmutable(t *testing.T) {
	s := strategy(t, "secrets")
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Type: corev1.SecretTypeOpaque,
		Immutable: ptr(true), Data: map[string][]byte{"k": []byte("1")}}
	obj := old.DeepCopy()
	obj.StringData = map[string]string{"k": "2"}
	s.Default(obj)
	s.PrepareForUpdate(context.Background(), obj, old, "")
	checkErrs(t, s.ValidateUpdate(context.Background(), obj, old), forbidden("data"))
}

// ---- Namespace ----

func namespace(finalizers []corev1.FinalizerName, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "ns"},
		Spec:       corev1.NamespaceSpec{Finalizers: finalizers},
		Status:     corev1.NamespaceStatus{Phase: phase},
	}
}

// TestNamespaceNameLabel: every namespace carries the label
// kubernetes.io/metadata.name=<name>, set by upstream's defaulter
// (SetDefaults_Namespace) and restored by its strategy on every write, so
// that namespace selectors can name one namespace. Checked after the
// strategy's whole create and update preparation, wherever it is set.
func TestNamespaceNameLabel(t *testing.T) {
	s := strategy(t, "namespaces")
	ctx := context.Background()
	tests := []struct {
		name   string
		labels map[string]string
		want   map[string]string
	}{
		{name: "no labels", want: map[string]string{corev1.LabelMetadataName: "ns"}},
		{name: "other labels kept", labels: map[string]string{"a": "b"}, want: map[string]string{"a": "b", corev1.LabelMetadataName: "ns"}},
		{name: "wrong value corrected", labels: map[string]string{corev1.LabelMetadataName: "other"}, want: map[string]string{corev1.LabelMetadataName: "ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := namespace(nil, "")
			ns.Labels = tt.labels
			s.Default(ns)
			s.PrepareForCreate(ctx, ns)
			if !apiequality.Semantic.DeepEqual(ns.Labels, tt.want) {
				t.Errorf("create: labels = %v, want %v", ns.Labels, tt.want)
			}

			old := namespace([]corev1.FinalizerName{corev1.FinalizerKubernetes}, corev1.NamespaceActive)
			old.Labels = map[string]string{corev1.LabelMetadataName: "ns"}
			ns = old.DeepCopy()
			ns.Labels = tt.labels
			s.Default(ns)
			s.PrepareForUpdate(ctx, ns, old, "")
			if !apiequality.Semantic.DeepEqual(ns.Labels, tt.want) {
				t.Errorf("update: labels = %v, want %v", ns.Labels, tt.want)
			}
		})
	}
}

func TestNamespacePrepareForCreate(t *testing.T) {
	s := strategy(t, "namespaces")
	k := corev1.FinalizerKubernetes
	tests := []struct {
		name string
		in   *corev1.Namespace
		want []corev1.FinalizerName
	}{
		{name: "kubernetes finalizer added", in: namespace(nil, ""), want: []corev1.FinalizerName{k}},
		{name: "user status replaced", in: namespace(nil, corev1.NamespaceTerminating), want: []corev1.FinalizerName{k}},
		{name: "appended to others", in: namespace([]corev1.FinalizerName{"example.com/x"}, ""), want: []corev1.FinalizerName{"example.com/x", k}},
		{name: "not duplicated", in: namespace([]corev1.FinalizerName{"example.com/x", k}, ""), want: []corev1.FinalizerName{"example.com/x", k}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tt.in.DeepCopy()
			s.PrepareForCreate(context.Background(), ns)
			if !apiequality.Semantic.DeepEqual(ns.Spec.Finalizers, tt.want) {
				t.Errorf("spec.finalizers = %v, want %v", ns.Spec.Finalizers, tt.want)
			}
			if ns.Status.Phase != corev1.NamespaceActive {
				t.Errorf("status.phase = %q, want Active", ns.Status.Phase)
			}
		})
	}
}

func TestNamespacePrepareForUpdate(t *testing.T) {
	s := strategy(t, "namespaces")
	k := corev1.FinalizerKubernetes
	old := namespace([]corev1.FinalizerName{k}, corev1.NamespaceActive)
	// The client changes labels, spec.finalizers and status at once.
	changed := namespace([]corev1.FinalizerName{"example.com/x"}, corev1.NamespaceTerminating)
	changed.Labels = map[string]string{"team": "a"}
	tests := []struct {
		sub        string
		finalizers []corev1.FinalizerName
		phase      corev1.NamespacePhase
	}{
		// A plain update changes neither spec.finalizers nor status.
		{"", []corev1.FinalizerName{k}, corev1.NamespaceActive},
		// status changes only status.
		{"status", []corev1.FinalizerName{k}, corev1.NamespaceTerminating},
		// finalize changes only spec.finalizers.
		{"finalize", []corev1.FinalizerName{"example.com/x"}, corev1.NamespaceActive},
	}
	for _, tt := range tests {
		t.Run("subresource="+tt.sub, func(t *testing.T) {
			ns := changed.DeepCopy()
			s.PrepareForUpdate(context.Background(), ns, old.DeepCopy(), tt.sub)
			if !apiequality.Semantic.DeepEqual(ns.Spec.Finalizers, tt.finalizers) {
				t.Errorf("spec.finalizers = %v, want %v", ns.Spec.Finalizers, tt.finalizers)
			}
			if ns.Status.Phase != tt.phase {
				t.Errorf("status.phase = %q, want %q", ns.Status.Phase, tt.phase)
			}
			if ns.Labels["team"] != "a" {
				t.Errorf("labels = %v: metadata must pass on every subresource", ns.Labels)
			}
		})
	}
}

func TestNamespaceValidate(t *testing.T) {
	s := strategy(t, "namespaces")
	tests := []struct {
		name       string
		finalizers []corev1.FinalizerName
		want       []fieldErr
	}{
		{name: "none"},
		{name: "standard and qualified", finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes, "example.com/x"}},
		{name: "not a qualified name", finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes, "bad name"},
			want: []fieldErr{invalid("spec.finalizers[1]")}},
		{name: "bad prefix", finalizers: []corev1.FinalizerName{"Not_A_Domain/x"}, want: []fieldErr{invalid("spec.finalizers[0]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := namespace(tt.finalizers, corev1.NamespaceActive)
			checkErrs(t, s.Validate(context.Background(), ns), tt.want...)
			checkErrs(t, s.ValidateUpdate(context.Background(), ns, namespace(nil, corev1.NamespaceActive)), tt.want...)
		})
	}
}

func TestNamespaceDeletion(t *testing.T) {
	ds, ok := strategy(t, "namespaces").(registry.DeletionStrategy)
	if !ok {
		t.Fatal("the namespace strategy is not a registry.DeletionStrategy")
	}
	ns := namespace([]corev1.FinalizerName{corev1.FinalizerKubernetes}, corev1.NamespaceActive)
	if !ds.PendingFinalizers(ns) {
		t.Error("PendingFinalizers = false with spec.finalizers [kubernetes]")
	}
	ds.PrepareForDeletion(ns)
	if ns.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("after PrepareForDeletion status.phase = %q, want Terminating", ns.Status.Phase)
	}
	// Only spec.finalizers are the namespace's own; metadata.finalizers
	// are the store's business.
	done := namespace(nil, corev1.NamespaceTerminating)
	done.Finalizers = []string{"example.com/x"}
	if ds.PendingFinalizers(done) {
		t.Error("PendingFinalizers = true without spec.finalizers")
	}

	for _, r := range []string{"configmaps", "secrets", "serviceaccounts", "events"} {
		if _, ok := strategy(t, r).(registry.DeletionStrategy); ok {
			t.Errorf("%s strategy is a DeletionStrategy", r)
		}
	}
}

// ---- Event ----

func TestEventValidate(t *testing.T) {
	s := strategy(t, "events")
	tests := []struct {
		name       string
		involvedNS string
		typ        string
		want       []fieldErr
	}{
		{name: "cluster-scoped involved object", involvedNS: ""},
		{name: "same namespace", involvedNS: "ns", typ: corev1.EventTypeNormal},
		{name: "warning", involvedNS: "ns", typ: corev1.EventTypeWarning},
		{name: "namespace mismatch", involvedNS: "other", want: []fieldErr{invalid("involvedObject.namespace")}},
		{name: "bad type", involvedNS: "ns", typ: "Error", want: []fieldErr{notSupported("type")}},
		{name: "lower-case type", typ: "normal", want: []fieldErr{notSupported("type")}},
		{name: "both", involvedNS: "other", typ: "Error", want: []fieldErr{invalid("involvedObject.namespace"), notSupported("type")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "e", Namespace: "ns"},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p", Namespace: tt.involvedNS},
				Type:           tt.typ,
				FirstTimestamp: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
			}
			checkErrs(t, s.Validate(context.Background(), e), tt.want...)
			checkErrs(t, s.ValidateUpdate(context.Background(), e, e.DeepCopy()), tt.want...)
		})
	}
}
