package cel

import (
	"fmt"
	"math"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
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
		k8sNetwork(),
		k8sFormat(),
	}
}

// Overload ids of our regex functions, for cost accounting.
const (
	findOverload     = "string_find"
	findAllOverload  = "string_find_all"
	findAllNOverload = "string_find_all_n"
)

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

// costEstimator estimates rule costs at compile time and measures them at
// run time. Sizes come from the schema (maxLength, maxItems,
// maxProperties, or what fits in a request); the Kubernetes library
// functions cost what upstream charges for them, since estimated costs
// decide which CRDs are accepted.
type costEstimator struct {
	root *declType
}

var _ checker.CostEstimator = (*costEstimator)(nil)

const (
	maxFormatSize               = 64
	stringTraversalCostFactor   = 0.1
	regexStringLengthCostFactor = 0.25
)

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

func (c *costEstimator) sizeEstimate(n checker.AstNode) checker.SizeEstimate {
	if s := n.ComputedSize(); s != nil {
		return *s
	}
	if s := c.EstimateSize(n); s != nil {
		return *s
	}
	return checker.SizeEstimate{Min: 0, Max: math.MaxUint64}
}

// itemsNode stands for a list's items, so that their size (maxLength) can
// be looked up by path.
type itemsNode struct {
	path []string
	t    *types.Type
}

func (i *itemsNode) Path() []string                      { return i.path }
func (i *itemsNode) Type() *types.Type                   { return i.t }
func (i *itemsNode) Expr() ast.Expr                      { return nil }
func (i *itemsNode) ComputedSize() *checker.SizeEstimate { return nil }

