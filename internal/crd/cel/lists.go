package cel

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// setList is an x-kubernetes-list-type: set list: == ignores order and +
// is a union, as upstream's rules see such lists.
type setList struct {
	traits.Lister
}

func (l setList) Equal(other ref.Val) ref.Val {
	o, ok := other.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	if l.Size() != o.Size() {
		return types.False
	}
	for it := o.Iterator(); it.HasNext() == types.True; {
		if c := l.Contains(it.Next()); c != types.True {
			return c
		}
	}
	for it := l.Iterator(); it.HasNext() == types.True; {
		if c := o.Contains(it.Next()); c != types.True {
			return c
		}
	}
	return types.True
}

func (l setList) Add(other ref.Val) ref.Val {
	o, ok := other.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	elems := listElems(l)
	for it := o.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		if !containsVal(elems, e) {
			elems = append(elems, e)
		}
	}
	return setList{types.NewRefValList(types.DefaultTypeAdapter, elems)}
}

// mapList is an x-kubernetes-list-type: map list: == matches items by
// their keys regardless of order, and + replaces items with the same keys
// and appends the others.
type mapList struct {
	traits.Lister
	keys []string // escaped names of x-kubernetes-list-map-keys
}

func (l mapList) key(v ref.Val) string {
	m, ok := v.(traits.Mapper)
	if !ok {
		return fmt.Sprintf("%#v", v.Value())
	}
	var b strings.Builder
	for _, k := range l.keys {
		if kv, found := m.Find(types.String(k)); found {
			fmt.Fprintf(&b, "%T:%#v\x00", kv, kv.Value())
		} else {
			b.WriteString("-\x00")
		}
	}
	return b.String()
}

func (l mapList) Equal(other ref.Val) ref.Val {
	o, ok := other.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	if l.Size() != o.Size() {
		return types.False
	}
	mine := make(map[string]ref.Val)
	for it := l.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		mine[l.key(e)] = e
	}
	seen := make(map[string]bool, len(mine))
	for it := o.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		k := l.key(e)
		m, ok := mine[k]
		if !ok {
			return types.False
		}
		if eq := m.Equal(e); eq != types.True {
			return eq
		}
		seen[k] = true
	}
	return types.Bool(len(seen) == len(mine))
}

func (l mapList) Add(other ref.Val) ref.Val {
	o, ok := other.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	elems := listElems(l)
	at := make(map[string]int, len(elems))
	for i, e := range elems {
		at[l.key(e)] = i
	}
	for it := o.Iterator(); it.HasNext() == types.True; {
		e := it.Next()
		k := l.key(e)
		if i, ok := at[k]; ok {
			elems[i] = e
			continue
		}
		at[k] = len(elems)
		elems = append(elems, e)
	}
	return mapList{Lister: types.NewRefValList(types.DefaultTypeAdapter, elems), keys: l.keys}
}

func listElems(l traits.Lister) []ref.Val {
	var out []ref.Val
	for it := l.Iterator(); it.HasNext() == types.True; {
		out = append(out, it.Next())
	}
	return out
}

func containsVal(elems []ref.Val, v ref.Val) bool {
	for _, e := range elems {
		if e.Equal(v) == types.True {
			return true
		}
	}
	return false
}
