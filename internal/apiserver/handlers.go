package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	corev1 "k8s.io/api/core/v1"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// MaxRequestBodyBytes caps request bodies, as kube-apiserver does (3 MiB).
const MaxRequestBodyBytes = 3 * 1024 * 1024

// resourceHandler serves one request for one resource.
type resourceHandler struct {
	s     *Server
	res   *registry.Resource
	store *registry.Store
	info  RequestInfo
}

func (h *resourceHandler) gv() schema.GroupVersion { return h.res.GVR.GroupVersion() }

func (h *resourceHandler) serve(w http.ResponseWriter, r *http.Request) {
	info := h.info
	if h.res.Warning != "" {
		addWarning(w, h.res.Warning)
	}
	if info.Subresource != "" && !h.res.HasSubresource(info.Subresource) {
		writeError(w, r, apierrors.NewNotFound(h.res.GVR.GroupResource(), info.Name))
		return
	}
	if h.res.Namespaced && info.Namespace == "" && info.Name != "" {
		writeError(w, r, apierrors.NewNotFound(h.res.GVR.GroupResource(), info.Name))
		return
	}
	if !h.res.Namespaced && info.Namespace != "" {
		writeError(w, r, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, info.Namespace))
		return
	}
	if info.Subresource == "binding" && h.res.GVR == corev1.SchemeGroupVersion.WithResource("pods") {
		if err := h.serveBinding(w, r); err != nil {
			writeError(w, r, err)
		}
		return
	}
	if info.Subresource == "scale" && h.res.Scale != nil {
		if err := h.serveScale(w, r); err != nil {
			writeError(w, r, err)
		}
		return
	}
	var err error
	switch info.Verb {
	case "get":
		err = h.get(w, r)
	case "list":
		err = h.list(w, r)
	case "watch":
		err = h.watch(w, r)
	case "create":
		err = h.create(w, r)
	case "update":
		err = h.update(w, r)
	case "patch":
		err = h.patch(w, r)
	case "delete":
		err = h.delete(w, r)
	case "deletecollection":
		err = h.deleteCollection(w, r)
	default:
		err = apierrors.NewMethodNotSupported(h.res.GVR.GroupResource(), info.Verb)
	}
	if err != nil {
		writeError(w, r, err)
	}
}

func (h *resourceHandler) get(w http.ResponseWriter, r *http.Request) error {
	t, err := h.negotiate(r, false)
	if err != nil {
		return err
	}
	obj, err := h.store.Get(r.Context(), h.info.Namespace, h.info.Name)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, obj, t)
}

// respond writes obj in the negotiated form (the object itself, a Table or
// PartialObjectMetadata).
func (h *resourceHandler) respond(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, t target) error {
	t.pretty = h.info.Query.Get("pretty") == "true"
	out, gv, err := h.s.transform(h.info.Query, h.res, obj, t)
	if err != nil {
		return err
	}
	writeObject(w, r, code, out, t, gv)
	return nil
}

func (h *resourceHandler) create(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := h.info.Query
	t, err := h.negotiate(r, false)
	if err != nil {
		return err
	}
	opts, err := h.writeOptions(r, "create")
	if err != nil {
		return err
	}
	obj, err := h.decodeBody(w, r, q)
	if err != nil {
		return err
	}
	if h.res.Namespaced {
		if m, err := meta.Accessor(obj); err == nil && m.GetNamespace() != "" && m.GetNamespace() != h.info.Namespace {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		if err := h.s.admitNamespace(ctx, h.info.Namespace); err != nil {
			return err
		}
	}
	out, err := h.store.Create(ctx, h.info.Namespace, obj, opts)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusCreated, out, t)
}

func (h *resourceHandler) update(w http.ResponseWriter, r *http.Request) error {
	q := h.info.Query
	t, err := h.negotiate(r, false)
	if err != nil {
		return err
	}
	opts, err := h.writeOptions(r, "update")
	if err != nil {
		return err
	}
	obj, err := h.decodeBody(w, r, q)
	if err != nil {
		return err
	}
	if cu, ok := h.res.Strategy.(registry.ConditionalUpdateStrategy); ok && cu.RequiresResourceVersion() {
		if m, err := meta.Accessor(obj); err == nil && m.GetResourceVersion() == "" {
			// Upstream names the resource, not the kind, in this one.
			gk := schema.GroupKind{Group: h.res.GVR.Group, Kind: h.res.GVR.Resource}
			return apierrors.NewInvalid(gk, h.info.Name, field.ErrorList{
				field.Invalid(field.NewPath("metadata", "resourceVersion"), uint64(0), "must be specified for an update"),
			})
		}
	}
	return h.updateAndRespond(w, r, t, func(context.Context, runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}, false, opts)
}

// updateAndRespond runs an update (PUT or PATCH) and answers 200 with the
// result, or 201 when the update created the object.
func (h *resourceHandler) updateAndRespond(w http.ResponseWriter, r *http.Request, t target, update registry.UpdateFunc, createIfMissing bool, opts registry.WriteOptions) error {
	out, created, err := h.store.Update(r.Context(), h.info.Namespace, h.info.Name, update, createIfMissing, opts)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return h.respond(w, r, code, out, t)
}