func (c *costEstimator) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	one := checker.CostEstimate{Min: 1, Max: 1}
	traverse := func(n checker.AstNode, factor float64) *checker.CallEstimate {
		return &checker.CallEstimate{CostEstimate: c.sizeEstimate(n).MultiplyByCostFactor(factor)}
	}
	switch function {
	case "isSorted", "sum", "max", "min", "indexOf", "lastIndexOf", "includes":
		if target == nil {
			return nil
		}
		// One per element, plus traversing string or bytes elements.
		elCost := one
		if params := (*target).Type().Parameters(); len(params) > 0 {
			var path []string
			if p := (*target).Path(); p != nil {
				path = append(append(path, p...), "@items")
			}
			el := &itemsNode{path: path, t: params[0]}
			if k := params[0].Kind(); k == types.StringKind || k == types.BytesKind {
				elCost = elCost.Add(c.sizeEstimate(el).MultiplyByCostFactor(stringTraversalCostFactor))
			}
			return &checker.CallEstimate{CostEstimate: c.sizeEstimate(*target).MultiplyByCost(elCost)}
		}
		if function == "includes" {
			return &checker.CallEstimate{CostEstimate: c.sizeEstimate(*target).MultiplyByCost(elCost)}
		}
		return traverse(*target, stringTraversalCostFactor)
	case "lowerAscii", "upperAscii", "substring", "trim":
		if target != nil {
			sz := c.sizeEstimate(*target)
			return &checker.CallEstimate{CostEstimate: sz.MultiplyByCostFactor(stringTraversalCostFactor), ResultSize: &sz}
		}
	case "replace":
		if target != nil && len(args) >= 2 {
			return c.replaceEstimate(*target, args[0], args[1])
		}
	case "split":
		if target != nil {
			sz := c.sizeEstimate(*target)
			// At worst ("" as separator) every character is an item.
			most := sz.Max
			if len(args) > 1 {
				if v := args[1].Expr().AsLiteral(); v != nil {
					if i, ok := v.Value().(int64); ok {
						most = uint64(i)
					}
				}
			}
			return &checker.CallEstimate{CostEstimate: sz.MultiplyByCostFactor(2 * stringTraversalCostFactor), ResultSize: &checker.SizeEstimate{Min: 0, Max: most}}
		}
	case "join":
		if target != nil {
			var sz checker.SizeEstimate
			listSize := c.sizeEstimate(*target)
			if params := (*target).Type().Parameters(); len(params) > 0 {
				var path []string
				if p := (*target).Path(); p != nil {
					path = append(append(path, p...), "@items")
				}
				sz = listSize.Multiply(c.sizeEstimate(&itemsNode{path: path, t: params[0]}))
			}
			if len(args) > 0 {
				var fewest, most uint64
				if listSize.Min > 0 {
					fewest = listSize.Min - 1
				}
				if listSize.Max > 0 {
					most = listSize.Max - 1
				}
				sz = sz.Add(c.sizeEstimate(args[0]).Multiply(checker.SizeEstimate{Min: fewest, Max: most}))
			}
			return &checker.CallEstimate{CostEstimate: sz.MultiplyByCostFactor(stringTraversalCostFactor), ResultSize: &sz}
		}
	case "find", "findAll":
		if target != nil && len(args) >= 1 {
			sz := c.sizeEstimate(*target)
			strCost := sz.Add(checker.SizeEstimate{Min: 1, Max: 1}).MultiplyByCostFactor(stringTraversalCostFactor)
			regexCost := c.sizeEstimate(args[0]).MultiplyByCostFactor(regexStringLengthCostFactor)
			return &checker.CallEstimate{CostEstimate: strCost.Multiply(regexCost), ResultSize: &checker.SizeEstimate{Min: 0, Max: sz.Max}}
		}
	case "url", "quantity", "isQuantity", "isURL", "cidr", "isIP", "isCIDR":
		if len(args) >= 1 {
			return traverse(args[0], stringTraversalCostFactor)
		}
	case "ip":
		if overloadID == "cidr_ip" {
			return &checker.CallEstimate{CostEstimate: one}
		}
		if len(args) >= 1 {
			return traverse(args[0], stringTraversalCostFactor)
		}
	case "ip.isCanonical":
		if len(args) >= 1 {
			return traverse(args[0], 2*stringTraversalCostFactor)
		}
	case "validate":
		if len(args) >= 1 {
			// A regexp of up to maxNameFormatRegexSize over the string.
			return &checker.CallEstimate{CostEstimate: c.sizeEstimate(args[0]).MultiplyByCostFactor(stringTraversalCostFactor).MultiplyByCostFactor(maxNameFormatRegexSize * regexStringLengthCostFactor)}
		}
	case "format.named":
		return &checker.CallEstimate{CostEstimate: one}
	case "masked", "prefixLength", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast",
		"sign", "asInteger", "isInteger", "asApproximateFloat", "isGreaterThan", "isLessThan", "compareTo", "add", "sub",
		"getScheme", "getHostname", "getHost", "getPort", "getEscapedPath", "getQuery":
		if function == "add" || function == "sub" {
			// Only the quantity overloads are ours; list and string
			// + are CEL's.
			if target == nil || !(*target).Type().IsExactType(quantityType) {
				return nil
			}
		}
		return &checker.CallEstimate{CostEstimate: one}
	case "containsIP", "containsCIDR":
		if len(args) >= 1 {
			// Comparing two 4- or 16-byte addresses, plus parsing a
			// string argument.
			sz := checker.SizeEstimate{Min: 4, Max: 16}
			cost := sz.Add(sz).MultiplyByCostFactor(stringTraversalCostFactor)
			if function == "containsCIDR" {
				cost = cost.Add(sz.MultiplyByCostFactor(stringTraversalCostFactor)).Add(one)
			}
			if overloadID == "cidr_contains_ip_string" || overloadID == "cidr_contains_cidr_string" {
				cost = cost.Add(c.sizeEstimate(args[0]).MultiplyByCostFactor(stringTraversalCostFactor))
			}
			return &checker.CallEstimate{CostEstimate: cost}
		}
	case "_==_":
		if len(args) == 2 && args[0].Type().IsExactType(args[1].Type()) {
			t := args[0].Type()
			switch {
			case t.IsExactType(quantityType), t.IsExactType(ipType), t.IsExactType(cidrType):
				return &checker.CallEstimate{CostEstimate: one}
			case t.IsExactType(formatType):
				return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: maxFormatSize}.MultiplyByCostFactor(stringTraversalCostFactor)}
			case t.IsExactType(urlType):
				// Upstream sizes this from the right-hand side only.
				size := checker.SizeEstimate{Min: 1, Max: 1}
				if r := args[1].ComputedSize(); r != nil {
					size = r.Union(*r)
				}
				return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: size.Max}.MultiplyByCostFactor(stringTraversalCostFactor)}
			}
		}
	}
	return nil
}

// replaceEstimate bounds s.replace(old, new): the traversal plus the
// result, whose size depends on how often old fits into s and how much
// longer new is.
func (c *costEstimator) replaceEstimate(target, old, repl checker.AstNode) *checker.CallEstimate {
	sz := c.sizeEstimate(target)
	oldSz := c.sizeEstimate(old)
	newSz := c.sizeEstimate(repl)
	var count, kept checker.SizeEstimate
	switch {
	case oldSz.Min == 0:
		// Replacing "" surrounds every character.
		count.Max = sz.Max
		if sz.Max < math.MaxUint64 {
			count.Max++
		}
		kept.Max = sz.Max
	case newSz.Max <= oldSz.Min:
		kept.Max = sz.Max
	default:
		count.Max = uint64(math.Ceil(float64(sz.Max) / float64(oldSz.Min)))
	}
	switch {
	case oldSz.Max == 0:
		count.Min = sz.Min
		if sz.Min < math.MaxUint64 {
			count.Min++
		}
		kept.Min = sz.Min
	case oldSz.Max <= newSz.Min:
		kept.Min = sz.Min
	default:
		count.Min = uint64(math.Ceil(float64(sz.Min) / float64(oldSz.Max)))
	}
	size := count.Multiply(newSz).Add(kept)
	return &checker.CallEstimate{CostEstimate: sz.MultiplyByCostFactor(2 * stringTraversalCostFactor), ResultSize: &size}
}

