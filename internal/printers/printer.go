package printers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Printer renders objects of one kind as table rows.
type Printer interface {
	// Columns returns the column definitions, default columns with Priority
	// 0 and -o wide columns with Priority 1, in cell order. The caller must
	// not modify the returned slice.
	Columns() []metav1.TableColumnDefinition
	// Row returns the row of one object (never a list): one cell per column
	// and, for some kinds, row conditions. Durations are measured up to now.
	// Row leaves Object empty; Table fills it.
	Row(obj runtime.Object, now time.Time) (metav1.TableRow, error)
}

// Options control how Table builds a table.
type Options struct {
	// NoHeaders omits columnDefinitions, like the noHeaders table option.
	// kube-apiserver sets it on every watch event after the first.
	NoHeaders bool
	// IncludeObject says what rows[].object holds: metav1.IncludeMetadata
	// (also when empty) a PartialObjectMetadata, metav1.IncludeObject the
	// object, metav1.IncludeNone nothing.
	IncludeObject metav1.IncludeObjectPolicy
	// Printer overrides the printer; when nil Table uses ForKind of the
	// object's kind.
	Printer Printer
}

// Errors returned by this package.
var (
	// ErrNotPrintable means the object has no object metadata, so it cannot
	// be a table row (the API server answers 406 Not Acceptable).
	ErrNotPrintable = errors.New("printers: object cannot be printed as a table")
	// ErrWrongType means a printer was handed an object of another kind.
	ErrWrongType = errors.New("printers: printer does not handle this type")
	// ErrIncludeObject means Options.IncludeObject is not a known policy
	// (the API server answers 400 Bad Request).
	ErrIncludeObject = errors.New("printers: unrecognized includeObject value")
)

// TableGroupVersion is the group and version of the Tables this package
// builds, and of the PartialObjectMetadata in their rows.
var TableGroupVersion = metav1.SchemeGroupVersion

// Table builds the Table for obj, one object or a list of objects of one kind,
// at time now.
func Table(obj runtime.Object, now time.Time, opts Options) (*metav1.Table, error) {
	include := opts.IncludeObject
	switch include {
	case "":
		include = metav1.IncludeMetadata
	case metav1.IncludeMetadata, metav1.IncludeObject, metav1.IncludeNone:
	default:
		return nil, fmt.Errorf("%w: %q", ErrIncludeObject, include)
	}

	gvk, _ := itemKind(obj)
	p := opts.Printer
	if p == nil {
		p = ForKind(gvk)
	}

	var items []runtime.Object
	if meta.IsListType(obj) {
		var err error
		if items, err = meta.ExtractList(obj); err != nil {
			return nil, fmt.Errorf("printers: %w", err)
		}
	} else {
		items = []runtime.Object{obj}
	}

	t := &metav1.Table{
		TypeMeta: metav1.TypeMeta{APIVersion: TableGroupVersion.String(), Kind: "Table"},
		Rows:     make([]metav1.TableRow, 0, len(items)),
	}
	if !opts.NoHeaders {
		t.ColumnDefinitions = p.Columns()
	}
	for _, item := range items {
		row, err := p.Row(item, now)
		if err != nil {
			return nil, err
		}
		if row.Object.Object, err = rowObject(item, include, gvk); err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
	}

	if l, err := meta.ListAccessor(obj); err == nil {
		t.ResourceVersion = l.GetResourceVersion()
		t.Continue = l.GetContinue()
		t.RemainingItemCount = l.GetRemainingItemCount()
	} else if c, err := meta.CommonAccessor(obj); err == nil {
		t.ResourceVersion = c.GetResourceVersion()
	}
	return t, nil
}

// rowObject returns what rows[].object holds for item under policy include;
// gvk is the kind of item when item itself does not carry it.
func rowObject(item runtime.Object, include metav1.IncludeObjectPolicy, gvk schema.GroupVersionKind) (runtime.Object, error) {
	switch include {
	case metav1.IncludeNone:
		return nil, nil
	case metav1.IncludeObject:
		if item.GetObjectKind().GroupVersionKind().Empty() && !gvk.Empty() {
			item = item.DeepCopyObject()
			item.GetObjectKind().SetGroupVersionKind(gvk)
		}
		return item, nil
	default:
		m, err := meta.Accessor(item)
		if err != nil {
			return nil, fmt.Errorf("%w: %T: %v", ErrNotPrintable, item, err)
		}
		partial := meta.AsPartialObjectMetadata(m)
		partial.SetGroupVersionKind(TableGroupVersion.WithKind("PartialObjectMetadata"))
		return partial, nil
	}
}

// itemKind returns the kind of the objects obj holds: its own kind, or for a
// list the kind of its items. Typed objects need not carry apiVersion and
// kind; their Go type tells.
func itemKind(obj runtime.Object) (schema.GroupVersionKind, bool) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		kinds, _, err := scheme.ObjectKinds(obj)
		if err != nil || len(kinds) == 0 {
			return schema.GroupVersionKind{}, false
		}
		gvk = kinds[0]
	}
	if meta.IsListType(obj) {
		if kind, ok := strings.CutSuffix(gvk.Kind, "List"); ok && kind != "" {
			gvk.Kind = kind
			return gvk, true
		}
		// A list without a usable kind of its own: ask its first item.
		items, err := meta.ExtractList(obj)
		if err != nil || len(items) == 0 {
			return schema.GroupVersionKind{}, false
		}
		return itemKind(items[0])
	}
	return gvk, true
}
