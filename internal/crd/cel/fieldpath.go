package cel

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/crd/schema"
)

var errNotAField = errors.New("does not refer to a valid field")

// ValidFieldPath parses a rule's fieldPath (".spec.ports", ".labels['a.b']")
// against s, the schema the rule sits on, and returns it as a field.Path
// relative to that node. Only field and map-key accessors are allowed, and
// every named property must exist in s, as upstream requires.
func ValidFieldPath(jsonPath string, s *schema.Structural) (*field.Path, error) {
	var out *field.Path
	cur := s
	step := func(name string) error {
		if cur == nil {
			return errNotAField
		}
		switch {
		case cur.Properties != nil:
			p, ok := cur.Properties[name]
			if !ok {
				return errNotAField
			}
			out = out.Child(name)
			cur = p
		case cur.AdditionalProperties != nil:
			out = out.Key(name)
			cur = cur.AdditionalProperties
		default:
			return errNotAField
		}
		return nil
	}
	toks := tokenize(jsonPath)
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case "[":
			if i+2 >= len(toks) {
				return nil, fmt.Errorf("unexpected end of JSON path")
			}
			tok := toks[i+1]
			if len(tok) < 2 || tok[0] != '\'' || tok[len(tok)-1] != '\'' {
				return nil, fmt.Errorf("expected single quoted string but got %s", tok)
			}
			name, err := unescapeSingleQuote(tok[1 : len(tok)-1])
			if err != nil {
				return nil, fmt.Errorf("invalid string literal: %w", err)
			}
			if err := step(name); err != nil {
				return nil, err
			}
			if toks[i+2] != "]" {
				return nil, fmt.Errorf("expected ] but got %s", toks[i+2])
			}
			i += 2
		case ".":
			if i+1 >= len(toks) {
				return nil, fmt.Errorf("unexpected end of JSON path")
			}
			if err := step(toks[i+1]); err != nil {
				return nil, err
			}
			i++
		default:
			return nil, fmt.Errorf("expected [ or . but got: %s", toks[i])
		}
	}
	return out, nil
}

// tokenize splits a JSON path into '.', '[', ']' and the text between them;
// single-quoted strings are kept whole.
func tokenize(s string) []string {
	var toks []string
	for len(s) > 0 {
		if s[0] == '\'' {
			end := -1
			for i := 1; i < len(s); i++ {
				if s[i] == '\'' && s[i-1] != '\\' {
					end = i
					break
				}
			}
			if end < 0 {
				toks = append(toks, s)
				return toks
			}
			toks = append(toks, s[:end+1])
			s = s[end+1:]
			continue
		}
		i := strings.IndexAny(s, ".[]")
		switch {
		case i == 0:
			toks = append(toks, s[:1])
			s = s[1:]
		case i < 0:
			toks = append(toks, s)
			s = ""
		default:
			toks = append(toks, s[:i])
			s = s[i:]
		}
	}
	return toks
}

func unescapeSingleQuote(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("invalid escape char \\")
		}
		i++
		switch s[i] {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\'':
			b.WriteByte('\'')
		case '\\':
			b.WriteByte('\\')
		default:
			return "", fmt.Errorf("invalid escape char \\%c", s[i])
		}
	}
	return b.String(), nil
}
