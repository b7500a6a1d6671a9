package pipelines

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ResolveParams checks params against the template's schema and returns every
// parameter's value in canonical form, defaults filled in. Unknown, ill-typed,
// out-of-bounds and missing required parameters are reported as *ParamError;
// when several are wrong, the first in name order is reported.
func ResolveParams(t Template, params map[string]any) (map[string]any, error) {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	out := t.Defaults()
	for _, name := range names {
		p, ok := t.Param(name)
		if !ok {
			return nil, &ParamError{Template: t.Name, Param: name, Reason: "unknown parameter", Accepted: strings.Join(paramNames(t), ", ")}
		}
		v, err := coerce(t.Name, p, params[name])
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	for _, p := range t.Params {
		if _, ok := out[p.Name]; !ok && p.Required {
			return nil, &ParamError{Template: t.Name, Param: p.Name, Reason: "required", Accepted: accepted(p)}
		}
	}
	return out, nil
}

// NormalizeParams coerces the parameters given (and only those: defaults are
// not filled in) to their canonical types, so that what is stored does not
// depend on how it was sent: the CLI's "10" and the API's 10 are both stored
// as 10, a JSON-array string as a list. Errors are those of ResolveParams.
func NormalizeParams(t Template, params map[string]any) (map[string]any, error) {
	if _, err := ResolveParams(t, params); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(params))
	for name, v := range params {
		p, _ := t.Param(name)
		c, err := coerce(t.Name, p, v)
		if err != nil {
			return nil, err
		}
		out[name] = c
	}
	return out, nil
}

