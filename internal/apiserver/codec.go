package apiserver

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "sigs.k8s.io/json"
)

// Scheme knows every built-in kind skiff serves plus the meta.k8s.io kinds
// (Table, PartialObjectMetadata, Status, WatchEvent...).
var (
	Scheme = newScheme()
	// Codecs' serializers are lenient; each SerializerInfo also carries a
	// strict one, used when fieldValidation asks to see unknown fields.
	Codecs = serializer.NewCodecFactory(Scheme)
	// ParameterCodec decodes query parameters into option structs.
	ParameterCodec = runtime.NewParameterCodec(Scheme)
)

// builtinGroupVersions are the group-versions of k8s.io/api skiff serves,
// and policy/v1beta1 whose Eviction the pods/eviction subresource accepts
// as upstream does; add one when serving it. Not client-go's scheme, nor
// every GA group: registering a group links its types, conversions and
// protobuf code into the binary, where they are resident memory even for
// kinds never served.
var builtinGroupVersions = runtime.NewSchemeBuilder(
	admissionregistrationv1.AddToScheme,
	apiextensionsv1.AddToScheme,
	appsv1.AddToScheme,
	autoscalingv1.AddToScheme,
	autoscalingv2.AddToScheme,
	batchv1.AddToScheme,
	certificatesv1.AddToScheme,
	coordinationv1.AddToScheme,
	corev1.AddToScheme,
	discoveryv1.AddToScheme,
	eventsv1.AddToScheme,
	networkingv1.AddToScheme,
	nodev1.AddToScheme,
	policyv1.AddToScheme,
	policyv1beta1.AddToScheme,
	rbacv1.AddToScheme,
	schedulingv1.AddToScheme,
	storagev1.AddToScheme,
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := builtinGroupVersions.AddToScheme(s); err != nil {
		panic(err)
	}
	metav1.AddMetaToScheme(s)
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	metav1.AddToGroupVersion(s, metav1.SchemeGroupVersion)
	return s
}

const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// target is what a client asked the response to be.
type target struct {
	media string // mediaJSON, mediaYAML or mediaProtobuf
	// as is "", "Table", "PartialObjectMetadata" or "PartialObjectMetadataList".
	as     string
	pretty bool
	info   runtime.SerializerInfo
}

// negotiate picks the response encoding from Accept: the first acceptable
// entry wins; an Accept that names only unservable forms is 406.
func negotiate(accept string, list bool) (target, error) {
	if strings.TrimSpace(accept) == "" {
		accept = "*/*"
	}
	for _, clause := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(clause))
		if err != nil {
			continue
		}
		t := target{}
		switch mt {
		case mediaJSON, "*/*", "application/*":
			t.media = mediaJSON
		case mediaYAML:
			t.media = mediaYAML
		case mediaProtobuf:
			t.media = mediaProtobuf
		default:
			continue
		}
		if as := params["as"]; as != "" {
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			switch as {
			case "Table":
			case "PartialObjectMetadata":
				if list {
					continue
				}
			case "PartialObjectMetadataList":
				if !list {
					continue
				}
			default:
				continue
			}
			t.as = as
		}
		info, ok := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), t.media)
		if !ok {
			continue
		}
		t.info = info
		return t, nil
	}
	return target{}, apierrors.NewGenericServerResponse(406, "get", schema.GroupResource{}, "",
		fmt.Sprintf("only the following media types are accepted: %s", strings.Join(supportedMediaTypes(), ", ")), 0, false)
}

func supportedMediaTypes() []string {
	var out []string
	for _, i := range Codecs.SupportedMediaTypes() {
		out = append(out, i.MediaType)
	}
	return out
}

// requestSerializer returns the serializer for a request body's
// Content-Type, or 415.
func requestSerializer(contentType string) (runtime.SerializerInfo, error) {
	if contentType == "" {
		contentType = mediaJSON
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return runtime.SerializerInfo{}, unsupportedMediaType(contentType)
	}
	info, ok := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mt)
	if !ok {
		return runtime.SerializerInfo{}, unsupportedMediaType(contentType)
	}
	return info, nil
}

// decodeJSONStrict decodes a JSON body into into, a typed object of kind
// gvk, exactly as the strict JSON serializer does, for the common body:
// one that names gvk (or no kind or version at all) and has no unknown or
// duplicate fields. It skips the serializer's first pass over the body,
// which only reads apiVersion and kind. ok is false for any other body,
// and into may then hold part of it: the caller decodes the body again
// with the serializer into a fresh object, which gives such bodies their
// errors and warnings.
func decodeJSONStrict(body []byte, gvk schema.GroupVersionKind, into runtime.Object) (ok bool) {
	if _, unstructured := into.(runtime.Unstructured); unstructured {
		return false
	}
	// The serializer decodes into into only when into is of the kind the
	// body names.
	kinds, _, err := Scheme.ObjectKinds(into)
	if err != nil || !slices.Contains(kinds, gvk) {
		return false
	}
	strictErrs, err := kjson.UnmarshalStrict(body, into)
	if err != nil || len(strictErrs) > 0 {
		return false
	}
	// No unknown fields: the body's apiVersion and kind, if any, are exactly
	// what the serializer's first pass would have read.
	t, isTypeMeta := into.GetObjectKind().(*metav1.TypeMeta)
	if !isTypeMeta {
		return false
	}
	gv, err := schema.ParseGroupVersion(t.APIVersion)
	if err != nil {
		return false
	}
	named := gv.WithKind(t.Kind)
	// The serializer's defaulting of what the body leaves out.
	if named.Kind == "" {
		named.Kind = gvk.Kind
	}
	if named.Version == "" && named.Group == "" {
		named.Group, named.Version = gvk.Group, gvk.Version
	}
	if named.Version == "" && named.Group == gvk.Group {
		named.Version = gvk.Version
	}
	return named == gvk
}

// negotiate is negotiate for this resource: custom resources have no
// protobuf encoding, so for them the next acceptable form wins, and an
// Accept of protobuf alone is 406, as upstream.
func (h *resourceHandler) negotiate(r *http.Request, list bool) (target, error) {
	accept := r.Header.Get("Accept")
	t, err := negotiate(accept, list)
	if err != nil || t.media != mediaProtobuf || t.as != "" || h.s.hasGoType(h.res) {
		return t, err
	}
	var kept []string
	for _, clause := range strings.Split(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(clause)); err == nil && mt != mediaProtobuf {
			kept = append(kept, clause)
		}
	}
	if len(kept) == 0 {
		kept = []string{"application/x-not-acceptable"}
	}
	return negotiate(strings.Join(kept, ","), list)
}
