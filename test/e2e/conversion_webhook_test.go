package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	clientv3 "go.etcd.io/etcd/client/v3"

	"skiff.dev/skiff/internal/etcdtest"
)

// conversionWebhook is a real HTTPS server speaking
// apiextensions.k8s.io/v1 ConversionReview, with its own CA, as a CRD
// author deploys one. It converts Paints between convert.skiff.dev/v1, whose
// spec has "colour", and v2, which renamed it "color". An object whose
// colour is "poison" cannot be converted.
type conversionWebhook struct {
	URL      string
	CABundle []byte // PEM of the CA that signed the serving certificate

	mu         sync.Mutex
	reviews    []seenReview
	errs       []string // malformed requests
	refuseFrom string   // an apiVersion the webhook refuses to convert from
}

// RefuseFrom makes the webhook fail every conversion of an object in
// apiVersion (none when "").
func (wh *conversionWebhook) RefuseFrom(apiVersion string) {
	wh.mu.Lock()
	wh.refuseFrom = apiVersion
	wh.mu.Unlock()
}

// seenReview is what one ConversionReview asked for.
type seenReview struct {
	Desired string
	Objects []string // name@apiVersion of each object sent
}

func startConversionWebhook(t *testing.T) *conversionWebhook {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "paint-conversion-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "paint-conversion"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wh := &conversionWebhook{
		URL:      "https://" + ln.Addr().String() + "/convert",
		CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/convert", wh.serve)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}},
		},
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("conversion webhook server: %v", err)
		}
		wh.mu.Lock()
		defer wh.mu.Unlock()
		for _, e := range wh.errs {
			t.Errorf("conversion webhook got a malformed request: %s", e)
		}
	})
	return wh
}

func (wh *conversionWebhook) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	wh.mu.Lock()
	wh.errs = append(wh.errs, msg)
	wh.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

func (wh *conversionWebhook) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		wh.fail(w, "method %s, want POST", r.Method)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		wh.fail(w, "Content-Type %q, want application/json", ct)
		return
	}
	var review apiextensionsv1.ConversionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		wh.fail(w, "decoding the ConversionReview: %v", err)
		return
	}
	if review.APIVersion != "apiextensions.k8s.io/v1" || review.Kind != "ConversionReview" || review.Request == nil || review.Request.UID == "" {
		wh.fail(w, "not an apiextensions.k8s.io/v1 ConversionReview request: %+v", review)
		return
	}
	req := review.Request
	seen := seenReview{Desired: req.DesiredAPIVersion}
	wh.mu.Lock()
	refuse := wh.refuseFrom
	wh.mu.Unlock()
	resp := &apiextensionsv1.ConversionResponse{UID: req.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
	for _, raw := range req.Objects {
		var obj map[string]any
		if err := json.Unmarshal(raw.Raw, &obj); err != nil {
			wh.fail(w, "an object is not JSON: %v", err)
			return
		}
		u := &unstructured.Unstructured{Object: obj}
		seen.Objects = append(seen.Objects, u.GetName()+"@"+u.GetAPIVersion())
		var err error
		if from := u.GetAPIVersion(); refuse != "" && from == refuse && from != req.DesiredAPIVersion {
			err = fmt.Errorf("conversion from %s refused", from)
		} else {
			err = convertPaint(u, req.DesiredAPIVersion)
		}
		if err != nil {
			resp.ConvertedObjects = nil
			resp.Result = metav1.Status{Status: metav1.StatusFailure, Message: err.Error()}
			break
		}
		b, err := json.Marshal(u.Object)
		if err != nil {
			wh.fail(w, "encoding: %v", err)
			return
		}
		resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: b})
	}
	wh.mu.Lock()
	wh.reviews = append(wh.reviews, seen)
	wh.mu.Unlock()

	out := apiextensionsv1.ConversionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// convertPaint renames spec.colour (v1) to spec.color (v2) and back.
