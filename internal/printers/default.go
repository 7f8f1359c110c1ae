package printers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DefaultPrinter prints any object with object metadata the way upstream's
// default table convertor does: columns Name and Created At, the latter of
// type "date" holding the creation time in RFC 3339 (`kubectl get roles`
// shows "NAME  CREATED AT").
var DefaultPrinter Printer = defaultPrinter{}

type defaultPrinter struct{}

var defaultColumns = []metav1.TableColumnDefinition{
	nameColumn(),
	column("Created At", typeDate, objectMetaDoc["creationTimestamp"]),
}

func (defaultPrinter) Columns() []metav1.TableColumnDefinition { return defaultColumns }

func (defaultPrinter) Row(obj runtime.Object, _ time.Time) (metav1.TableRow, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return metav1.TableRow{}, fmt.Errorf("%w: %T: %v", ErrNotPrintable, obj, err)
	}
	created := m.GetCreationTimestamp().UTC().Format(time.RFC3339)
	return metav1.TableRow{Cells: []any{m.GetName(), created}}, nil
}
