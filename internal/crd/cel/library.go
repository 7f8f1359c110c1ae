package cel

import (
	"fmt"
	"math"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// baseEnvOptions is the environment every rule compiles in: CEL's standard
// library plus the extensions kube-apiserver offers CRD rules that we
// provide (see doc.go for the list).
func baseEnvOptions() []cel.EnvOption {
	return []cel.EnvOption{
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(ext.StringsVersion(2)),
		ext.Sets(),
		ext.TwoVarComprehensions(),
		ext.Lists(ext.ListsVersion(3)),
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateRegexLiterals(),
			cel.ValidateHomogeneousAggregateLiterals(),
		),
		// has() is free, as kube-apiserver has kept it since cel-go
		// started charging for it: estimated costs must match theirs, or
		// CRDs kube-apiserver accepts would be rejected here.
		cel.CostEstimatorOptions(checker.PresenceTestHasCost(false)),
		k8sLists(),
		k8sRegex(),
		k8sQuantity(),
		k8sURLs(),
	}
}

// Overload ids of our regex functions, for cost accounting.
const (
	findOverload     = "string_find"
	findAllOverload  = "string_find_all"
	findAllNOverload = "string_find_all_n"
)

// listFunctions are Kubernetes' list functions, costed by list size.
var listFunctions = map[string]bool{
	"isSorted": true, "sum": true, "min": true, "max": true,
	"indexOf": true, "lastIndexOf": true, "includes": true,
}

type namedType struct {
	name string
	t    *cel.Type
}

var (
	summableTypes = []namedType{
		{"int", cel.IntType}, {"uint", cel.UintType}, {"double", cel.DoubleType}, {"duration", cel.DurationType},
	}
	zeroOfSummable = map[string]ref.Val{
		"int": types.IntZero, "uint": types.Uint(0), "double": types.Double(0), "duration": types.Duration{},
	}
	comparableTypes = []namedType{
		{"int", cel.IntType}, {"uint", cel.UintType}, {"double", cel.DoubleType}, {"bool", cel.BoolType},
		{"duration", cel.DurationType}, {"timestamp", cel.TimestampType}, {"string", cel.StringType}, {"bytes", cel.BytesType},
	}
)

// k8sLists is Kubernetes' list library: isSorted, sum, min and max for the
// element types upstream allows (so ['a'].sum() does not compile), and
// indexOf, lastIndexOf and includes for any list. Overload ids are
// upstream's.
func k8sLists() cel.EnvOption {
	var isSortedO, sumO, minO, maxO []cel.FunctionOpt
	for _, c := range comparableTypes {
		l := cel.ListType(c.t)
		isSortedO = append(isSortedO, cel.MemberOverload(fmt.Sprintf("list_%s_is_sorted_bool", c.name), []*cel.Type{l}, cel.BoolType, cel.UnaryBinding(isSorted)))
		maxO = append(maxO, cel.MemberOverload(fmt.Sprintf("list_%s_max_%s", c.name, c.name), []*cel.Type{l}, c.t, cel.UnaryBinding(listMax)))
		minO = append(minO, cel.MemberOverload(fmt.Sprintf("list_%s_min_%s", c.name, c.name), []*cel.Type{l}, c.t, cel.UnaryBinding(listMin)))
	}
	for _, c := range summableTypes {
		zero := zeroOfSummable[c.name]
		sumO = append(sumO, cel.MemberOverload(fmt.Sprintf("list_%s_sum_%s", c.name, c.name), []*cel.Type{cel.ListType(c.t)}, c.t, cel.UnaryBinding(func(v ref.Val) ref.Val { return sum(v, zero) })))
	}
	A := cel.TypeParamType("A")
	return cel.Lib(&libOpts{opts: []cel.EnvOption{
		cel.Function("isSorted", isSortedO...),
		cel.Function("sum", sumO...),
		cel.Function("min", minO...),
		cel.Function("max", maxO...),
		cel.Function("indexOf", cel.MemberOverload("list_a_index_of_int", []*cel.Type{cel.ListType(A), A}, cel.IntType, cel.BinaryBinding(indexOf))),
		cel.Function("lastIndexOf", cel.MemberOverload("list_a_last_index_of_int", []*cel.Type{cel.ListType(A), A}, cel.IntType, cel.BinaryBinding(lastIndexOf))),
		cel.Function("includes", cel.MemberOverload("list_includes_dyn_dyn", []*cel.Type{cel.DynType, cel.DynType}, cel.BoolType, cel.BinaryBinding(includes))),
	}})
}

