package schema

import (
	"sort"
	"strconv"
)

// Prune removes from obj, in place, every field s does not specify and
// returns the paths it removed ("spec.foo", "spec.ports[2].name"), sorted,
// in the form upstream's `unknown field "..."` warnings use. obj is
// the whole resource: its apiVersion, kind and metadata are never pruned.
func Prune(obj map[string]any, s *Structural) []string {
	var p pruner
	p.object(obj, s, "", true)
	sort.Strings(p.pruned)
	return p.pruned
}

type pruner struct {
	pruned []string
}

// value prunes x against s; s == nil means nothing below x is known.
func (p *pruner) value(x any, s *Structural, path string) {
	switch x := x.(type) {
	case map[string]any:
		p.object(x, s, path, false)
	case []any:
		var items *Structural
		if s != nil {
			items = s.Items
		}
		for i, v := range x {
			p.value(v, items, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

func (p *pruner) object(x map[string]any, s *Structural, path string, root bool) {
	if s != nil && s.XPreserveUnknownFields {
		p.preserved(x, s, path)
		return
	}
	resource := root || (s != nil && s.XEmbeddedResource)
	for k, v := range x {
		if resource && isTypeMetaOrMetadata(k) {
			if k == "metadata" {
				p.metadata(v, joinPath(path, k))
			}
			continue
		}
		child := joinPath(path, k)
		if s != nil {
			if prop, ok := s.Properties[k]; ok {
				p.value(v, prop, child)
				continue
			}
			if s.AdditionalProperties != nil {
				p.value(v, s.AdditionalProperties, child)
				continue
			}
		}
		p.pruned = append(p.pruned, child)
		delete(x, k)
	}
}

// preserved keeps x's unknown fields but still prunes below the fields s
// specifies, as upstream does for x-kubernetes-preserve-unknown-fields.
func (p *pruner) preserved(x map[string]any, s *Structural, path string) {
	resource := s.XEmbeddedResource
	for k, v := range x {
		if resource && isTypeMetaOrMetadata(k) {
			if k == "metadata" {
				p.metadata(v, joinPath(path, k))
			}
			continue
		}
		child := joinPath(path, k)
		if prop, ok := s.Properties[k]; ok {
			p.value(v, prop, child)
		} else if s.AdditionalProperties != nil {
			p.value(v, s.AdditionalProperties, child)
		}
	}
}

// metadata drops the fields of a resource's metadata that ObjectMeta does
// not have, as upstream's metadata coercion (a round trip through
// ObjectMeta) does.
func (p *pruner) metadata(v any, path string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k := range m {
		if !objectMetaFields[k] {
			p.pruned = append(p.pruned, joinPath(path, k))
			delete(m, k)
		}
	}
}

// objectMetaFields are metav1.ObjectMeta's JSON field names.
var objectMetaFields = map[string]bool{
	"name": true, "generateName": true, "namespace": true, "selfLink": true, "uid": true,
	"resourceVersion": true, "generation": true, "creationTimestamp": true, "deletionTimestamp": true,
	"deletionGracePeriodSeconds": true, "labels": true, "annotations": true, "ownerReferences": true,
	"finalizers": true, "managedFields": true,
}

func isTypeMetaOrMetadata(k string) bool {
	return k == "apiVersion" || k == "kind" || k == "metadata"
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
