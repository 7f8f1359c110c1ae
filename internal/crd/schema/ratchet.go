package schema

import (
	"fmt"
	"reflect"
	"strings"
)

// correlated pairs a value of an update with the value it replaces, where
// one can be found: the same property or map key, or the list-map item
// with the same keys. Items of other lists have no counterpart. This is
// upstream's CorrelatedObject, which both validation ratcheting and CEL
// transition rules rest on.
type correlated struct {
	new, old any
	s        *Structural
	equal    *bool
	children map[any]*correlated
	oldItems map[string]any // list-map items of old by key, built on demand
}

func newCorrelated(new, old any, s *Structural) *correlated {
	return &correlated{new: new, old: old, s: s}
}

func (c *correlated) child(k any, new, old any, s *Structural) *correlated {
	if c.children == nil {
		c.children = map[any]*correlated{}
	}
	ch := &correlated{new: new, old: old, s: s}
	c.children[k] = ch
	return ch
}

// key is the pair for a property or map key, nil when either side lacks
// it or the schema does not know it.
func (c *correlated) key(field string) *correlated {
	if c == nil || c.s == nil {
		return nil
	}
	if ch, ok := c.children[field]; ok {
		return ch
	}
	nm, ok1 := c.new.(map[string]any)
	om, ok2 := c.old.(map[string]any)
	if !ok1 || !ok2 {
		return nil
	}
	nv, ok1 := nm[field]
	ov, ok2 := om[field]
	if !ok1 || !ok2 {
		return nil
	}
	var s *Structural
	if p, ok := c.s.Properties[field]; ok {
		s = p
	} else if ap := c.s.AdditionalProperties; ap != nil && ap.Props != nil {
		s = ap
	} else {
		return nil
	}
	return c.child(field, nv, ov, s)
}

// index is the pair for item i of a list-map list, nil for other lists.
func (c *correlated) index(i int) *correlated {
	if c == nil || c.s == nil || c.s.Items == nil {
		return nil
	}
	if ch, ok := c.children[i]; ok {
		return ch
	}
	nl, ok := c.new.([]any)
	if !ok || i >= len(nl) {
		return nil
	}
	if _, ok := c.old.([]any); !ok {
		return nil
	}
	keys := listMapKeys(c.s)
	if keys == nil {
		return nil
	}
	if c.oldItems == nil {
		c.oldItems = map[string]any{}
		for _, o := range c.old.([]any) {
			if m, ok := o.(map[string]any); ok {
				c.oldItems[listMapKey(m, keys)] = o
			}
		}
	}
	m, ok := nl[i].(map[string]any)
	if !ok {
		return nil
	}
	ov, ok := c.oldItems[listMapKey(m, keys)]
	if !ok {
		return nil
	}
	return c.child(i, nl[i], ov, c.s.Items)
}

func listMapKeys(s *Structural) []string {
	if s.Props == nil || s.Props.XListType == nil || *s.Props.XListType != "map" || len(s.Props.XListMapKeys) == 0 {
		return nil
	}
	return s.Props.XListMapKeys
}

func listMapKey(m map[string]any, keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		// %#v keeps "1" and 1 apart; an absent key is <nil>.
		fmt.Fprintf(&b, "%#v\x00", m[k])
	}
	return b.String()
}

// deepEqual reports whether the value is unchanged, comparing through
// correlated children as upstream does (so a reordered list-map is
// unchanged, an object with fields the schema does not know is not).
func (c *correlated) deepEqual() (res bool) {
	if c == nil {
		return false
	}
	if c.equal != nil {
		return *c.equal
	}
	defer func() { c.equal = &res }()
	if c.new == nil || c.old == nil {
		return c.new == nil && c.old == nil
	}
	ol, oldIsList := c.old.([]any)
	nl, newIsList := c.new.([]any)
	om, oldIsMap := c.old.(map[string]any)
	nm, newIsMap := c.new.(map[string]any)
	if oldIsList != newIsList || oldIsMap != newIsMap {
		return false
	}
	switch {
	case oldIsList:
		if len(ol) != len(nl) {
			return false
		}
		for i := range nl {
			ch := c.index(i)
			if ch == nil {
				if listMapKeys(c.s) == nil {
					return reflect.DeepEqual(ol, nl)
				}
				return false
			}
			if !ch.deepEqual() {
				return false
			}
		}
		return true
	case oldIsMap:
		if len(om) != len(nm) {
			return false
		}
		for k := range nm {
			ch := c.key(k)
			if ch == nil || !ch.deepEqual() {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(c.old, c.new)
}
