package apiserver

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/registry"
)

// MinWatchTimeout is the shortest a watch without timeoutSeconds lasts;
// each lasts a random time between it and twice it, so reconnects of many
// clients spread out.
var MinWatchTimeout = 30 * time.Minute

func (h *resourceHandler) watch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t, err := h.negotiate(r, false)
	if err != nil {
		return err
	}
	if t.as == "PartialObjectMetadata" || t.as == "PartialObjectMetadataList" {
		// Metadata-only watches send PartialObjectMetadata objects.
		t.as = "PartialObjectMetadata"
	}
	opts, err := listOptions(h.info.Query)
	if err != nil {
		return err
	}
	if h.info.Name != "" {
		opts.FieldSelector = fields.AndSelectors(opts.FieldSelector, fields.OneTermEqualSelector("metadata.name", h.info.Name))
	}
	if err := checkFieldSelector(h.res, opts.FieldSelector); err != nil {
		return err
	}
	timeout := time.Duration(float64(MinWatchTimeout) * (1 + rand.Float64()))
	if opts.TimeoutSeconds != nil {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	wi, err := h.store.Watch(ctx, h.info.Namespace, registry.WatchOptions{
		ListOptions: registry.ListOptions{
			Labels:          opts.LabelSelector,
			Fields:          opts.FieldSelector,
			ResourceVersion: opts.ResourceVersion,
		},
		AllowBookmarks:    opts.AllowWatchBookmarks,
		SendInitialEvents: opts.SendInitialEvents,
	})
	if err != nil {
		return err
	}
	defer wi.Stop()

	stream := t.info.StreamSerializer
	if stream == nil {
		return apierrors.NewBadRequest("no streaming support for " + t.info.MediaType)
	}
	embedded := Codecs.EncoderForVersion(t.info.Serializer, h.gv())
	outer := Codecs.EncoderForVersion(stream.Serializer, h.gv())
	if !h.s.hasGoType(h.res) {
		// WatchEvent is registered with every built-in group-version but
		// not with custom ones; it has no TypeMeta, so the version it is
		// encoded for does not show on the wire.
		outer = Codecs.EncoderForVersion(stream.Serializer, metav1.SchemeGroupVersion)
	}
	contentType := t.info.MediaType
	if t.media == mediaProtobuf {
		contentType = mediaProtobuf + ";stream=watch"
	}
	if t.as != "" {
		contentType += ";as=" + t.as + ";g=meta.k8s.io;v=v1"
		embedded = Codecs.EncoderForVersion(t.info.Serializer, metav1.SchemeGroupVersion)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	fw := stream.Framer.NewFrameWriter(w)
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var objBuf, evBuf bytes.Buffer
	firstTable := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.s.shutdown:
			return nil
		case <-timer.C:
			return nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return nil
			}
			obj := ev.Object
			if ev.Type == watch.Bookmark && t.as != "" {
				// A bookmark carries only a resourceVersion (and the
				// initial-events-end annotation); in the negotiated form
				// it is metadata of that, as upstream sends it.
				if co, ok := obj.(runtime.CacheableObject); ok {
					obj = co.GetObject()
				}
				obj = bookmarkForm(obj, t)
			} else if ev.Type != watch.Error && ev.Type != watch.Bookmark && t.as != "" {
				if co, ok := obj.(runtime.CacheableObject); ok {
					obj = co.GetObject()
				}
				obj, err = h.watchForm(r, obj, t, &firstTable)
				if err != nil {
					obj = errorStatus(err)
				}
			}
			objBuf.Reset()
			enc := embedded
			if ev.Type == watch.Error {
				enc = Codecs.EncoderForVersion(t.info.Serializer, metav1.SchemeGroupVersion)
			}
			if err := enc.Encode(obj, &objBuf); err != nil {
				return nil // the stream is broken; the client re-watches
			}
			evBuf.Reset()
			if err := outer.Encode(&metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: objBuf.Bytes()}}, &evBuf); err != nil {
				return nil
			}
			if _, err := fw.Write(evBuf.Bytes()); err != nil {
				return nil
			}
			if len(wi.ResultChan()) == 0 && flusher != nil {
				flusher.Flush()
			}
		}
	}
}

// watchForm renders a watch event's object as a Table (headers only on the
// first) or PartialObjectMetadata.
func (h *resourceHandler) watchForm(r *http.Request, obj runtime.Object, t target, first *bool) (runtime.Object, error) {
	if t.as == "PartialObjectMetadata" {
		return partialObjectMetadata(obj), nil
	}
	table, err := h.s.table(h.info.Query, h.res, obj, !*first)
	*first = false
	return table, err
}

// bookmarkForm is a bookmark event's object as a PartialObjectMetadata or
// an empty Table with the bookmark's resourceVersion.
func bookmarkForm(obj runtime.Object, t target) runtime.Object {
	pom := partialObjectMetadata(obj)
	if t.as == "PartialObjectMetadata" {
		return pom
	}
	return &metav1.Table{
		TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"},
		ListMeta: metav1.ListMeta{ResourceVersion: pom.ResourceVersion},
	}
}
