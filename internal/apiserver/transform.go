package apiserver

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/printers"
	"skiff.dev/skiff/internal/registry"
)

// transform turns obj into the form the client negotiated and returns it
// with the group-version to encode it in.
func (s *Server) transform(q url.Values, res *registry.Resource, obj runtime.Object, t target) (runtime.Object, schema.GroupVersion, error) {
	switch t.as {
	case "":
		return obj, res.GVR.GroupVersion(), nil
	case "PartialObjectMetadata":
		return partialObjectMetadata(obj), metav1.SchemeGroupVersion, nil
	case "PartialObjectMetadataList":
		list, err := partialObjectMetadataList(obj)
		return list, metav1.SchemeGroupVersion, err
	case "Table":
		table, err := s.table(q, res, obj, false)
		return table, metav1.SchemeGroupVersion, err
	}
	return nil, schema.GroupVersion{}, apierrors.NewBadRequest("unsupported output form " + t.as)
}

// table renders obj (an object or a list) as the Table kubectl prints, with
// rows[].object as includeObject asks. noHeaders drops the column
// definitions, as on every watch event after the first.
func (s *Server) table(q url.Values, res *registry.Resource, obj runtime.Object, noHeaders bool) (*metav1.Table, error) {
	table, err := printers.Table(obj, time.Now(), printers.Options{
		NoHeaders:     noHeaders,
		IncludeObject: metav1.IncludeObjectPolicy(q.Get("includeObject")),
		Printer:       res.Printer,
	})
	switch {
	case errors.Is(err, printers.ErrIncludeObject):
		return nil, apierrors.NewBadRequest(err.Error())
	case errors.Is(err, printers.ErrNotPrintable):
		return nil, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "get", res.GVR.GroupResource(), "", err.Error(), 0, false)
	case err != nil:
		return nil, apierrors.NewInternalError(err)
	}
	return table, nil
}

func partialObjectMetadata(obj runtime.Object) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"},
		ObjectMeta: objectMeta(obj),
	}
}

func partialObjectMetadataList(obj runtime.Object) (*metav1.PartialObjectMetadataList, error) {
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"}}
	if lm, err := meta.ListAccessor(obj); err == nil {
		out.ResourceVersion = lm.GetResourceVersion()
		out.Continue = lm.GetContinue()
		out.RemainingItemCount = lm.GetRemainingItemCount()
	}
	for _, item := range items {
		out.Items = append(out.Items, *partialObjectMetadata(item))
	}
	return out, nil
}

// objectMeta copies an object's metadata.
func objectMeta(obj runtime.Object) metav1.ObjectMeta {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if om, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			return *om.DeepCopy()
		}
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return metav1.ObjectMeta{}
	}
	return metav1.ObjectMeta{
		Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(),
		UID: m.GetUID(), ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(),
		CreationTimestamp: m.GetCreationTimestamp(), DeletionTimestamp: m.GetDeletionTimestamp(),
		DeletionGracePeriodSeconds: m.GetDeletionGracePeriodSeconds(), Labels: m.GetLabels(),
		Annotations: m.GetAnnotations(), OwnerReferences: m.GetOwnerReferences(),
		Finalizers: m.GetFinalizers(), ManagedFields: m.GetManagedFields(),
	}
}
