package apiserver

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// writeObject encodes obj as the client asked and writes it with code.
func writeObject(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, t target, gv schema.GroupVersion) {
	enc := t.info.Serializer
	if t.pretty && t.info.PrettySerializer != nil {
		enc = t.info.PrettySerializer
	}
	buf := getBuffer()
	defer putBuffer(buf)
	var encoder runtime.Encoder = enc
	if _, ok := obj.(*unstructured.UnstructuredList); !ok {
		// The versioning codec sends unstructured lists through the
		// scheme's conversion, which knows no custom resource kinds; their
		// items are already in the version asked for.
		encoder = Codecs.EncoderForVersion(enc, gv)
	}
	if err := encoder.Encode(obj, buf); err != nil {
		writeError(w, r, apierrors.NewInternalError(err))
		return
	}
	contentType := t.info.MediaType
	if t.as != "" {
		contentType += ";as=" + t.as + ";g=meta.k8s.io;v=v1"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// responseBuffers hold encoded responses until they are written: a
// response is copied out by ResponseWriter.Write, so its buffer serves the
// next one.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps the buffers of large responses (lists) out of the
// pool: they would pin their memory.
const maxPooledBuffer = 64 << 10

func getBuffer() *bytes.Buffer { return responseBuffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		b.Reset()
		responseBuffers.Put(b)
	}
}

// writeError writes err as a metav1.Status in JSON (clients read Status
// bodies in JSON whatever they asked for).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := errorStatus(err)
	if status.Code >= 500 {
		slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", status.Code, "err", err)
	}
	var buf bytes.Buffer
	info, _ := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mediaJSON)
	if err := Codecs.EncoderForVersion(info.Serializer, metav1.SchemeGroupVersion).Encode(status, &buf); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if status.Code == http.StatusTooManyRequests || status.Code == http.StatusGatewayTimeout {
		if status.Details != nil && status.Details.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(status.Details.RetryAfterSeconds)))
		}
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(status.Code))
	w.Write(buf.Bytes())
}

// errorStatus turns any error into the Status the client sees.
func errorStatus(err error) *metav1.Status {
	var api apierrors.APIStatus
	if errors.As(err, &api) {
		s := api.Status()
		s.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
		if s.Status == "" {
			s.Status = metav1.StatusFailure
		}
		return &s
	}
	s := apierrors.NewInternalError(err).Status()
	s.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	return &s
}

// successStatus is what a delete that removed the object returns.
func successStatus(gr schema.GroupResource, kind string, obj runtime.Object) *metav1.Status {
	s := &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Group: gr.Group, Kind: gr.Resource},
	}
	if m, err := meta.Accessor(obj); err == nil {
		s.Details.Name = m.GetName()
		s.Details.UID = m.GetUID()
	}
	return s
}

// unsupportedMediaType is the 415 for a body in a form the server cannot
// read.
func unsupportedMediaType(contentType string) error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "",
		"the body of the request was in an unknown format - accepted media types include: "+supportedMediaTypesString()+" (got "+contentType+")", 0, false)
}
