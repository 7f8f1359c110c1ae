package printers

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func configMaps() *corev1.ConfigMapList {
	remaining := int64(7)
	return &corev1.ConfigMapList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "token", RemainingItemCount: &remaining},
		Items: []corev1.ConfigMap{
			{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "default", UID: "uid-a", ResourceVersion: "40", Labels: map[string]string{"x": "y"}, CreationTimestamp: ago(time.Hour)}, Data: map[string]string{"k": "v"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default", UID: "uid-b", ResourceVersion: "41", CreationTimestamp: ago(5 * time.Second)}},
		},
	}
}

func TestTableOfList(t *testing.T) {
	list := configMaps()
	tbl, err := Table(list, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Kind != "Table" || tbl.APIVersion != "meta.k8s.io/v1" {
		t.Errorf("type %s %s", tbl.APIVersion, tbl.Kind)
	}
	if !reflect.DeepEqual(tbl.ColumnDefinitions, configMapPrinter.Columns()) {
		t.Errorf("columns %v", tbl.ColumnDefinitions)
	}
	if tbl.ResourceVersion != "42" || tbl.Continue != "token" || tbl.RemainingItemCount == nil || *tbl.RemainingItemCount != 7 {
		t.Errorf("list meta %+v", tbl.ListMeta)
	}
	if len(tbl.Rows) != 2 {
		t.Fatalf("%d rows", len(tbl.Rows))
	}
	if want := []any{"b", int64(0), "5s"}; !reflect.DeepEqual(tbl.Rows[1].Cells, want) {
		t.Errorf("row 1 cells %#v, want %#v", tbl.Rows[1].Cells, want)
	}
	// The default includeObject is Metadata.
	partial, ok := tbl.Rows[0].Object.Object.(*metav1.PartialObjectMetadata)
	if !ok {
		t.Fatalf("row object %T, want PartialObjectMetadata", tbl.Rows[0].Object.Object)
	}
	if partial.APIVersion != "meta.k8s.io/v1" || partial.Kind != "PartialObjectMetadata" ||
		partial.Name != "a" || partial.Namespace != "default" || partial.UID != "uid-a" || partial.Labels["x"] != "y" {
		t.Errorf("partial %+v", partial)
	}
}

func TestTableOfEmptyTypedList(t *testing.T) {
	tbl, err := Table(&corev1.SecretList{}, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if header(fakeColumns(tbl.ColumnDefinitions), false) != "NAME|TYPE|DATA|AGE" {
		t.Errorf("columns of an empty SecretList: %v", tbl.ColumnDefinitions)
	}
	if tbl.Rows == nil || len(tbl.Rows) != 0 {
		t.Errorf("rows %#v, want empty", tbl.Rows)
	}
}

// fakeColumns is a Printer with the given columns, for header.
type fakeColumns []metav1.TableColumnDefinition

func (f fakeColumns) Columns() []metav1.TableColumnDefinition { return f }
func (f fakeColumns) Row(runtime.Object, time.Time) (metav1.TableRow, error) {
	return metav1.TableRow{}, nil
}

func TestTableOfOneObject(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default", ResourceVersion: "9", CreationTimestamp: ago(time.Minute)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	tbl, err := Table(ns, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.ResourceVersion != "9" || len(tbl.Rows) != 1 || !reflect.DeepEqual(tbl.Rows[0].Cells, []any{"default", "Active", "60s"}) {
		t.Errorf("table %+v", tbl)
	}
}

func TestTableNoHeaders(t *testing.T) {
	tbl, err := Table(configMaps(), now, Options{NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.ColumnDefinitions != nil || len(tbl.Rows) != 2 {
		t.Errorf("columns %v, %d rows", tbl.ColumnDefinitions, len(tbl.Rows))
	}
}

func TestTableIncludeObject(t *testing.T) {
	list := configMaps()
	tbl, err := Table(list, now, Options{IncludeObject: metav1.IncludeNone})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Rows[0].Object.Object != nil {
		t.Errorf("includeObject=None: row object %T", tbl.Rows[0].Object.Object)
	}

	tbl, err = Table(list, now, Options{IncludeObject: metav1.IncludeObject})
	if err != nil {
		t.Fatal(err)
	}
	cm, ok := tbl.Rows[0].Object.Object.(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("includeObject=Object: row object %T", tbl.Rows[0].Object.Object)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "a" || cm.Data["k"] != "v" {
		t.Errorf("row object %+v", cm)
	}
	if list.Items[0].Kind != "" {
		t.Error("Table modified its input")
	}

	if _, err := Table(list, now, Options{IncludeObject: "Everything"}); !errors.Is(err, ErrIncludeObject) {
		t.Errorf("bad includeObject: err %v", err)
	}
}

func TestTableOfUnstructured(t *testing.T) {
	typed, err := Table(configMaps(), now, Options{IncludeObject: metav1.IncludeNone})
	if err != nil {
		t.Fatal(err)
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(configMaps())
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.UnstructuredList{}
	u.SetUnstructuredContent(content)
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMapList")
	tbl, err := Table(u, now, Options{IncludeObject: metav1.IncludeNone})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tbl, typed) {
		t.Errorf("unstructured list\n got %+v\nwant %+v", tbl, typed)
	}
}

func TestTableOfCustomResources(t *testing.T) {
	widget := func(name string, replicas int64) unstructured.Unstructured {
		u := unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": name, "namespace": "default", "creationTimestamp": "2026-03-01T10:00:00Z"},
			"spec":     map[string]any{"replicas": replicas},
		}}
		return u
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "WidgetList", "metadata": map[string]any{"resourceVersion": "5"}},
		Items: []unstructured.Unstructured{widget("w1", 1), widget("w2", 2)}}

	// Without a registered printer: upstream's default convertor.
	tbl, err := Table(list, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if header(fakeColumns(tbl.ColumnDefinitions), false) != "NAME|CREATED AT" || !reflect.DeepEqual(tbl.Rows[0].Cells, []any{"w1", "2026-03-01T10:00:00Z"}) {
		t.Errorf("default table %+v", tbl)
	}
	if tbl.ResourceVersion != "5" {
		t.Errorf("resourceVersion %q", tbl.ResourceVersion)
	}

	// A printer from the CRD's columns, found through a registry.
	var reg Registry
	p, err := CustomResourcePrinter([]ColumnSpec{{Name: "Replicas", Type: "integer", JSONPath: ".spec.replicas"}, {Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp"}})
	if err != nil {
		t.Fatal(err)
	}
	reg.Register(gvk("example.com", "v1", "Widget"), p)
	tbl, err = Table(list, now, Options{Printer: reg.ForKind(gvk("example.com", "v1", "Widget"))})
	if err != nil {
		t.Fatal(err)
	}
	if header(fakeColumns(tbl.ColumnDefinitions), false) != "NAME|REPLICAS|AGE" || !reflect.DeepEqual(tbl.Rows[1].Cells, []any{"w2", int64(2), "120m"}) {
		t.Errorf("custom table %+v", tbl)
	}
}

func TestJSONPathPrinter(t *testing.T) {
	p, err := JSONPathPrinter([]ColumnSpec{
		{Name: "Replicas", Type: "integer", JSONPath: ".spec.replicas"},
		{Name: "Ratio", Type: "number", JSONPath: ".spec.ratio", Priority: 1},
		{Name: "Enabled", Type: "boolean", JSONPath: ".spec.enabled"},
		{Name: "Phase", Type: "string", JSONPath: ".status.phase", Description: "The phase."},
		{Name: "Selector", Type: "string", JSONPath: ".spec.selector"},
		{Name: "Started", Type: "date", JSONPath: ".status.startTime"},
		{Name: "Bad Date", Type: "date", JSONPath: ".status.phase"},
		{Name: "Missing", Type: "string", JSONPath: ".status.nothing"},
		{Name: "Wrong Type", Type: "integer", JSONPath: ".status.phase"},
		{Name: "First Port", Type: "integer", JSONPath: ".spec.ports[0].port"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cols := p.Columns()
	if cols[0].Name != "Name" || cols[0].Format != "name" || cols[2].Priority != 1 || cols[4].Description != "The phase." ||
		cols[1].Description != "Custom resource definition column (in JSONPath format): .spec.replicas" {
		t.Errorf("columns %+v", cols)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"},
		"spec": map[string]any{"replicas": int64(3), "ratio": 0.5, "enabled": true, "selector": map[string]any{"app": "w"},
			"ports": []any{map[string]any{"port": int64(8080)}}},
		"status": map[string]any{"phase": "Ready", "startTime": "2026-03-01T11:59:00Z"},
	}}
	row, err := p.Row(obj, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"w", int64(3), 0.5, true, "Ready", `{"app":"w"}`, "60s", "<invalid>", nil, nil, int64(8080)}
	if !reflect.DeepEqual(row.Cells, want) {
		t.Errorf("cells\n got %#v\nwant %#v", row.Cells, want)
	}

	// Typed objects work too.
	row, err = p.Row(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, now)
	if err != nil || row.Cells[0] != "cm" || row.Cells[1] != nil {
		t.Errorf("typed object: %v %#v", err, row.Cells)
	}

	if _, err := JSONPathPrinter([]ColumnSpec{{Name: "X", Type: "string", JSONPath: ".spec[["}}); err == nil {
		t.Error("bad JSONPath accepted")
	}
}

func TestCustomResourcePrinterDefaultsToAge(t *testing.T) {
	p, err := CustomResourcePrinter(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := header(p, true); got != "NAME|AGE" {
		t.Errorf("header %q", got)
	}
	if p.Columns()[1].Type != "date" {
		t.Errorf("Age column %+v", p.Columns()[1])
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "x", "creationTimestamp": "2026-02-27T12:00:00Z"}}}
	row, err := p.Row(obj, now)
	if err != nil || !reflect.DeepEqual(row.Cells, []any{"x", "2d"}) {
		t.Errorf("row %v %#v", err, row.Cells)
	}
}

func TestPrinterErrors(t *testing.T) {
	if _, err := configMapPrinter.Row(&corev1.Secret{}, now); !errors.Is(err, ErrWrongType) {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := Table(&metav1.Status{}, now, Options{}); !errors.Is(err, ErrNotPrintable) {
		t.Errorf("object without metadata: %v", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"}, "spec": "not an object"}}
	if _, err := Table(u, now, Options{}); err == nil {
		t.Error("malformed unstructured pod printed")
	}
}

func TestRegistry(t *testing.T) {
	var reg Registry
	cm := gvk("", "v1", "ConfigMap")
	if reg.ForKind(cm) != configMapPrinter {
		t.Error("registry does not fall back to built-ins")
	}
	if reg.ForKind(gvk("example.com", "v1", "Widget")) != DefaultPrinter {
		t.Error("registry does not fall back to the default printer")
	}
	p, _ := CustomResourcePrinter(nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				reg.Register(cm, p)
				_ = reg.ForKind(cm)
				reg.Unregister(cm)
			}
		})
	}
	wg.Wait()
	reg.Register(cm, p)
	if reg.ForKind(cm) != p {
		t.Error("registered printer not found")
	}
	reg.Unregister(cm)
	if reg.ForKind(cm) != configMapPrinter {
		t.Error("unregister did not restore the built-in printer")
	}
}

// TestConcurrentTables renders the same kinds from many goroutines; run
// with -race.
func TestConcurrentTables(t *testing.T) {
	p, _ := CustomResourcePrinter([]ColumnSpec{{Name: "Replicas", Type: "integer", JSONPath: ".spec.replicas"}})
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"}, "spec": map[string]any{"replicas": int64(1)}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := Table(configMaps(), now, Options{}); err != nil {
					t.Error(err)
				}
				if _, err := Table(obj, now, Options{Printer: p}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
