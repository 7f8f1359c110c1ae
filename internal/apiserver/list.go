package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"skiff.dev/skiff/internal/registry"
)

// listOptions parses and checks a list or watch request's query.
func listOptions(q url.Values) (*metainternalversion.ListOptions, error) {
	opts := &metainternalversion.ListOptions{}
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(q, metav1.SchemeGroupVersion, opts); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if opts.LabelSelector == nil {
		opts.LabelSelector = labels.Everything()
	}
	if opts.FieldSelector == nil {
		opts.FieldSelector = fields.Everything()
	}
	if errs := validateListOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewBadRequest(errs[0])
	}
	return opts, nil
}

func validateListOptions(o *metainternalversion.ListOptions) []string {
	var errs []string
	// A watch-list (sendInitialEvents) may leave resourceVersion unset: it
	// then starts from a consistent read.
	watchList := o.Watch && o.SendInitialEvents != nil
	if o.ResourceVersionMatch != "" {
		if o.ResourceVersion == "" && !watchList {
			errs = append(errs, "resourceVersionMatch is forbidden unless resourceVersion is provided")
		}
		if o.Continue != "" {
			errs = append(errs, "resourceVersionMatch is forbidden when continue is provided")
		}
		switch o.ResourceVersionMatch {
		case metav1.ResourceVersionMatchExact:
			if o.ResourceVersion == "0" {
				errs = append(errs, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")
			}
		case metav1.ResourceVersionMatchNotOlderThan:
		default:
			errs = append(errs, "resourceVersionMatch: unsupported value "+string(o.ResourceVersionMatch))
		}
	}
	if o.Continue != "" && o.ResourceVersion != "" && o.ResourceVersion != "0" {
		errs = append(errs, "specifying resource version is not allowed when using continue")
	}
	if o.Limit < 0 {
		errs = append(errs, "limit must be non-negative")
	}
	if o.SendInitialEvents != nil {
		if !o.Watch {
			errs = append(errs, "sendInitialEvents is forbidden for list")
		} else {
			if o.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan {
				errs = append(errs, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
			}
			if !o.AllowWatchBookmarks {
				errs = append(errs, "sendInitialEvents requires setting allowWatchBookmarks to true")
			}
		}
	}
	return errs
}

func (h *resourceHandler) list(w http.ResponseWriter, r *http.Request) error {
	t, err := h.negotiate(r, true)
	if err != nil {
		return err
	}
	opts, err := listOptions(h.info.Query)
	if err != nil {
		return err
	}
	if h.info.Name != "" {
		opts.FieldSelector = fields.AndSelectors(opts.FieldSelector, fields.OneTermEqualSelector("metadata.name", h.info.Name))
	}
	l, err := h.s.listCached(r.Context(), h.res, h.store, h.info.Namespace, opts)
	if err != nil {
		return err
	}
	if t.as == "" && t.media == mediaJSON && h.info.Query.Get("pretty") != "true" && len(l.Items) > 0 {
		return h.writeJSONList(w, r, l, t)
	}
	list, err := l.List()
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, list, t)
}

// writeJSONList writes a list as JSON from its items' shared encodings, so
// a repeated LIST costs a copy of each object's bytes rather than an
// encoding: an object version's encoding is shared by lists and watches
// alike once it has been asked for twice (watchcache.CachedObject).
func (h *resourceHandler) writeJSONList(w http.ResponseWriter, r *http.Request, l *registry.CachedList, t target) error {
	metaJSON, err := json.Marshal(metav1.ListMeta{
		ResourceVersion:    l.ResourceVersion,
		Continue:           l.Continue,
		RemainingItemCount: l.RemainingItemCount,
	})
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	enc := Codecs.EncoderForVersion(t.info.Serializer, h.gv())
	buf := bytes.NewBuffer(make([]byte, 0, 64*1024))
	fmt.Fprintf(buf, `{"kind":%q,"apiVersion":%q,"metadata":%s,"items":[`, h.res.ListKind, h.gv().String(), metaJSON)
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	for i, item := range l.Items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(item, buf); err != nil {
			return nil // headers are out; the client sees a truncated body
		}
		if buf.Len() >= 64*1024 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return nil
			}
			buf.Reset()
		}
	}
	buf.WriteString("]}\n")
	w.Write(buf.Bytes())
	return nil
}
