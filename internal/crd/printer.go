package crd

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"skiff.dev/skiff/internal/printers"
)

// newPrinter is a version's Table printer from its additionalPrinterColumns
// (validated with the CRD, so they parse); nil on the impossible failure,
// which falls back to the default printer.
func newPrinter(cols []apiextensionsv1.CustomResourceColumnDefinition) printers.Printer {
	specs := make([]printers.ColumnSpec, len(cols))
	for i, c := range cols {
		specs[i] = printers.ColumnSpec{Name: c.Name, Type: c.Type, Format: c.Format, Description: c.Description, Priority: c.Priority, JSONPath: c.JSONPath}
	}
	p, err := printers.CustomResourcePrinter(specs)
	if err != nil {
		return nil
	}
	return p
}