// actualSize is size() of a value, 1 for values without one.
func actualSize(v ref.Val) uint64 {
	if s, ok := v.(traits.Sizer); ok {
		return uint64(s.Size().(types.Int))
	}
	return 1
}

func ceilCost(f float64) uint64 { return uint64(math.Ceil(f)) }

// traversalCost is what walking a value costs.
func traversalCost(v ref.Val) uint64 {
	switch v := v.(type) {
	case types.String:
		return uint64(float64(len(v)) * stringTraversalCostFactor)
	case types.Bytes:
		return uint64(float64(len(v)) * stringTraversalCostFactor)
	case traits.Lister:
		var cost uint64
		for it := v.Iterator(); it.HasNext() == types.True; {
			cost += traversalCost(it.Next())
		}
		return cost
	case traits.Mapper:
		var cost uint64
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			cost += traversalCost(k) + traversalCost(v.Get(k))
		}
		return cost
	}
	return 1
}

// CallCost is the actual cost of the Kubernetes library functions at run
// time; nil leaves CEL's own functions to CEL's accounting.
func (c *costEstimator) CallCost(function, overloadID string, args []ref.Val, result ref.Val) *uint64 {
	cost := func(v uint64) *uint64 { return &v }
	switch function {
	case "isSorted", "sum", "max", "min", "indexOf", "lastIndexOf", "includes":
		if len(args) > 0 {
			return cost(traversalCost(args[0]))
		}
		return cost(0)
	case "url", "quantity", "isQuantity", "isURL", "cidr", "isIP", "isCIDR",
		"lowerAscii", "upperAscii", "substring", "trim":
		if len(args) >= 1 {
			return cost(ceilCost(float64(actualSize(args[0])) * stringTraversalCostFactor))
		}
	case "replace", "split":
		if len(args) >= 1 {
			// The traversal plus building the result.
			return cost(ceilCost(float64(actualSize(args[0])) * 2 * stringTraversalCostFactor))
		}
	case "join":
		return cost(ceilCost(float64(actualSize(result)) * 2 * stringTraversalCostFactor))
	case "ip":
		if overloadID == "cidr_ip" {
			return cost(1)
		}
		if len(args) >= 1 {
			return cost(ceilCost(float64(actualSize(args[0])) * stringTraversalCostFactor))
		}
	case "ip.isCanonical":
		if len(args) >= 1 {
			return cost(ceilCost(float64(actualSize(args[0])) * 2 * stringTraversalCostFactor))
		}
	case "find", "findAll":
		if len(args) >= 2 {
			strCost := ceilCost((1.0 + float64(actualSize(args[0]))) * stringTraversalCostFactor)
			regexCost := ceilCost(float64(actualSize(args[1])) * regexStringLengthCostFactor)
			return cost(strCost * regexCost)
		}
	case "masked", "prefixLength", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast",
		"sign", "asInteger", "isInteger", "asApproximateFloat", "isGreaterThan", "isLessThan", "compareTo",
		"getScheme", "getHostname", "getHost", "getPort", "getEscapedPath", "getQuery", "format.named":
		return cost(1)
	case "validate":
		if len(args) >= 2 {
			if f, ok := args[0].(formatVal); ok {
				strCost := ceilCost((1.0 + float64(actualSize(args[1]))) * stringTraversalCostFactor)
				regexCost := ceilCost(float64(f.f.maxRegexSize) * regexStringLengthCostFactor)
				return cost(strCost * regexCost)
			}
		}
	case "add", "sub":
		if len(args) > 0 {
			if _, ok := args[0].(quantityVal); ok {
				return cost(1)
			}
		}
	case "containsIP", "containsCIDR":
		if len(args) >= 2 {
			cidrSize := actualSize(args[0])
			n := ceilCost(float64(cidrSize+cidrSize) * stringTraversalCostFactor)
			if function == "containsCIDR" {
				n += ceilCost(float64(cidrSize)*stringTraversalCostFactor) + 1
			}
			if overloadID == "cidr_contains_ip_string" || overloadID == "cidr_contains_cidr_string" {
				n += ceilCost(float64(actualSize(args[1])) * stringTraversalCostFactor)
			}
			return cost(n)
		}
	}
	switch overloadID {
	case "equals":
		if len(args) == 2 {
			switch a := args[0].(type) {
			case quantityVal, ipVal, cidrVal, formatVal:
				return cost(1)
			case urlVal:
				return cost(ceilCost(float64(len(a.u.String())) * stringTraversalCostFactor))
			}
		}
	}
	return nil
}

func saturatingMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
