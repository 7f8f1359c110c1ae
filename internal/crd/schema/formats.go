package schema

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	netutils "k8s.io/utils/net"
)

// The string formats kube-apiserver checks in custom resources, with the
// acceptance of kube-openapi's strfmt registry (which kube-apiserver uses)
// but without its cost: strfmt compiles dozens of regular expressions when
// the binary starts, whether or not a CRD ever names a format. Here the few
// checks that need a regular expression compile it on first use.

// DateLayout is the layout of the "date" format (RFC 3339 full-date).
const DateLayout = "2006-01-02"

// lazyRegexp compiles pattern on first use; the patterns are constants, so
// a failure is a bug.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

var (
	// From json-schema's hostname (RFC 1034), as strfmt spells it: labels
	// may hold symbols and letters of any script, the top-level label
	// letters only.
	rxHostname = lazyRegexp(`^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$`)
	rxUUID     = lazyRegexp(`(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)
	rxUUID3    = lazyRegexp(`(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)
	rxUUID4    = lazyRegexp(`(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$`)
	rxUUID5    = lazyRegexp(`(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$`)
	rxCredit   = lazyRegexp(`^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$`)
	rxRGB      = lazyRegexp(`^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$`)
	// The time of a date-time, after strfmt has lowercased it; "." is any
	// character, as strfmt has it.
	rxTime      = lazyRegexp(`^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$`)
	rxDuration  = lazyRegexp(`((\d+)\s*([A-Za-zµ]+))`)
	rxShortName = lazyRegexp(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	rxLongName  = lazyRegexp(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// formatCheckers maps a format's name, without dashes (so "date-time" and
// "datetime" are one), to its check. The keys are exactly the formats
// kube-apiserver validates (supportedStringFormats).
var formatCheckers = map[string]func(string) bool{
	"bsonobjectid": isBSONObjectID,
	"uri":          isURI,
	"email":        isEmail,
	"hostname":     isHostname,
	"ipv4":         isIPv4,
	"ipv6":         isIPv6,
	"cidr":         isCIDR,
	"mac":          isMAC,
	"uuid":         func(s string) bool { return rxUUID().MatchString(s) },
	"uuid3":        func(s string) bool { return rxUUID3().MatchString(s) },
	"uuid4":        func(s string) bool { return rxUUID4().MatchString(s) },
	"uuid5":        func(s string) bool { return rxUUID5().MatchString(s) },
	"isbn":         func(s string) bool { return isISBN10(s) || isISBN13(s) },
	"isbn10":       isISBN10,
	"isbn13":       isISBN13,
	"creditcard":   isCreditCard,
	"ssn":          isSSN,
	"hexcolor":     isHexColor,
	"rgbcolor":     func(s string) bool { return rxRGB().MatchString(s) },
	"byte":         isBase64,
	"password":     func(string) bool { return true },
	"date":         isDate,
	"datetime":     isDateTime,
	"duration":     func(s string) bool { _, err := ParseDuration(s); return err == nil },
	"k8sshortname": func(s string) bool { return len(s) <= 63 && rxShortName().MatchString(s) },
	"k8slongname":  func(s string) bool { return len(s) <= 253 && rxLongName().MatchString(s) },
}

// formatChecker returns the check for format (any dash spelling), or nil
// when kube-apiserver does not validate it.
func formatChecker(format string) func(string) bool {
	return formatCheckers[strings.ReplaceAll(format, "-", "")]
}

func isBSONObjectID(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 12
}

func isURI(s string) bool {
	_, err := url.ParseRequestURI(s)
	return err == nil
}

func isEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address != ""
}

func isHostname(s string) bool {
	if !rxHostname().MatchString(s) || len(s) > 255 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) > 63 {
			return false
		}
	}
	return true
}

// isIPv4 and isCIDR tolerate leading zeros, as strfmt does for addresses
// stored before Go 1.17 rejected them.
func isIPv4(s string) bool {
	return netutils.ParseIPSloppy(s) != nil && strings.Contains(s, ".")
}

func isIPv6(s string) bool {
	return net.ParseIP(s) != nil && strings.Contains(s, ":")
}

func isCIDR(s string) bool {
	_, _, err := netutils.ParseCIDRSloppy(s)
	return err == nil
}

func isMAC(s string) bool {
	_, err := net.ParseMAC(s)
	return err == nil
}

// withoutISBNSeparators drops white space (RE2's \s) and dashes.
func withoutISBNSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\f', '\r', ' ', '-':
			return -1
		}
		return r
	}, s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isISBN10(s string) bool {
	s = withoutISBNSeparators(s)
	if len(s) != 10 || !allDigits(s[:9]) || !(s[9] == 'X' || allDigits(s[9:])) {
		return false
	}
	sum := 0
	for i := range 9 {
		sum += (i + 1) * int(s[i]-'0')
	}
	if s[9] == 'X' {
		sum += 100
	} else {
		sum += 10 * int(s[9]-'0')
	}
	return sum%11 == 0
}

