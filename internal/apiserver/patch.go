package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"skiff.dev/skiff/internal/registry"
)

const applyPatchType = types.PatchType("application/apply-patch+yaml")

func (h *resourceHandler) patch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := h.info.Query
	t, err := h.negotiate(r, false)
	if err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return unsupportedMediaType(r.Header.Get("Content-Type"))
	}
	pt := types.PatchType(mt)
	switch pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, applyPatchType:
	default:
		return unsupportedMediaType(mt)
	}
	if pt == types.StrategicMergePatchType && !h.s.hasGoType(h.res) {
		return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", h.res.GVR.GroupResource(), h.info.Name,
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s", types.JSONPatchType, types.MergePatchType, applyPatchType), 0, false)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	verb := "patch"
	if pt == applyPatchType {
		verb = "apply"
	}
	fieldValidation := q.Get("fieldValidation")
	var applied *unstructured.Unstructured
	var track func(ctx context.Context, obj, old runtime.Object) error
	if pt == applyPatchType {
		if applied, err = h.applyConfiguration(body); err != nil {
			return err
		}
		force := q.Get("force") == "true"
		mgr, err := fieldManagerName(r, q, verb)
		if err != nil {
			return err
		}
		track = h.s.applyMutator(h.res, applied, mgr, force, h.info.Subresource)
	}
	opts, err := h.writeOptionsWith(r, verb, track)
	if err != nil {
		return err
	}
	if h.res.Namespaced && pt == applyPatchType {
		if err := h.s.admitNamespace(ctx, h.info.Namespace); err != nil {
			return err
		}
	}

	update := func(ctx context.Context, old runtime.Object) (runtime.Object, error) {
		if pt == applyPatchType {
			return h.applyBase(old)
		}
		if old == nil {
			return nil, apierrors.NewNotFound(h.res.GVR.GroupResource(), h.info.Name)
		}
		orig, err := json.Marshal(old)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		var patched []byte
		switch pt {
		case types.JSONPatchType:
			p, err := jsonpatch.DecodePatch(body)
			if err != nil {
				return nil, apierrors.NewBadRequest(err.Error())
			}
			if patched, err = p.Apply(orig); err != nil {
				return nil, apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "patch", h.res.GVR.GroupResource(), h.info.Name, err.Error(), 0, false)
			}
		case types.MergePatchType:
			if patched, err = jsonpatch.MergePatch(orig, body); err != nil {
				return nil, apierrors.NewBadRequest(err.Error())
			}
		case types.StrategicMergePatchType:
			if patched, err = strategicpatch.StrategicMergePatch(orig, body, h.res.Strategy.New()); err != nil {
				return nil, apierrors.NewBadRequest(err.Error())
			}
		}
		obj, err := h.s.decode(w, patched, mediaJSON, fieldValidation, h.res)
		if err != nil {
			return nil, err
		}
		// A patch that does not set a resourceVersion is not conditional:
		// on a conflict it is applied again to the newer object.
		om, _ := meta.Accessor(old)
		nm, _ := meta.Accessor(obj)
		if nm.GetResourceVersion() == om.GetResourceVersion() {
			nm.SetResourceVersion("")
		}
		return obj, nil
	}
	return h.updateAndRespond(w, r, t, update, pt == applyPatchType && h.info.Subresource == "", opts)
}

// applyConfiguration parses a server-side apply body (YAML or JSON) and
// checks it names this object.
func (h *resourceHandler) applyConfiguration(body []byte) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(body, &u.Object); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	if u.Object == nil {
		return nil, apierrors.NewBadRequest("the apply body is empty")
	}
	gvk := h.res.GVK()
	if u.GetAPIVersion() != gvk.GroupVersion().String() || u.GetKind() != gvk.Kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the apply body must be apiVersion %s, kind %s; got apiVersion %q, kind %q", gvk.GroupVersion(), gvk.Kind, u.GetAPIVersion(), u.GetKind()))
	}
	if u.GetName() != "" && u.GetName() != h.info.Name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", u.GetName(), h.info.Name))
	}
	if len(u.GetManagedFields()) > 0 {
		return nil, apierrors.NewBadRequest("metadata.managedFields must be nil")
	}
	return u, nil
}

// applyBase is the object an apply starts from: the live object, or a new
// one with the URL's name when there is none. The apply itself happens in
// the mutator, after the store's bookkeeping.
func (h *resourceHandler) applyBase(old runtime.Object) (runtime.Object, error) {
	if old != nil {
		m, _ := meta.Accessor(old)
		m.SetResourceVersion("")
		return old, nil
	}
	obj := h.res.Strategy.New()
	obj.GetObjectKind().SetGroupVersionKind(h.res.GVK())
	m, _ := meta.Accessor(obj)
	m.SetName(h.info.Name)
	m.SetNamespace(h.info.Namespace)
	return obj, nil
}

// hasGoType reports whether the resource's objects are typed Go structs
// (built-in kinds), which strategic merge patch needs.
func (s *Server) hasGoType(res *registry.Resource) bool {
	_, unstructured := res.Strategy.New().(runtime.Unstructured)
	return !unstructured
}

// fieldManagerName is the request's fieldManager, or for non-apply writes
// the client's user agent up to the first '/', as upstream derives it.
func fieldManagerName(r *http.Request, q url.Values, verb string) (string, error) {
	mgr := q.Get("fieldManager")
	if mgr == "" {
		if verb == "apply" {
			return "", apierrors.NewBadRequest("PATCH requests with apply content type must specify the fieldManager parameter")
		}
		mgr = r.UserAgent()
		if i := strings.Index(mgr, "/"); i >= 0 {
			mgr = mgr[:i]
		}
		if len(mgr) > 128 {
			mgr = mgr[:128]
		}
		return mgr, nil
	}
	if len(mgr) > 128 {
		return "", apierrors.NewBadRequest(fmt.Sprintf("fieldManager: Too long: may not be more than 128 bytes"))
	}
	for _, c := range mgr {
		if !unicode.IsPrint(c) {
			return "", apierrors.NewBadRequest("fieldManager: Invalid value: must only contain printable characters")
		}
	}
	return mgr, nil
}