// k8sRegex is Kubernetes' regex library: find and findAll on strings.
func k8sRegex() cel.EnvOption {
	return cel.Lib(&libOpts{opts: []cel.EnvOption{
		cel.Function("find", cel.MemberOverload(findOverload, []*cel.Type{cel.StringType, cel.StringType}, cel.StringType, cel.BinaryBinding(find))),
		cel.Function("findAll",
			cel.MemberOverload(findAllOverload, []*cel.Type{cel.StringType, cel.StringType}, cel.ListType(cel.StringType), cel.BinaryBinding(findAll)),
			cel.MemberOverload(findAllNOverload, []*cel.Type{cel.StringType, cel.StringType, cel.IntType}, cel.ListType(cel.StringType), cel.FunctionBinding(findAllN))),
	}})
}

type libOpts struct{ opts []cel.EnvOption }

func (l *libOpts) CompileOptions() []cel.EnvOption     { return l.opts }
func (l *libOpts) ProgramOptions() []cel.ProgramOption { return nil }

// programOptions are the options of every rule's program.
func programOptions(perCallLimit uint64, est *costEstimator) []cel.ProgramOption {
	return []cel.ProgramOption{
		cel.EvalOptions(cel.OptOptimize, cel.OptTrackCost),
		cel.CostLimit(perCallLimit),
		cel.CostTracking(est),
		cel.CostTrackerOptions(interpreter.PresenceTestHasCost(false)),
		cel.InterruptCheckFrequency(checkFrequency),
	}
}

func elements(v ref.Val) ([]ref.Val, ref.Val) {
	l, ok := v.(traits.Lister)
	if !ok {
		return nil, types.MaybeNoSuchOverloadErr(v)
	}
	n := l.Size().(types.Int)
	out := make([]ref.Val, 0, n)
	for it := l.Iterator(); it.HasNext() == types.True; {
		out = append(out, it.Next())
	}
	return out, nil
}

func isSorted(v ref.Val) ref.Val {
	elems, err := elements(v)
	if err != nil {
		return err
	}
	for i := 1; i < len(elems); i++ {
		c, ok := elems[i-1].(traits.Comparer)
		if !ok {
			return types.MaybeNoSuchOverloadErr(elems[i-1])
		}
		cmp := c.Compare(elems[i])
		if types.IsError(cmp) {
			return cmp
		}
		if cmp == types.IntOne {
			return types.False
		}
	}
	return types.True
}

func sum(v, zero ref.Val) ref.Val {
	elems, err := elements(v)
	if err != nil {
		return err
	}
	if len(elems) == 0 {
		return zero
	}
	acc := elems[0]
	for _, e := range elems[1:] {
		a, ok := acc.(traits.Adder)
		if !ok {
			return types.MaybeNoSuchOverloadErr(acc)
		}
		acc = a.Add(e)
		if types.IsError(acc) {
			return acc
		}
	}
	return acc
}

func extreme(v ref.Val, want types.Int, name string) ref.Val {
	elems, err := elements(v)
	if err != nil {
		return err
	}
	if len(elems) == 0 {
		return types.NewErr("%s called on empty list", name)
	}
	best := elems[0]
	for _, e := range elems[1:] {
		c, ok := e.(traits.Comparer)
		if !ok {
			return types.MaybeNoSuchOverloadErr(e)
		}
		cmp := c.Compare(best)
		if types.IsError(cmp) {
			return cmp
		}
		if cmp == want {
			best = e
		}
	}
	return best
}

func listMin(v ref.Val) ref.Val { return extreme(v, types.IntNegOne, "min") }
func listMax(v ref.Val) ref.Val { return extreme(v, types.IntOne, "max") }

func indexOf(list, x ref.Val) ref.Val {
	elems, err := elements(list)
	if err != nil {
		return err
	}
	for i, e := range elems {
		if e.Equal(x) == types.True {
			return types.Int(i)
		}
	}
	return types.IntNegOne
}

// includes reports whether a list holds x, or a non-list equals it.
func includes(target, x ref.Val) ref.Val {
	if l, ok := target.(traits.Lister); ok {
		for it := l.Iterator(); it.HasNext() == types.True; {
			if it.Next().Equal(x) == types.True {
				return types.True
			}
		}
		return types.False
	}
	return types.Bool(target.Equal(x) == types.True)
}

func lastIndexOf(list, x ref.Val) ref.Val {
	elems, err := elements(list)
	if err != nil {
		return err
	}
	for i := len(elems) - 1; i >= 0; i-- {
		if elems[i].Equal(x) == types.True {
			return types.Int(i)
		}
	}
	return types.IntNegOne
}

// regexCache keeps compiled patterns: rules use a handful of constant
// patterns, evaluated for every object. Patterns taken from objects could
// be endless, so the cache stops growing at maxCachedRegexes.
var (
	regexCache  sync.Map // string -> *regexp.Regexp
	regexCached atomic.Int64
)

const maxCachedRegexes = 1024

