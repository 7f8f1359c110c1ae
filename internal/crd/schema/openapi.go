package schema

import (
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// supportedStringFormats are the string formats kube-apiserver validates in
// CRD schemas, in go-openapi's normalized spelling (no dashes). Any other
// format is ignored, as upstream strips it before validating, so a CRD
// using a format we do not know still accepts what kube-apiserver accepts.
var supportedStringFormats = map[string]bool{
	"bsonobjectid": true, "uri": true, "email": true, "hostname": true,
	"ipv4": true, "ipv6": true, "cidr": true, "mac": true,
	"uuid": true, "uuid3": true, "uuid4": true, "uuid5": true,
	"isbn": true, "isbn10": true, "isbn13": true, "creditcard": true,
	"ssn": true, "hexcolor": true, "rgbcolor": true, "byte": true,
	"password": true, "date": true, "duration": true, "datetime": true,
	// Since Kubernetes 1.34.
	"k8sshortname": true, "k8slongname": true,
}

// supportedFormat reports whether kube-apiserver validates format on a
// node of type typ.
func supportedFormat(typ, format string) bool {
	switch typ {
	case "", "string":
		return supportedStringFormats[strings.ReplaceAll(format, "-", "")]
	case "integer":
		return format == "int32" || format == "int64"
	case "number":
		return format == "float" || format == "double"
	default:
		return false
	}
}

// decodeJSON decodes an enum value as the API server decodes objects
// (whole numbers as int64), so that enum comparison sees the same types.
func decodeJSON(raw []byte) any {
	var v any
	if err := utiljson.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}