func (h *resourceHandler) delete(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t, err := h.negotiate(r, false)
	if err != nil {
		return err
	}
	opts, err := h.deleteOptions(r)
	if err != nil {
		return err
	}
	wopts := registry.WriteOptions{DryRun: isDryRun(opts.DryRun)}
	if err := h.s.admitDelete(ctx, h.res, h.info.Namespace, h.info.Name); err != nil {
		return err
	}
	obj, gone, err := h.store.Delete(ctx, h.info.Namespace, h.info.Name, opts, wopts)
	if err != nil {
		return err
	}
	if gone && !h.s.returnsDeletedObject(h.res) {
		writeObject(w, r, http.StatusOK, successStatus(h.res.GVR.GroupResource(), h.res.Kind, obj), t, metav1.SchemeGroupVersion)
		return nil
	}
	return h.respond(w, r, http.StatusOK, obj, t)
}

func (h *resourceHandler) deleteCollection(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t, err := h.negotiate(r, true)
	if err != nil {
		return err
	}
	opts, err := h.deleteOptions(r)
	if err != nil {
		return err
	}
	lopts, err := listOptions(h.info.Query)
	if err != nil {
		return err
	}
	list, err := h.s.listObjects(ctx, h.res, h.store, h.info.Namespace, lopts)
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	wopts := registry.WriteOptions{DryRun: isDryRun(opts.DryRun)}
	var deleted []runtime.Object
	for _, item := range items {
		m, _ := meta.Accessor(item)
		obj, _, err := h.store.Delete(ctx, m.GetNamespace(), m.GetName(), opts, wopts)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, obj)
	}
	out := h.res.Strategy.NewList()
	if err := meta.SetList(out, deleted); err != nil {
		return apierrors.NewInternalError(err)
	}
	return h.respond(w, r, http.StatusOK, out, t)
}

// writeOptions reads the query parameters every write takes, and sets up
// managed-fields tracking and admission.
func (h *resourceHandler) writeOptions(r *http.Request, verb string) (registry.WriteOptions, error) {
	return h.writeOptionsWith(r, verb, nil)
}

// writeOptionsWith is writeOptions with track, when not nil, in place of
// the managed-fields tracking of an update (server-side apply brings its
// own).
func (h *resourceHandler) writeOptionsWith(r *http.Request, verb string, track func(ctx context.Context, obj, old runtime.Object) error) (registry.WriteOptions, error) {
	q := h.info.Query
	opts := registry.WriteOptions{Subresource: h.info.Subresource}
	switch dr := q["dryRun"]; {
	case len(dr) == 0:
	case isDryRun(dr):
		opts.DryRun = true
	default:
		return opts, apierrors.NewBadRequest(fmt.Sprintf("Invalid dry run value: %q; only All is supported", dr))
	}
	switch fv := q.Get("fieldValidation"); fv {
	case "", "Ignore", "Warn", "Strict":
	default:
		return opts, apierrors.NewBadRequest(fmt.Sprintf("fieldValidation must be one of Ignore, Warn or Strict, not %q", fv))
	}
	mgr, err := fieldManagerName(r, q, verb)
	if err != nil {
		return opts, err
	}
	opts.Mutate = track
	if track == nil {
		opts.Mutate = h.s.managedFieldsMutator(h.res, mgr, verb, h.info.Subresource)
	}
	return h.s.admit(h.res, h.info.Namespace, opts), nil
}

func isDryRun(v []string) bool { return len(v) == 1 && v[0] == metav1.DryRunAll }

// decodeBody reads and decodes a create or update body into the
// resource's kind, applying fieldValidation to unknown and duplicate fields.
//
// The body is read into a pooled buffer, reused once decoded: the JSON,
// YAML and protobuf decoders copy what an object keeps (strings, []byte
// fields, RawExtension and JSON raw values), and decode's errors and
// warnings are strings too, so nothing refers to the buffer afterwards.
func (h *resourceHandler) decodeBody(w http.ResponseWriter, r *http.Request, q url.Values) (runtime.Object, error) {
	buf := bodyBuffers.Get().(*[]byte)
	defer putBodyBuffer(buf)
	body, err := readBodyInto(w, r, (*buf)[:0])
	*buf = body
	if err != nil {
		return nil, err
	}
	return h.s.decode(w, body, r.Header.Get("Content-Type"), q.Get("fieldValidation"), h.res)
}

// bodyBuffers hold the request bodies decodeBody reads.
var bodyBuffers = sync.Pool{New: func() any { return new([]byte) }}

