package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"
)

// ColumnSpec describes a column computed from a JSONPath, like a
// CustomResourceDefinition's additionalPrinterColumns entry.
type ColumnSpec struct {
	// Name is the column's header.
	Name string
	// Type is the OpenAPI type of the cells: "integer", "number", "string",
	// "boolean" or "date". A "date" cell holds an RFC 3339 timestamp and is
	// shown as an age.
	Type string
	// Format is an optional OpenAPI format, e.g. "name".
	Format string
	// Description of the column; empty gives a generic one.
	Description string
	// Priority 0 columns are shown by `kubectl get`, higher ones by -o wide.
	Priority int32
	// JSONPath selects the value within each object, without the braces,
	// e.g. ".spec.replicas".
	JSONPath string
}

// CustomResourcePrinter is the printer of one version of a custom resource,
// given that version's additionalPrinterColumns. Like upstream, a version
// without columns gets a single Age column (type "date", from
// .metadata.creationTimestamp), so `kubectl get` shows "NAME  AGE".
func CustomResourcePrinter(columns []ColumnSpec) (Printer, error) {
	if len(columns) == 0 {
		columns = []ColumnSpec{{
			Name:        "Age",
			Type:        typeDate,
			Description: objectMetaDoc["creationTimestamp"],
			JSONPath:    ".metadata.creationTimestamp",
		}}
	}
	return JSONPathPrinter(columns)
}

// JSONPathPrinter returns a printer with a Name column followed by the given
// columns, each cell the first value its JSONPath selects in the object
// (null when it selects nothing). It fails when a JSONPath does not parse.
func JSONPathPrinter(columns []ColumnSpec) (Printer, error) {
	p := &jsonPathPrinter{
		columns: []metav1.TableColumnDefinition{nameColumn()},
		types:   make([]string, len(columns)),
		paths:   make([]*jsonpath.JSONPath, len(columns)),
	}
	for i, c := range columns {
		path := jsonpath.New(c.Name)
		if err := path.Parse("{" + c.JSONPath + "}"); err != nil {
			return nil, fmt.Errorf("printers: column %q: unrecognized JSONPath %q: %w", c.Name, c.JSONPath, err)
		}
		path.AllowMissingKeys(true)
		desc := c.Description
		if desc == "" {
			desc = "Custom resource definition column (in JSONPath format): " + c.JSONPath
		}
		p.paths[i] = path
		p.types[i] = c.Type
		p.columns = append(p.columns, metav1.TableColumnDefinition{
			Name: c.Name, Type: c.Type, Format: c.Format, Description: desc, Priority: c.Priority,
		})
	}
	return p, nil
}

type jsonPathPrinter struct {
	columns []metav1.TableColumnDefinition
	types   []string // types[i] is the type of the column of paths[i]

	// mu serializes evaluations: a JSONPath keeps state while it runs.
	mu    sync.Mutex
	paths []*jsonpath.JSONPath // guarded by mu
}

func (p *jsonPathPrinter) Columns() []metav1.TableColumnDefinition { return p.columns }

func (p *jsonPathPrinter) Row(obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return metav1.TableRow{}, fmt.Errorf("%w: %T: %v", ErrNotPrintable, obj, err)
	}
	var content map[string]any
	if u, ok := obj.(runtime.Unstructured); ok {
		content = u.UnstructuredContent()
	} else if content, err = runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err != nil {
		return metav1.TableRow{}, fmt.Errorf("printers: %w", err)
	}

	cells := make([]any, 0, len(p.columns))
	cells = append(cells, m.GetName())
	p.mu.Lock()
	defer p.mu.Unlock()
	var buf bytes.Buffer
	for i, path := range p.paths {
		results, err := path.FindResults(content)
		if err != nil || len(results) == 0 || len(results[0]) == 0 {
			cells = append(cells, nil)
			continue
		}
		// Column paths are simple: the first result is the value.
		value := results[0][0].Interface()
		if p.types[i] == typeString {
			buf.Reset()
			if err := path.PrintResults(&buf, []reflect.Value{reflect.ValueOf(value)}); err != nil {
				cells = append(cells, nil)
				continue
			}
			cells = append(cells, buf.String())
			continue
		}
		cells = append(cells, jsonCell(p.types[i], value, now))
	}
	return metav1.TableRow{Cells: cells}, nil
}

// jsonCell converts a JSON value to the cell of a column of type typ, or nil
// when the value does not have that type.
func jsonCell(typ string, value any, now time.Time) any {
	switch typ {
	case typeInteger:
		switch v := value.(type) {
		case int64:
			return v
		case float64:
			return int64(v)
		case json.Number:
			if i, err := v.Int64(); err == nil {
				return i
			}
		}
	case typeNumber:
		switch v := value.(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		case json.Number:
			if f, err := v.Float64(); err == nil {
				return f
			}
		}
	case typeBoolean:
		if b, ok := value.(bool); ok {
			return b
		}
	case typeDate:
		if s, ok := value.(string); ok {
			var t metav1.Time
			if err := t.UnmarshalQueryParameter(s); err != nil {
				return "<invalid>"
			}
			return Age(t, now)
		}
	}
	return nil
}
