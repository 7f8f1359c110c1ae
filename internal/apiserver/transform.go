package apiserver

import (
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/registry"
)

// TableConvertor renders objects (single or lists) of a resource as a
// server-side Table, without rows[].object: the server fills that in.
type TableConvertor func(res *registry.Resource, obj runtime.Object, now time.Time) (*metav1.Table, error)

// transform turns obj into the form the client negotiated and returns it
// with the group-version to encode it in.
func (s *Server) transform(r *http.Request, res *registry.Resource, obj runtime.Object, t target) (runtime.Object, schema.GroupVersion, error) {
	switch t.as {
	case "":
		return obj, res.GVR.GroupVersion(), nil
	case "PartialObjectMetadata":
		return partialObjectMetadata(obj), metav1.SchemeGroupVersion, nil
	case "PartialObjectMetadataList":
		list, err := partialObjectMetadataList(obj)
		return list, metav1.SchemeGroupVersion, err
	case "Table":
		table, err := s.table(r, res, obj)
		return table, metav1.SchemeGroupVersion, err
	}
	return nil, schema.GroupVersion{}, apierrors.NewBadRequest("unsupported output form " + t.as)
}

func (s *Server) table(r *http.Request, res *registry.Resource, obj runtime.Object) (*metav1.Table, error) {
	include := metav1.IncludeMetadata
	switch v := r.URL.Query().Get("includeObject"); v {
	case "":
	case string(metav1.IncludeNone), string(metav1.IncludeMetadata), string(metav1.IncludeObject):
		include = metav1.IncludeObjectPolicy(v)
	default:
		return nil, apierrors.NewBadRequest("includeObject must be one of None, Metadata or Object")
	}
	convert := s.tables
	if convert == nil {
		convert = defaultTable
	}
	table, err := convert(res, obj, time.Now())
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	items := []runtime.Object{obj}
	if meta.IsListType(obj) {
		if items, err = meta.ExtractList(obj); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		if lm, err := meta.ListAccessor(obj); err == nil {
			table.ResourceVersion = lm.GetResourceVersion()
			table.Continue = lm.GetContinue()
			table.RemainingItemCount = lm.GetRemainingItemCount()
		}
	} else if m, err := meta.Accessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	for i := range table.Rows {
		if i >= len(items) {
			break
		}
		switch include {
		case metav1.IncludeMetadata:
			table.Rows[i].Object = runtime.RawExtension{Object: partialObjectMetadata(items[i])}
		case metav1.IncludeObject:
			table.Rows[i].Object = runtime.RawExtension{Object: items[i]}
		}
	}
	table.TypeMeta = metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}
	return table, nil
}

// defaultTable is the Table of a kind without its own printer: name and
// creation time, as upstream's default convertor.
func defaultTable(_ *registry.Resource, obj runtime.Object, _ time.Time) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
		{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	}}
	items := []runtime.Object{obj}
	if meta.IsListType(obj) {
		var err error
		if items, err = meta.ExtractList(obj); err != nil {
			return nil, err
		}
	}
	for _, item := range items {
		m, err := meta.Accessor(item)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{m.GetName(), m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)}})
	}
	return t, nil
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
