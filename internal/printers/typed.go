package printers

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// typed is the Printer of a built-in kind whose Go type is T. It also prints
// the unstructured form of the kind, converted to T first.
type typed[T any, PT interface {
	*T
	runtime.Object
}] struct {
	columns []metav1.TableColumnDefinition
	cells   func(obj PT, now time.Time) []any
	// conditions, when set, computes the row's conditions.
	conditions func(obj PT) []metav1.TableRowCondition
}

func newTyped[T any, PT interface {
	*T
	runtime.Object
}](columns []metav1.TableColumnDefinition, cells func(obj PT, now time.Time) []any) *typed[T, PT] {
	return &typed[T, PT]{columns: columns, cells: cells}
}

func (p *typed[T, PT]) Columns() []metav1.TableColumnDefinition { return p.columns }

func (p *typed[T, PT]) Row(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	var o PT
	switch v := obj.(type) {
	case PT:
		o = v
	case *unstructured.Unstructured:
		o = new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(v.Object, o); err != nil {
			return metav1.TableRow{}, fmt.Errorf("printers: converting %s %q: %w", v.GetKind(), v.GetName(), err)
		}
	default:
		return metav1.TableRow{}, fmt.Errorf("%w: %T is not %T", ErrWrongType, obj, o)
	}
	row := metav1.TableRow{Cells: p.cells(o, now)}
	if p.conditions != nil {
		row.Conditions = p.conditions(o)
	}
	return row, nil
}
