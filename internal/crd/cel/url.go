package cel

import (
	"fmt"
	"net/url"
	"reflect"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Kubernetes' URL library: url(s), isURL(s), and on a URL getScheme(),
// getHost(), getHostname(), getPort(), getEscapedPath(), getQuery().
// Only absolute URLs (net/url.ParseRequestURI, as the uri format) parse.

var (
	urlType      = cel.ObjectType("kubernetes.URL")
	urlTypeValue = types.NewTypeValue("kubernetes.URL")
)

type urlVal struct {
	u *url.URL
}

func (v urlVal) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(v.u).AssignableTo(t) {
		return v.u, nil
	}
	if reflect.TypeOf("").AssignableTo(t) {
		return v.u.String(), nil
	}
	return nil, fmt.Errorf("type conversion error from 'URL' to '%v'", t)
}

func (v urlVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case urlTypeValue:
		return v
	case types.TypeType:
		return urlTypeValue
	}
	return types.NewErr("type conversion error from '%s' to '%s'", urlTypeValue, t)
}

func (v urlVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(urlVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Bool(*v.u == *o.u)
}

func (v urlVal) Type() ref.Type { return urlTypeValue }
func (v urlVal) Value() any     { return v.u }

const (
	urlOverload   = "string_to_url"
	isURLOverload = "is_url_string"
)

func k8sURLs() cel.EnvOption {
	u := urlType
	str := func(f func(*url.URL) string) func(ref.Val) ref.Val {
		return func(arg ref.Val) ref.Val {
			x, ok := arg.Value().(*url.URL)
			if !ok {
				return types.MaybeNoSuchOverloadErr(arg)
			}
			return types.String(f(x))
		}
	}
	return cel.Lib(&libOpts{opts: []cel.EnvOption{
		cel.Function("url", cel.Overload(urlOverload, []*cel.Type{cel.StringType}, u, cel.UnaryBinding(stringToURL))),
		cel.Function("isURL", cel.Overload(isURLOverload, []*cel.Type{cel.StringType}, cel.BoolType, cel.UnaryBinding(isURL))),
		cel.Function("getScheme", cel.MemberOverload("url_get_scheme", []*cel.Type{u}, cel.StringType, cel.UnaryBinding(str(func(x *url.URL) string { return x.Scheme })))),
		cel.Function("getHost", cel.MemberOverload("url_get_host", []*cel.Type{u}, cel.StringType, cel.UnaryBinding(str(func(x *url.URL) string { return x.Host })))),
		cel.Function("getHostname", cel.MemberOverload("url_get_hostname", []*cel.Type{u}, cel.StringType, cel.UnaryBinding(str((*url.URL).Hostname)))),
		cel.Function("getPort", cel.MemberOverload("url_get_port", []*cel.Type{u}, cel.StringType, cel.UnaryBinding(str((*url.URL).Port)))),
		cel.Function("getEscapedPath", cel.MemberOverload("url_get_escaped_path", []*cel.Type{u}, cel.StringType, cel.UnaryBinding(str((*url.URL).EscapedPath)))),
		cel.Function("getQuery", cel.MemberOverload("url_get_query", []*cel.Type{u}, cel.MapType(cel.StringType, cel.ListType(cel.StringType)), cel.UnaryBinding(getQuery))),
	}})
}

func stringToURL(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	if _, err := url.ParseRequestURI(s); err != nil {
		return types.NewErr("URL parse error during conversion from string: %v", err)
	}
	// ParseRequestURI folds a fragment into the path or query; Parse
	// does not.
	u, err := url.Parse(s)
	if err != nil {
		return types.NewErr("URL parse error during conversion from string: %v", err)
	}
	return urlVal{u}
}

func isURL(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	_, err := url.ParseRequestURI(s)
	return types.Bool(err == nil)
}

func getQuery(arg ref.Val) ref.Val {
	u, ok := arg.Value().(*url.URL)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	out := map[ref.Val]ref.Val{}
	for k, v := range u.Query() {
		out[types.String(k)] = types.NewStringList(types.DefaultTypeAdapter, v)
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, out)
}