func isISBN13(s string) bool {
	s = withoutISBNSeparators(s)
	if len(s) != 13 || !allDigits(s) {
		return false
	}
	sum := 0
	for i := range 12 {
		sum += []int{1, 3}[i%2] * int(s[i]-'0')
	}
	return int(s[12]-'0') == (10-sum%10)%10
}

// isCreditCard ignores everything but digits, then checks the issuer
// prefixes and lengths and the Luhn sum.
func isCreditCard(s string) bool {
	digits := strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return -1
		}
		return r
	}, s)
	if !rxCredit().MatchString(digits) {
		return false
	}
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d >= 10 {
				d = d%10 + 1
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// isSSN accepts ddd-dd-dddd, with dashes or spaces: at 11 characters both
// separators are needed.
func isSSN(s string) bool {
	if len(s) != 11 {
		return false
	}
	sep := func(c byte) bool { return c == '-' || c == ' ' }
	return allDigits(s[0:3]) && sep(s[3]) && allDigits(s[4:6]) && sep(s[6]) && allDigits(s[7:])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isHexColor(s string) bool {
	s = strings.TrimPrefix(s, "#")
	if len(s) != 3 && len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isBase64 accepts standard base64 with padding, at least one quantum.
func isBase64(s string) bool {
	if len(s) == 0 || len(s)%4 != 0 {
		return false
	}
	body := s
	switch {
	case strings.HasSuffix(s, "=="):
		body = s[:len(s)-2]
	case strings.HasSuffix(s, "="):
		body = s[:len(s)-1]
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

func isDate(s string) bool {
	_, err := time.Parse(DateLayout, s)
	return err == nil
}

// isDateTime is strfmt's check: the part before the first "t" (case
// folded) is a date, the part up to the next "t" a time with a zone.
func isDateTime(s string) bool {
	if len(s) < 4 {
		return false
	}
	parts := strings.Split(strings.ToLower(s), "t")
	if len(parts) < 2 || !isDate(parts[0]) {
		return false
	}
	m := rxTime().FindStringSubmatch(parts[1])
	return m != nil && m[1] <= "23" && m[2] <= "59" && m[3] <= "59"
}

// dateTimeLayouts are the layouts ParseDateTime tries, in order.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.000000Z07:00",
	"2006-01-02T15:04:05.000Z07:00",
	time.RFC3339,
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
}

// ParseDateTime parses a "date-time" value as kube-apiserver's CEL
// environment does (strfmt.ParseDateTime): RFC 3339 with or without
// fractions, or a local time without zone; "" is the Unix epoch.
func ParseDateTime(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	var lastErr error
	for _, layout := range dateTimeLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t, nil
		}
		lastErr = err
	}
	return time.Time{}, lastErr
}

// durationUnits lists each unit's spellings; the last one of each also
// matches as a prefix ("minutes", "hours").
var durationUnits = []struct {
	spellings []string
	unit      time.Duration
}{
	{[]string{"ns", "nano"}, time.Nanosecond},
	{[]string{"us", "µs", "micro"}, time.Microsecond},
	{[]string{"ms", "milli"}, time.Millisecond},
	{[]string{"s", "sec"}, time.Second},
	{[]string{"m", "min"}, time.Minute},
	{[]string{"h", "hr", "hour"}, time.Hour},
	{[]string{"d", "day"}, 24 * time.Hour},
	{[]string{"w", "wk", "week"}, 7 * 24 * time.Hour},
}

// ParseDuration parses a "duration" value as kube-apiserver does
// (strfmt.ParseDuration): Go's syntax, or else the sum of every
// "<digits> <unit>" found in s, Scala style ("3 days 4 hours").
func ParseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var d time.Duration
	ok := false
	for _, m := range rxDuration().FindAllStringSubmatch(s, -1) {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			return 0, err
		}
		unit := strings.ToLower(strings.TrimSpace(m[3]))
		for _, u := range durationUnits {
			last := len(u.spellings) - 1
			for i, spelling := range u.spellings {
				if (i == last && strings.HasPrefix(unit, spelling)) || strings.EqualFold(spelling, unit) {
					ok = true
					d += time.Duration(n) * u.unit
				}
			}
		}
	}
	if !ok {
		return 0, fmt.Errorf("unable to parse %s as duration", s)
	}
	return d, nil
}

// runeCount is the length minLength and maxLength compare: characters,
// not bytes.
func runeCount(s string) int64 { return int64(utf8.RuneCountInString(s)) }

// CheckFormat reports whether s is valid in format, as kube-apiserver's
// strfmt registry judges it; known is false for a format kube-apiserver does
// not validate in custom resources (any s is then valid). Names are matched
// without dashes, so "date-time" and "datetime" are the same format.
func CheckFormat(format, s string) (valid, known bool) {
	check := formatChecker(format)
	if check == nil {
		return true, false
	}
	return check(s), true
}
