package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// serveScale answers the scale subresource: an autoscaling/v1 Scale view
// of the object's replica count that GET reads and PUT or PATCH change
// (kubectl scale, HorizontalPodAutoscalers). Changing it is an update of
// the object's spec.replicas, with the object's optimistic concurrency.
func (h *resourceHandler) serveScale(w http.ResponseWriter, r *http.Request) error {
	sc := h.res.Scale
	t, err := negotiate(r.Header.Get("Accept"), false)
	if err != nil {
		return err
	}
	if t.as != "" {
		return apierrors.NewGenericServerResponse(http.StatusNotAcceptable, h.info.Verb, h.res.GVR.GroupResource(), h.info.Name, "the scale subresource is served as a Scale only", 0, false)
	}
	ctx := r.Context()
	var compute func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error)
	switch h.info.Verb {
	case "get":
		obj, err := h.store.Get(ctx, h.info.Namespace, h.info.Name)
		if err != nil {
			return err
		}
		writeObject(w, r, http.StatusOK, toScale(sc, obj), t, autoscalingv1.SchemeGroupVersion)
		return nil
	case "update":
		body, err := readBody(w, r)
		if err != nil {
			return err
		}
		next, err := decodeScale(body, r.Header.Get("Content-Type"))
		if err != nil {
			return err
		}
		compute = func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error) { return next.DeepCopy(), nil }
	case "patch":
		body, err := readBody(w, r)
		if err != nil {
			return err
		}
		if compute, err = scalePatch(r.Header.Get("Content-Type"), body); err != nil {
			return err
		}
	default:
		return apierrors.NewMethodNotSupported(h.res.GVR.GroupResource(), h.info.Verb)
	}

	opts, err := h.writeOptions(r, h.info.Verb)
	if err != nil {
		return err
	}
	out, _, err := h.store.Update(ctx, h.info.Namespace, h.info.Name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		cur := toScale(sc, old)
		next, err := compute(cur)
		if err != nil {
			return nil, err
		}
		if next.Name != "" && next.Name != cur.Name {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", next.Name, cur.Name))
		}
		if next.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(scaleGVK.GroupKind(), cur.Name, field.ErrorList{
				field.Invalid(field.NewPath("spec", "replicas"), next.Spec.Replicas, "must be greater than or equal to 0")})
		}
		m, _ := meta.Accessor(old)
		// A Scale that names a resourceVersion is conditional on it;
		// without one the change is applied to the newest object.
		if next.ResourceVersion != "" && next.ResourceVersion != cur.ResourceVersion {
			return nil, apierrors.NewConflict(h.res.GVR.GroupResource(), cur.Name,
				fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		m.SetResourceVersion(next.ResourceVersion)
		sc.SetReplicas(old, next.Spec.Replicas)
		return old, nil
	}, false, opts)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, toScale(sc, out), t, autoscalingv1.SchemeGroupVersion)
	return nil
}

// toScale is the Scale view of obj.
func toScale(sc *registry.Scale, obj runtime.Object) *autoscalingv1.Scale {
	m, _ := meta.Accessor(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: autoscalingv1.SchemeGroupVersion.String()},
		ObjectMeta: metav1.ObjectMeta{
			Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: sc.Replicas(obj)},
		Status: autoscalingv1.ScaleStatus{Replicas: sc.StatusReplicas(obj), Selector: sc.Selector(obj)},
	}
}

func decodeScale(body []byte, contentType string) (*autoscalingv1.Scale, error) {
	info, err := requestSerializer(contentType)
	if err != nil {
		return nil, err
	}
	out := &autoscalingv1.Scale{}
	gvk := scaleGVK
	obj, got, err := info.Serializer.Decode(body, &gvk, out)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if obj != out || (got != nil && *got != scaleGVK) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body must be a %s", schema.GroupVersionKind(scaleGVK)))
	}
	return out, nil
}

// scalePatch returns how a patch body turns the current Scale into the new
// one. Server-side apply of a Scale is not served.
func scalePatch(contentType string, body []byte) (func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error), error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, unsupportedMediaType(contentType)
	}
	pt := types.PatchType(mt)
	switch pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType:
	default:
		return nil, unsupportedMediaType(mt)
	}
	return func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
		orig, err := json.Marshal(cur)
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
				return nil, apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "patch", schema.GroupResource{}, cur.Name, err.Error(), 0, false)
			}
		case types.MergePatchType:
			if patched, err = jsonpatch.MergePatch(orig, body); err != nil {
				return nil, apierrors.NewBadRequest(err.Error())
			}
		case types.StrategicMergePatchType:
			if patched, err = strategicpatch.StrategicMergePatch(orig, body, &autoscalingv1.Scale{}); err != nil {
				return nil, apierrors.NewBadRequest(err.Error())
			}
		}
		next, err := decodeScale(patched, mediaJSON)
		if err != nil {
			return nil, err
		}
		// A patch that leaves the resourceVersion alone is not conditional.
		if next.ResourceVersion == cur.ResourceVersion {
			next.ResourceVersion = ""
		}
		return next, nil
	}, nil
}