func paramNames(t Template) []string {
	var out []string
	for _, p := range t.Params {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// accepted describes the values a parameter takes, for error messages.
func accepted(p Param) string {
	var s string
	switch p.Type {
	case TypeEnum:
		return "one of " + strings.Join(p.Enum, ", ")
	case TypeStringList:
		s = `a list of strings (a JSON array such as ["a","b"], or one item)`
		if p.Regex {
			s = `a list of regular expressions (a JSON array such as ["^nginx$","java"], or one item)`
		}
	case TypeMap:
		s = `a map of strings (a JSON object such as {"k":"v"}, or one k=v pair)`
		if p.Regex {
			s = `a map of names to regular expressions (a JSON object such as {"web":"^nginx$"}, or one name=regex pair)`
		}
	case TypeDuration:
		s = `a duration such as "30s" or "1m"`
	case TypeInt:
		s = "an integer"
	case TypeFloat:
		s = "a number"
	case TypeBool:
		s = "true or false"
	case TypeString:
		s = "a string"
		if p.Regex {
			s = "a regular expression"
		}
	}
	switch {
	case p.Min != nil && p.Max != nil:
		s += fmt.Sprintf(" from %s to %s", bound(p, *p.Min), bound(p, *p.Max))
	case p.Min != nil:
		s += " >= " + bound(p, *p.Min)
	case p.Max != nil:
		s += " <= " + bound(p, *p.Max)
	}
	if (p.Type == TypeStringList || p.Type == TypeMap) && (p.Min != nil || p.Max != nil) {
		s += " entries"
	}
	return s
}

func bound(p Param, f float64) string {
	if p.Type == TypeDuration {
		return (time.Duration(f * float64(time.Second))).String()
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// coerce converts a value given for p to its canonical form and checks it.
func coerce(tmpl string, p Param, v any) (any, error) {
	bad := func(format string, args ...any) error {
		return &ParamError{Template: tmpl, Param: p.Name, Reason: fmt.Sprintf(format, args...), Accepted: accepted(p)}
	}
	if v == nil {
		return nil, bad("no value given")
	}
	if n, ok := v.(json.Number); ok {
		v = string(n)
	}
	inRange := func(f float64, shown string) error {
		if p.Min != nil && f < *p.Min || p.Max != nil && f > *p.Max {
			return bad("%s is out of range", shown)
		}
		return nil
	}
	switch p.Type {
	case TypeInt:
		var i int64
		switch x := v.(type) {
		case int:
			i = int64(x)
		case int64:
			i = x
		case uint64:
			if x > math.MaxInt64 {
				return nil, bad("%d is too large", x)
			}
			i = int64(x)
		case float64:
			if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) > 1<<53 {
				return nil, bad("%v is not an integer", x)
			}
			i = int64(x)
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, bad("%q is not an integer", x)
			}
			i = n
		default:
			return nil, bad("got %s, not an integer", kind(v))
		}
		if err := inRange(float64(i), strconv.FormatInt(i, 10)); err != nil {
			return nil, err
		}
		return int(i), nil
	case TypeFloat:
		var f float64
		switch x := v.(type) {
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		case float64:
			f = x
		case string:
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, bad("%q is not a number", x)
			}
			f = n
		default:
			return nil, bad("got %s, not a number", kind(v))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("%v is not a finite number", f)
		}
		if err := inRange(f, strconv.FormatFloat(f, 'g', -1, 64)); err != nil {
			return nil, err
		}
		return f, nil
	case TypeBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				return nil, bad("%q is not a boolean", x)
			}
			return b, nil
		}
		return nil, bad("got %s, not a boolean", kind(v))
	case TypeDuration:
		var d time.Duration
		switch x := v.(type) {
		case string:
			n, err := time.ParseDuration(strings.TrimSpace(x))
			if err != nil {
				return nil, bad("%q is not a duration", x)
			}
			d = n
		case time.Duration:
			d = x
		default:
			return nil, bad("got %s, not a duration string", kind(v))
		}
		if err := inRange(d.Seconds(), d.String()); err != nil {
			return nil, err
		}
		return d.String(), nil
	case TypeString, TypeEnum:
		s, ok := v.(string)
		if !ok {
			return nil, bad("got %s, not a string", kind(v))
		}
		if p.Type == TypeEnum && !slices.Contains(p.Enum, s) {
			return nil, bad("%q is not allowed", s)
		}
		if p.Required && strings.TrimSpace(s) == "" {
			return nil, bad("must not be empty")
		}
		if err := checkText(s); err != nil {
			return nil, bad("%v", err)
		}
		if p.Regex {
			if _, err := regexp.Compile(s); err != nil {
				return nil, bad("invalid regular expression %q: %v", s, err)
			}
		}
		return s, nil
	case TypeStringList:
		var list []string
		switch x := v.(type) {
		case []string:
			list = slices.Clone(x)
		case []any:
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, bad("item %d is %s, not a string", i, kind(e))
				}
				list = append(list, s)
			}
		case string:
			// Never split on commas: a regular expression has them
			// ("^nginx{1,3}$"). A JSON array is the list; any other text
			// is one item. Text that starts with "[" must be a JSON
			// array, so a character class is never taken for a list.
			t := strings.TrimSpace(x)
			switch {
			case t == "":
			case strings.HasPrefix(t, "["):
				l, err := decodeJSONStrings(t)
				if err != nil {
					return nil, bad("%q starts with \"[\" but is not a JSON array of strings (%v); a single item that starts with \"[\" is written as a JSON array: [%q]", x, err, t)
				}
				list = l
			default:
				list = []string{t}
			}
		default:
			return nil, bad("got %s, not a list of strings", kind(v))
		}
		if list == nil {
			list = []string{}
		}
		for i, s := range list {
			if s == "" {
				return nil, bad("item %d is empty", i)
			}
			if err := checkText(s); err != nil {
				return nil, bad("item %d: %v", i, err)
			}
			if p.Regex {
				if _, err := regexp.Compile(s); err != nil {
					return nil, bad("item %d: invalid regular expression %q: %v", i, s, err)
				}
			}
		}
		if err := inRange(float64(len(list)), fmt.Sprintf("%d entries", len(list))); err != nil {
			return nil, err
		}
		return list, nil
	case TypeMap:
		m := map[string]string{}
		switch x := v.(type) {
		case map[string]string:
			for k, s := range x {
				m[k] = s
			}
		case map[string]any:
			for k, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, bad("key %q is %s, not a string", k, kind(e))
				}
				m[k] = s
			}
		case string:
			// A JSON object, or one key=value pair (never split on commas:
			// the values are often regular expressions).
			t := strings.TrimSpace(x)
			switch {
			case t == "":
			case strings.HasPrefix(t, "{"):
				if err := decodeJSONStringMap(t, m); err != nil {
					return nil, bad("%q starts with \"{\" but is not a JSON object of strings (%v)", x, err)
				}
			default:
				k, s, ok := strings.Cut(t, "=")
				if !ok {
					return nil, bad("%q is not key=value", x)
				}
				m[strings.TrimSpace(k)] = strings.TrimSpace(s)
			}
		case []any, []string:
			// Repeated --param name=key=value on the CLI: one pair each.
			var items []string
			if ss, ok := x.([]string); ok {
				items = ss
			} else {
				for i, e := range x.([]any) {
					s, ok := e.(string)
					if !ok {
						return nil, bad("item %d is %s, not a key=value string", i, kind(e))
					}
					items = append(items, s)
				}
			}
			for _, kv := range items {
				k, s, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, bad("%q is not key=value", kv)
				}
				k = strings.TrimSpace(k)
				if _, dup := m[k]; dup {
					return nil, bad("key %q given twice", k)
				}
				m[k] = strings.TrimSpace(s)
			}
		default:
			return nil, bad("got %s, not a map of strings", kind(v))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "" {
				return nil, bad("empty key")
			}
			if err := checkText(k); err != nil {
				return nil, bad("key %q: %v", k, err)
			}
			if err := checkText(m[k]); err != nil {
				return nil, bad("key %q: %v", k, err)
			}
			if p.Regex {
				if m[k] == "" {
					return nil, bad("key %q: empty regular expression (it would match everything)", k)
				}
				if _, err := regexp.Compile(m[k]); err != nil {
					return nil, bad("key %q: invalid regular expression %q: %v", k, m[k], err)
				}
			}
		}
		if err := inRange(float64(len(m)), fmt.Sprintf("%d entries", len(m))); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, bad("unsupported parameter type %q", p.Type)
}