func convertPaint(u *unstructured.Unstructured, desired string) error {
	from, to := u.GetAPIVersion(), desired
	if from == to {
		return nil
	}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	switch {
	case from == "convert.skiff.dev/v1" && to == "convert.skiff.dev/v2":
		if c, ok := spec["colour"]; ok {
			if c == "poison" {
				return errors.New("cannot convert poison")
			}
			spec["color"] = c
			delete(spec, "colour")
		}
	case from == "convert.skiff.dev/v2" && to == "convert.skiff.dev/v1":
		if c, ok := spec["color"]; ok {
			spec["colour"] = c
			delete(spec, "color")
		}
	default:
		return fmt.Errorf("cannot convert %s to %s", from, to)
	}
	u.SetAPIVersion(to)
	return unstructured.SetNestedMap(u.Object, spec, "spec")
}

// Reviews returns the reviews seen since the last call.
func (wh *conversionWebhook) Reviews() []seenReview {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	r := wh.reviews
	wh.reviews = nil
	return r
}

// paintsCRD is the Paint CRD converted by wh; storage names the storage
// version.
func paintsCRD(wh *conversionWebhook, storage string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: paints.convert.skiff.dev
spec:
  group: convert.skiff.dev
  names:
    kind: Paint
    plural: paints
  scope: Namespaced
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig:
        url: %s
        caBundle: %s
  versions:
  - name: v1
    served: true
    storage: %t
    additionalPrinterColumns:
    - name: Colour
      type: string
      jsonPath: .spec.colour
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              colour:
                type: string
  - name: v2
    served: true
    storage: %t
    additionalPrinterColumns:
    - name: Color
      type: string
      jsonPath: .spec.color
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color:
                type: string
`, wh.URL, base64.StdEncoding.EncodeToString(wh.CABundle), storage == "v1", storage == "v2")
}

var (
	paintsV1 = schema.GroupVersionResource{Group: "convert.skiff.dev", Version: "v1", Resource: "paints"}
	paintsV2 = schema.GroupVersionResource{Group: "convert.skiff.dev", Version: "v2", Resource: "paints"}
)

// TestCRDConversionWebhook: the API server calls a real HTTPS conversion
// webhook (trusting it through the CRD's caBundle) whenever an object is
// read or written in a version other than the one it is stored in. The
// server runs on a real etcd, so the test reads what is stored, and in
// which version, from the keys themselves.
func TestCRDConversionWebhook(t *testing.T) {
	t.Parallel()
	wh := startConversionWebhook(t)
	cluster := etcdtest.StartCluster(t, 1)
	const prefix = "/skiff-crd-conversion"
	s := startSkiffEtcd(t, cluster.Endpoints(), prefix)
	ctx := context.Background()
	etcd, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	// storedAPIVersion is the apiVersion of paint name as stored in etcd.
	storedAPIVersion := func(t *testing.T, name string) string {
		t.Helper()
		resp, err := etcd.Get(ctx, prefix+"/", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
			if strings.HasSuffix(string(kv.Key), "/convert.skiff.dev/paints/default/"+name) {
				var obj struct{ APIVersion string }
				if err := json.Unmarshal(kv.Value, &obj); err != nil {
					t.Fatalf("the stored %s is not JSON: %v", kv.Key, err)
				}
				return obj.APIVersion
			}
		}
		t.Fatalf("no key for paint %s among %v", name, keys)
		return ""
	}
	dir := t.TempDir()
	mustKubectl(t, s, "apply", "-f", writeFile(t, dir, "paints.yaml", paintsCRD(wh, "v1")))
	waitEstablished(t, s, "paints.convert.skiff.dev")
	v1 := s.Dynamic().Resource(paintsV1).Namespace("default")
	v2 := s.Dynamic().Resource(paintsV2).Namespace("default")
	get := func(t *testing.T, gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
		t.Helper()
		u, err := s.Dynamic().Resource(gvr).Namespace("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("GET %s %s: %v", gvr.Version, name, err)
		}
		return u
	}
	// reviewed reports whether some review converted name (sent at from)
	// to the desired version.
	reviewed := func(reviews []seenReview, name, from, desired string) bool {
		for _, r := range reviews {
			if r.Desired == desired && slices.Contains(r.Objects, name+"@"+from) {
				return true
			}
		}
		return false
	}

	t.Run("ReadInOtherVersion", func(t *testing.T) {
		wh.Reviews()
		mustKubectl(t, s, "apply", "-f", writeFile(t, dir, "p1.yaml", "apiVersion: convert.skiff.dev/v1\nkind: Paint\nmetadata:\n  name: p1\nspec:\n  colour: red\n"))
		u := get(t, paintsV2, "p1")
		spec, _, _ := unstructured.NestedMap(u.Object, "spec")
		if u.GetAPIVersion() != "convert.skiff.dev/v2" || fmt.Sprint(spec) != "map[color:red]" {
			t.Errorf("p1 at v2 = %s %v, want convert.skiff.dev/v2 with spec.color red only", u.GetAPIVersion(), spec)
		}
		// Only the webhook knows the rename; it was asked (now, or when
		// the server chose to convert p1 after its creation).
		if r := wh.Reviews(); !reviewed(r, "p1", "convert.skiff.dev/v1", "convert.skiff.dev/v2") {
			t.Errorf("the webhook saw %+v, want p1 converted from v1 to v2", r)
		}
		if got := mustKubectl(t, s, "get", "paints.v2.convert.skiff.dev", "p1", "-o", "jsonpath={.apiVersion} {.spec.color}"); got != "convert.skiff.dev/v2 red" {
			t.Errorf("kubectl get at v2 = %q", got)
		}
		// Printer columns are those of the version asked for.
		out := mustKubectl(t, s, "get", "paints.v2.convert.skiff.dev")
		if h := headerFields(out); !slices.Equal(h, []string{"NAME", "COLOR"}) || !fieldsAre("p1", "red")(strings.Split(strings.TrimSpace(out), "\n")[1]) {
			t.Errorf("kubectl get paints at v2:\n%s", out)
		}
	})

	t.Run("WriteInOtherVersion", func(t *testing.T) {
		// Created at v2, stored at v1: converted before it is stored.
		p2 := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "convert.skiff.dev/v2", "kind": "Paint",
			"metadata": map[string]any{"name": "p2"},
			"spec":     map[string]any{"color": "blue"},
		}}
		wh.Reviews()
		created, err := v2.Create(ctx, p2, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create at v2: %v", err)
		}
		if created.GetAPIVersion() != "convert.skiff.dev/v2" || nestedString(created, "spec", "color") != "blue" {
			t.Errorf("create at v2 returned %v", created.Object)
		}
		if r := wh.Reviews(); !reviewed(r, "p2", "convert.skiff.dev/v2", "convert.skiff.dev/v1") {
			t.Errorf("the webhook saw %+v, want p2 converted from v2 to v1 for storage", r)
		}
		for _, n := range []string{"p1", "p2"} {
			if v := storedAPIVersion(t, n); v != "convert.skiff.dev/v1" {
				t.Errorf("%s is stored as %s, want the storage version convert.skiff.dev/v1", n, v)
			}
		}
		u := get(t, paintsV1, "p2")
		if u.GetAPIVersion() != "convert.skiff.dev/v1" || nestedString(u, "spec", "colour") != "blue" || nestedString(u, "spec", "color") != "" {
			t.Errorf("p2 at v1 = %v", u.Object)
		}
		// A merge patch at v2 applies to the v2 form.
		if _, err := v2.Patch(ctx, "p1", types.MergePatchType, []byte(`{"spec":{"color":"green"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("merge patch at v2: %v", err)
		}
		if c := nestedString(get(t, paintsV1, "p1"), "spec", "colour"); c != "green" {
			t.Errorf("p1 colour at v1 after a v2 patch = %q, want green", c)
		}
	})

	t.Run("ListAndWatch", func(t *testing.T) {
		l, err := v2.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list at v2: %v", err)
		}
		var got []string
		for _, it := range l.Items {
			got = append(got, it.GetName()+"="+nestedString(&it, "spec", "color")+"@"+it.GetAPIVersion())
		}
		if want := []string{"p1=green@convert.skiff.dev/v2", "p2=blue@convert.skiff.dev/v2"}; !slices.Equal(got, want) {
			t.Errorf("list at v2 = %v, want %v", got, want)
		}
		wctx, cancel := context.WithTimeout(ctx, waitTimeout)
		defer cancel()
		w, err := v2.Watch(wctx, metav1.ListOptions{ResourceVersion: l.GetResourceVersion()})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := v1.Patch(ctx, "p2", types.MergePatchType, []byte(`{"spec":{"colour":"navy"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*unstructured.Unstructured)
			if ok && ev.Type == "MODIFIED" && u.GetName() == "p2" {
				if u.GetAPIVersion() != "convert.skiff.dev/v2" || nestedString(u, "spec", "color") != "navy" {
					t.Errorf("watch at v2 delivered %v", u.Object)
				}
				return
			}
		}
		t.Errorf("a watch at v2 saw no MODIFIED event for p2")
	})

	t.Run("WebhookFailure", func(t *testing.T) {
		mustKubectl(t, s, "apply", "-f", writeFile(t, dir, "p3.yaml", "apiVersion: convert.skiff.dev/v1\nkind: Paint\nmetadata:\n  name: p3\nspec:\n  colour: poison\n"))
		r := doReq(t, s, "GET", "/apis/convert.skiff.dev/v2/namespaces/default/paints/p3", "", nil)
		st := expectStatus(t, r, 500, metav1.StatusReasonInternalError)
		if !strings.Contains(st.Message, "conversion webhook for") || !strings.Contains(st.Message, "failed: cannot convert poison") {
			t.Errorf("message = %q, want the webhook's failure", st.Message)
		}
		mustKubectl(t, s, "delete", "paints.v1.convert.skiff.dev", "p3")
	})

	t.Run("StorageVersionMigration", func(t *testing.T) {
		mustKubectl(t, s, "apply", "-f", writeFile(t, dir, "paints.yaml", paintsCRD(wh, "v2")))
		eventually(t, "storedVersions [v1 v2]", func() (bool, string) {
			sv := getCRD(t, s, "paints.convert.skiff.dev").Status.StoredVersions
			return slices.Equal(sv, []string{"v1", "v2"}), fmt.Sprint(sv)
		})
		// Writing p1 now stores it at v2. Then, with the webhook refusing to
		// convert anything from v1, p1 still reads at v2: it needs no
		// conversion from its stored form any more.
		if _, err := v2.Patch(ctx, "p1", types.MergePatchType, []byte(`{"metadata":{"labels":{"migrated":"yes"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("rewriting p1 at v2: %v", err)
		}
		if v := storedAPIVersion(t, "p1"); v != "convert.skiff.dev/v2" {
			t.Errorf("p1 is stored as %s after a write, want the new storage version convert.skiff.dev/v2", v)
		}
		if v := storedAPIVersion(t, "p2"); v != "convert.skiff.dev/v1" {
			t.Errorf("p2, not written since, is stored as %s, want convert.skiff.dev/v1 still", v)
		}
		wh.RefuseFrom("convert.skiff.dev/v1")
		u, err := v2.Get(ctx, "p1", metav1.GetOptions{})
		if err != nil || nestedString(u, "spec", "color") != "green" || u.GetLabels()["migrated"] != "yes" {
			t.Errorf("p1 at v2 with no conversion from v1 possible: %v %v; want it stored at v2 since its rewrite", err, u)
		}
		// Converting from v2 still works.
		if c := nestedString(get(t, paintsV1, "p1"), "spec", "colour"); c != "green" {
			t.Errorf("p1 at v1 = %q, want green", c)
		}
		wh.RefuseFrom("")
		// p2, not rewritten, still reads in both versions. (When its v1
		// form is converted, on this read or when a cache was filled, is
		// the server's business.)
		if c := nestedString(get(t, paintsV2, "p2"), "spec", "color"); c != "navy" {
			t.Errorf("p2 at v2 = %q, want navy", c)
		}
		// Objects survive a restart, conversion included.
		s.Restart()
		waitEstablished(t, s, "paints.convert.skiff.dev")
		if got := mustKubectl(t, s, "get", "paints.v1.convert.skiff.dev", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.colour} {end}"); got != "p1=green p2=navy " {
			t.Errorf("paints at v1 after a restart = %q", got)
		}
	})
}
