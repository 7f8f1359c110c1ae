package cel

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Kubernetes' quantity library: quantity("1.5Gi"), isQuantity(s),
// sign(q) (a global function, as upstream declares it despite documenting
// q.sign()), and on a quantity isGreaterThan(q), isLessThan(q),
// compareTo(q), asApproximateFloat(), asInteger(), isInteger(), add(q|int),
// sub(q|int). The type keeps upstream's name so compile errors read the
// same.

var (
	quantityType      = cel.ObjectType("kubernetes.Quantity")
	quantityTypeValue = types.NewTypeValue("kubernetes.Quantity")
)

// quantityVal is a CEL value holding a resource.Quantity.
type quantityVal struct {
	q *resource.Quantity
}

func (v quantityVal) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(v.q).AssignableTo(t) {
		return v.q, nil
	}
	if reflect.TypeOf("").AssignableTo(t) {
		return v.q.String(), nil
	}
	return nil, fmt.Errorf("type conversion error from 'Quantity' to '%v'", t)
}

func (v quantityVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case quantityTypeValue:
		return v
	case types.TypeType:
		return quantityTypeValue
	}
	return types.NewErr("type conversion error from '%s' to '%s'", quantityTypeValue, t)
}

func (v quantityVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(quantityVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Bool(v.q.Equal(*o.q))
}

func (v quantityVal) Type() ref.Type { return quantityTypeValue }
func (v quantityVal) Value() any     { return v.q }

const (
	quantityOverload   = "string_to_quantity"
	isQuantityOverload = "is_quantity_string"
)

func k8sQuantity() cel.EnvOption {
	q := quantityType
	return cel.Lib(&libOpts{opts: []cel.EnvOption{
		cel.Function("quantity", cel.Overload(quantityOverload, []*cel.Type{cel.StringType}, q, cel.UnaryBinding(stringToQuantity))),
		cel.Function("isQuantity", cel.Overload(isQuantityOverload, []*cel.Type{cel.StringType}, cel.BoolType, cel.UnaryBinding(isQuantity))),
		cel.Function("sign", cel.Overload("quantity_sign", []*cel.Type{q}, cel.IntType, cel.UnaryBinding(quantityUnary(func(x *resource.Quantity) ref.Val { return types.Int(x.Sign()) })))),
		cel.Function("isGreaterThan", cel.MemberOverload("quantity_is_greater_than", []*cel.Type{q, q}, cel.BoolType, cel.BinaryBinding(quantityBinary(func(a, b *resource.Quantity) ref.Val { return types.Bool(a.Cmp(*b) == 1) })))),
		cel.Function("isLessThan", cel.MemberOverload("quantity_is_less_than", []*cel.Type{q, q}, cel.BoolType, cel.BinaryBinding(quantityBinary(func(a, b *resource.Quantity) ref.Val { return types.Bool(a.Cmp(*b) == -1) })))),
		cel.Function("compareTo", cel.MemberOverload("quantity_compare_to", []*cel.Type{q, q}, cel.IntType, cel.BinaryBinding(quantityBinary(func(a, b *resource.Quantity) ref.Val { return types.Int(a.Cmp(*b)) })))),
		cel.Function("asApproximateFloat", cel.MemberOverload("quantity_get_float", []*cel.Type{q}, cel.DoubleType, cel.UnaryBinding(quantityUnary(func(x *resource.Quantity) ref.Val { return types.Double(x.AsApproximateFloat64()) })))),
		cel.Function("asInteger", cel.MemberOverload("quantity_get_int", []*cel.Type{q}, cel.IntType, cel.UnaryBinding(quantityUnary(func(x *resource.Quantity) ref.Val {
			v, ok := x.AsInt64()
			if !ok {
				return types.WrapErr(errors.New("cannot convert value to integer"))
			}
			return types.Int(v)
		})))),
		cel.Function("isInteger", cel.MemberOverload("quantity_is_integer", []*cel.Type{q}, cel.BoolType, cel.UnaryBinding(quantityUnary(func(x *resource.Quantity) ref.Val {
			_, ok := x.AsInt64()
			return types.Bool(ok)
		})))),
		cel.Function("add",
			cel.MemberOverload("quantity_add", []*cel.Type{q, q}, q, cel.BinaryBinding(quantityBinary(func(a, b *resource.Quantity) ref.Val {
				c := a.DeepCopy()
				c.Add(*b)
				return quantityVal{&c}
			}))),
			cel.MemberOverload("quantity_add_int", []*cel.Type{q, cel.IntType}, q, cel.BinaryBinding(quantityInt(func(a *resource.Quantity, n int64) ref.Val {
				c := a.DeepCopy()
				c.Add(*resource.NewQuantity(n, resource.DecimalExponent))
				return quantityVal{&c}
			})))),
		cel.Function("sub",
			cel.MemberOverload("quantity_sub", []*cel.Type{q, q}, q, cel.BinaryBinding(quantityBinary(func(a, b *resource.Quantity) ref.Val {
				c := a.DeepCopy()
				c.Sub(*b)
				return quantityVal{&c}
			}))),
			cel.MemberOverload("quantity_sub_int", []*cel.Type{q, cel.IntType}, q, cel.BinaryBinding(quantityInt(func(a *resource.Quantity, n int64) ref.Val {
				c := a.DeepCopy()
				c.Sub(*resource.NewQuantity(n, resource.DecimalExponent))
				return quantityVal{&c}
			})))),
	}})
}

func stringToQuantity(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return types.WrapErr(err)
	}
	return quantityVal{&q}
}

func isQuantity(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	_, err := resource.ParseQuantity(s)
	return types.Bool(err == nil)
}

func quantityUnary(f func(*resource.Quantity) ref.Val) func(ref.Val) ref.Val {
	return func(arg ref.Val) ref.Val {
		q, ok := arg.Value().(*resource.Quantity)
		if !ok {
			return types.MaybeNoSuchOverloadErr(arg)
		}
		return f(q)
	}
}

func quantityBinary(f func(a, b *resource.Quantity) ref.Val) func(ref.Val, ref.Val) ref.Val {
	return func(x, y ref.Val) ref.Val {
		a, ok1 := x.Value().(*resource.Quantity)
		b, ok2 := y.Value().(*resource.Quantity)
		if !ok1 || !ok2 {
			return types.MaybeNoSuchOverloadErr(x)
		}
		return f(a, b)
	}
}

func quantityInt(f func(a *resource.Quantity, n int64) ref.Val) func(ref.Val, ref.Val) ref.Val {
	return func(x, y ref.Val) ref.Val {
		a, ok1 := x.Value().(*resource.Quantity)
		n, ok2 := y.(types.Int)
		if !ok1 || !ok2 {
			return types.MaybeNoSuchOverloadErr(x)
		}
		return f(a, int64(n))
	}
}