// decodeJSONStrings reads a JSON array of strings, refusing anything else
// (numbers, nested values, trailing text).
func decodeJSONStrings(s string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var out []string
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("text after the array")
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// decodeJSONStringMap reads a JSON object of strings into m.
func decodeJSONStringMap(s string, m map[string]string) error {
	dec := json.NewDecoder(strings.NewReader(s))
	var out map[string]string
	if err := dec.Decode(&out); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("text after the object")
	}
	for k, v := range out {
		m[k] = v
	}
	return nil
}

// checkText refuses control characters and the collector's ${...}
// expansion syntax: a parameter must never pull environment variables or
// files into a config.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return fmt.Errorf("contains control character %U", r)
		}
	}
	if strings.Contains(s, "${") || strings.Contains(s, "$$") {
		return fmt.Errorf("%q contains \"${\" or \"$$\", which the collector would expand", s)
	}
	return nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64:
		return "a number"
	case string:
		return "a string"
	case []any, []string:
		return "a list"
	case map[string]any, map[string]string:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// values gives typed access to resolved (canonical) parameter values.
type values map[string]any

func (v values) int(name string) int                { return v[name].(int) }
func (v values) float(name string) float64          { return v[name].(float64) }
func (v values) str(name string) string             { return v[name].(string) }
func (v values) bool(name string) bool              { return v[name].(bool) }
func (v values) list(name string) []string          { return v[name].([]string) }
func (v values) dict(name string) map[string]string { return v[name].(map[string]string) }
func (v values) dur(name string) time.Duration {
	d, _ := time.ParseDuration(v[name].(string))
	return d
}
