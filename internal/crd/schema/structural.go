package schema

import (
	"errors"
	"fmt"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ErrNotStructural is wrapped by New's error when the schema breaks a
// structural rule; errors.As to *NotStructuralError gives the field errors.
var ErrNotStructural = errors.New("schema: not a structural schema")

// NotStructuralError lists why a schema is not structural.
type NotStructuralError struct {
	Errs field.ErrorList
}

func (e *NotStructuralError) Error() string {
	return fmt.Sprintf("%v: %v", ErrNotStructural, e.Errs.ToAggregate())
}

func (e *NotStructuralError) Unwrap() error { return ErrNotStructural }

// Structural is the part of a schema that fixes the shape of an object:
// what pruning and defaulting need. Value validations (enum, pattern,
// allOf, ...) stay in Props.
type Structural struct {
	Type     string
	Nullable bool
	// Default is the decoded default, or nil when none is set. Never hand
	// it out without deepCopyJSON.
	Default any

	Properties map[string]*Structural
	// AdditionalProperties is the schema of map values; nil means unknown
	// keys are pruned. additionalProperties: true becomes a schema that
	// preserves everything.
	AdditionalProperties *Structural
	Items                *Structural

	XPreserveUnknownFields bool
	XEmbeddedResource      bool
	XIntOrString           bool

	// Props is the schema this node was built from, read-only.
	Props *apiextensionsv1.JSONSchemaProps

	// keywords is Props compiled for value validation, built on first use
	// by Validate. A Structural must therefore not be copied.
	keywordsOnce sync.Once
	keywords     *keywords
}

// New checks props (Check with path openAPIV3Schema) and builds its
// Structural.
func New(props *apiextensionsv1.JSONSchemaProps) (*Structural, error) {
	if props == nil {
		return nil, fmt.Errorf("%w: no schema", ErrNotStructural)
	}
	if errs := Check(props, field.NewPath("openAPIV3Schema")); len(errs) > 0 {
		return nil, &NotStructuralError{Errs: errs}
	}
	return build(props, field.NewPath("openAPIV3Schema"))
}

func build(p *apiextensionsv1.JSONSchemaProps, path *field.Path) (*Structural, error) {
	s := &Structural{
		Type:     p.Type,
		Nullable: p.Nullable,
		Props:    p,
	}
	if p.XPreserveUnknownFields != nil {
		s.XPreserveUnknownFields = *p.XPreserveUnknownFields
	}
	s.XEmbeddedResource = p.XEmbeddedResource
	s.XIntOrString = p.XIntOrString
	if p.Default != nil && len(p.Default.Raw) > 0 {
		var v any
		if err := utiljson.Unmarshal(p.Default.Raw, &v); err != nil {
			return nil, fmt.Errorf("schema: %s: invalid default: %w", path.Child("default"), err)
		}
		s.Default = v
	}
	if len(p.Properties) > 0 {
		s.Properties = make(map[string]*Structural, len(p.Properties))
		for k := range p.Properties {
			prop := p.Properties[k]
			c, err := build(&prop, path.Child("properties").Key(k))
			if err != nil {
				return nil, err
			}
			s.Properties[k] = c
		}
	}
	if ap := p.AdditionalProperties; ap != nil {
		switch {
		case ap.Schema != nil:
			c, err := build(ap.Schema, path.Child("additionalProperties"))
			if err != nil {
				return nil, err
			}
			s.AdditionalProperties = c
		case ap.Allows:
			s.AdditionalProperties = &Structural{XPreserveUnknownFields: true}
		}
	}
	if p.Items != nil && p.Items.Schema != nil {
		c, err := build(p.Items.Schema, path.Child("items"))
		if err != nil {
			return nil, err
		}
		s.Items = c
	}
	return s, nil
}