func compileRegex(pattern string) (*regexp.Regexp, ref.Val) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, types.WrapErr(err)
	}
	if regexCached.Add(1) <= maxCachedRegexes {
		regexCache.Store(pattern, re)
	}
	return re, nil
}

func find(str, pattern ref.Val) ref.Val {
	s, ok1 := str.(types.String)
	p, ok2 := pattern.(types.String)
	if !ok1 || !ok2 {
		return types.MaybeNoSuchOverloadErr(str)
	}
	re, err := compileRegex(string(p))
	if err != nil {
		return err
	}
	return types.String(re.FindString(string(s)))
}

func findAll(str, pattern ref.Val) ref.Val {
	return findAllN(str, pattern, types.IntNegOne)
}

func findAllN(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NoSuchOverloadErr()
	}
	s, ok1 := args[0].(types.String)
	p, ok2 := args[1].(types.String)
	n, ok3 := args[2].(types.Int)
	if !ok1 || !ok2 || !ok3 {
		return types.NoSuchOverloadErr()
	}
	re, err := compileRegex(string(p))
	if err != nil {
		return err
	}
	return types.DefaultTypeAdapter.NativeToValue(re.FindAllString(string(s), int(n)))
}

// costEstimator estimates rule costs at compile time: sizes come from the
// schema (maxLength, maxItems, maxProperties, or what fits in a request),
// and our library functions cost what they traverse.
type costEstimator struct {
	root *declType
}

var _ checker.CostEstimator = (*costEstimator)(nil)

func (c *costEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	p := n.Path()
	if len(p) == 0 || c.root == nil {
		return nil
	}
	d := c.root.path(p[1:])
	if d == nil {
		return nil
	}
	return &checker.SizeEstimate{Min: 0, Max: uint64(d.maxElements)}
}

func (c *costEstimator) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	size := func(n *checker.AstNode) checker.SizeEstimate {
		if n == nil {
			return checker.SizeEstimate{Min: 0, Max: math.MaxUint64}
		}
		if s := (*n).ComputedSize(); s != nil {
			return *s
		}
		if s := c.EstimateSize(*n); s != nil {
			return *s
		}
		return checker.SizeEstimate{Min: 0, Max: math.MaxUint64}
	}
	if function == "_==_" && len(args) == 2 && args[0].Type().IsExactType(args[1].Type()) {
		switch {
		case args[0].Type().IsExactType(quantityType):
			// Comparing two quantities is O(1), not a traversal.
			return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: 1}}
		case args[0].Type().IsExactType(urlType):
			// Linear in the URLs, as upstream estimates.
			sz := size(&args[0])
			if sz.Max == math.MaxUint64 {
				sz.Max = 1
			}
			return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: sz.Max/10 + 1}}
		}
	}
	if listFunctions[function] && target != nil {
		sz := size(target)
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: sz.Min, Max: sz.Max}.Add(checker.CostEstimate{Min: 1, Max: 1})}
	}
	switch overloadID {
	case quantityOverload, isQuantityOverload, urlOverload, isURLOverload:
		if len(args) > 0 {
			sz := size(&args[0])
			return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: sz.Max/10 + 1}}
		}
	case findOverload, findAllOverload, findAllNOverload:
		// Compiling and running a regex is linear in the pattern and
		// the string (RE2).
		sz := size(target)
		var pat checker.SizeEstimate
		if len(args) > 0 {
			pat = size(&args[0])
		}
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{
			Min: 1,
			Max: saturatingMul(sz.Max/10+1, pat.Max/10+1),
		}}
	}
	return nil
}

// CallCost is the actual cost of our library functions at run time; nil
// leaves CEL's own functions to CEL's accounting.
func (c *costEstimator) CallCost(function, overloadID string, args []ref.Val, result ref.Val) *uint64 {
	var cost uint64
	if listFunctions[function] {
		cost = 1
		if len(args) > 0 {
			if l, ok := args[0].(traits.Sizer); ok {
				cost += uint64(l.Size().(types.Int))
			}
		}
		return &cost
	}
	switch overloadID {
	case findOverload, findAllOverload, findAllNOverload:
		if len(args) > 1 {
			s, _ := args[0].(types.String)
			p, _ := args[1].(types.String)
			cost = saturatingMul(uint64(len(s))/10+1, uint64(len(p))/10+1)
		}
	case "equals":
		if len(args) != 2 {
			return nil
		}
		switch a := args[0].(type) {
		case quantityVal:
			cost = 1
		case urlVal:
			cost = uint64(len(a.u.String()))/10 + 1
		default:
			return nil
		}
	case quantityOverload, isQuantityOverload, urlOverload, isURLOverload:
		if len(args) > 0 {
			s, _ := args[0].(types.String)
			cost = uint64(len(s))/10 + 1
		}
	default:
		return nil
	}
	return &cost
}

func saturatingMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
