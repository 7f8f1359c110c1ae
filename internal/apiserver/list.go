package apiserver

import (
	"net/http"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
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
	t, err := negotiate(r.Header.Get("Accept"), true)
	if err != nil {
		return err
	}
	opts, err := listOptions(r.URL.Query())
	if err != nil {
		return err
	}
	if h.info.Name != "" {
		opts.FieldSelector = fields.AndSelectors(opts.FieldSelector, fields.OneTermEqualSelector("metadata.name", h.info.Name))
	}
	list, err := h.s.listObjects(r.Context(), h.res, h.store, h.info.Namespace, opts)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, list, t)
}