func putBodyBuffer(buf *[]byte) {
	if cap(*buf) <= maxPooledBuffer {
		bodyBuffers.Put(buf)
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyInto(w, r, nil)
}

// readBodyInto reads the body into buf (from buf[len(buf)]), growing it
// when it is too small.
func readBodyInto(w http.ResponseWriter, r *http.Request, buf []byte) ([]byte, error) {
	body, err := readAllSized(http.MaxBytesReader(w, r.Body, MaxRequestBodyBytes), r.ContentLength, buf)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", MaxRequestBodyBytes))
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return body, nil
}

// readAllSized is io.ReadAll appending to buf, with buf sized up front
// from the request's Content-Length (when it is known and within the
// limit), so a body is read into one allocation, or none when buf is large
// enough, rather than a series of growing ones.
func readAllSized(r io.Reader, contentLength int64, buf []byte) ([]byte, error) {
	if contentLength <= 0 || contentLength > MaxRequestBodyBytes {
		rest, err := io.ReadAll(r)
		if len(buf) == 0 {
			return rest, err
		}
		return append(buf, rest...), err
	}
	// One byte more than announced lets the read see EOF without growing.
	if need := len(buf) + int(contentLength) + 1; cap(buf) < need {
		buf = append(make([]byte, 0, need), buf...)
	}
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			// Longer than announced: let ReadAll carry on from here.
			rest, err := io.ReadAll(r)
			return append(buf, rest...), err
		}
	}
}

// decode turns a body into an object of res's kind. The kind in the body
// must be res's kind; fieldValidation decides what unknown or duplicate
// fields do: Strict fails with 400, Warn adds a Warning header, Ignore (and
// an unset value, for non-kubectl clients) drops them.
func (s *Server) decode(w http.ResponseWriter, body []byte, contentType, fieldValidation string, res *registry.Resource) (runtime.Object, error) {
	info, err := requestSerializer(contentType)
	if err != nil {
		return nil, err
	}
	// Unset means Warn, as upstream.
	dec := info.Serializer
	if info.StrictSerializer != nil && fieldValidation != "Ignore" {
		dec = info.StrictSerializer
	}
	gvk := res.GVK()
	into := res.Strategy.New()
	if info.MediaType == mediaJSON && dec == info.StrictSerializer {
		if decodeJSONStrict(body, gvk, into) {
			return into, nil
		}
		into = res.Strategy.New()
	}
	obj, got, err := dec.Decode(body, &gvk, into)
	if err != nil && runtime.IsStrictDecodingError(err) && obj != nil {
		if fieldValidation == "Strict" {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		for _, msg := range strictErrors(err) {
			addWarning(w, msg)
		}
		err = nil
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s: %v", supportedMediaTypesString(), err))
	}
	if got != nil && (got.Kind != gvk.Kind || got.GroupVersion() != gvk.GroupVersion()) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", got.GroupVersion(), gvk.GroupVersion()))
	}
	if obj != into {
		// The body named another kind that the scheme knows.
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", got.Kind, gvk.Kind))
	}
	if rep, ok := res.Strategy.(registry.UnknownFieldsReporter); ok {
		// Kinds without a Go type learn of unknown fields from their
		// schema, not the decoder; the message is the decoder's.
		pruned := rep.PruneUnknownFields(obj)
		if fieldValidation == "Ignore" {
			pruned = nil
		}
		var msgs []string
		for _, p := range pruned {
			msgs = append(msgs, fmt.Sprintf("unknown field %q", p))
		}
		if len(msgs) > 0 && fieldValidation == "Strict" {
			return nil, apierrors.NewBadRequest("strict decoding error: " + strings.Join(msgs, ", "))
		}
		for _, m := range msgs {
			addWarning(w, m)
		}
	}
	return obj, nil
}

func strictErrors(err error) []string {
	var sde interface{ Errors() []error }
	if errors.As(err, &sde) {
		var out []string
		for _, e := range sde.Errors() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

func addWarning(w http.ResponseWriter, msg string) {
	w.Header().Add("Warning", `299 - `+strconv.Quote(msg))
}

func supportedMediaTypesString() string {
	out := ""
	for i, m := range supportedMediaTypes() {
		if i > 0 {
			out += ", "
		}
		out += m
	}
	return out
}

// deleteOptions reads DeleteOptions from the body (if any) and the query.
func (h *resourceHandler) deleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBodyBytes))
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if len(body) > 0 {
		info, err := requestSerializer(r.Header.Get("Content-Type"))
		if err != nil {
			return nil, err
		}
		gvk := metav1.SchemeGroupVersion.WithKind("DeleteOptions")
		if _, _, err := info.Serializer.Decode(body, &gvk, opts); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
	}
	if err := ParameterCodec.DecodeParameters(h.info.Query, metav1.SchemeGroupVersion, opts); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if len(opts.DryRun) > 0 && !isDryRun(opts.DryRun) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("Invalid dry run value: %q", opts.DryRun))
	}
	if opts.PropagationPolicy != nil {
		switch *opts.PropagationPolicy {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy: Unsupported value: %q: supported values: \"Background\", \"Foreground\", \"Orphan\"", *opts.PropagationPolicy))
		}
	}
	return opts, nil
}
