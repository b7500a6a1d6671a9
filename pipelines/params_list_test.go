package pipelines

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// A list parameter's text is a JSON array or exactly one item: a regular
// expression with a comma is never split (issue: --param
// critical_processes='^nginx{1,3}$' became two broken regexes).
func TestListParamsNeverSplitOnCommas(t *testing.T) {
	tmpl, err := Get(TemplateBaseline)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   any
		want []string
	}{
		{`^nginx{1,3}$`, []string{`^nginx{1,3}$`}},
		{`["^nginx{1,3}$","java"]`, []string{`^nginx{1,3}$`, "java"}},
		{` [ "a,b" , "(x|y){2,}" ] `, []string{"a,b", "(x|y){2,}"}},
		{[]any{"^nginx{1,3}$", "java"}, []string{`^nginx{1,3}$`, "java"}},
		{`java`, []string{"java"}},
	}
	for _, c := range cases {
		got, err := ResolveParams(tmpl, map[string]any{"critical_processes": c.in})
		if err != nil {
			t.Errorf("%#v: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got["critical_processes"], c.want) {
			t.Errorf("%#v: resolved to %#v, want %#v", c.in, got["critical_processes"], c.want)
		}
	}
	// Text that starts with "[" must be a JSON array: a character class is
	// refused with the way to write it, never guessed.
	for _, in := range []string{`[0-9]+d`, `["a", 1]`, `["a"] x`} {
		_, err := ResolveParams(tmpl, map[string]any{"critical_processes": in})
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != "critical_processes" || !strings.Contains(pe.Reason, "not a JSON array") {
			t.Errorf("%q: error %v, want a ParamError saying it is not a JSON array", in, err)
		}
	}
}

func TestMapParamsNeverSplitOnCommas(t *testing.T) {
	tmpl, err := Get(TemplateAggregated)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   any
		want map[string]string
	}{
		{`web=^(nginx|httpd){1,2}$`, map[string]string{"web": `^(nginx|httpd){1,2}$`}},
		{`{"web": "^a{1,3}$", "db": "^pg,x$"}`, map[string]string{"web": `^a{1,3}$`, "db": `^pg,x$`}},
		{[]any{"web=^a{1,3}$", "db=^pg$"}, map[string]string{"web": `^a{1,3}$`, "db": `^pg$`}},
	}
	for _, c := range cases {
		got, err := ResolveParams(tmpl, map[string]any{"categories": c.in})
		if err != nil {
			t.Errorf("%#v: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got["categories"], c.want) {
			t.Errorf("%#v: resolved to %#v, want %#v", c.in, got["categories"], c.want)
		}
	}
	_, err = ResolveParams(tmpl, map[string]any{"categories": []any{"web=a", "web=b"}})
	if err == nil || !strings.Contains(err.Error(), `key "web" given twice`) {
		t.Errorf("a repeated key: error %v, want given twice", err)
	}
}

// The CLI sends "10", the API 10: NormalizeParams stores the same value,
// and only the parameters given.
func TestNormalizeParamsStoresTheCoercedValue(t *testing.T) {
	tmpl, err := Get(TemplateTopK)
	if err != nil {
		t.Fatal(err)
	}
	fromCLI, err := NormalizeParams(tmpl, map[string]any{"k": "10"})
	if err != nil {
		t.Fatal(err)
	}
	fromAPI, err := NormalizeParams(tmpl, map[string]any{"k": float64(10)})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromCLI)
	b, _ := json.Marshal(fromAPI)
	if string(a) != string(b) || string(a) != `{"k":10}` {
		t.Fatalf("CLI form stores %s, API form %s, want both {\"k\":10}", a, b)
	}
	if _, err := NormalizeParams(tmpl, map[string]any{"k": "10001"}); err == nil {
		t.Fatal("k=10001 (above max) was accepted")
	}
}

// FuzzParams feeds arbitrary text to every parameter of every template as
// the CLI would send it. Parsing never panics; an accepted value is in
// canonical form, passes the template's own checks again (idempotent), and
// renders.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"10", "-5", "1e3", "true", "30s", `^nginx{1,3}$`, `["^nginx{1,3}$","java"]`, `[0-9]`,
		`{"web":"^a{1,2}$"}`, "web=^x$", "${env:HOME}", "a\x00b", `[""]`, `["a",1]`, "[", "{", "aggregate", "\u00e9"} {
		f.Add(s)
	}
	type target struct {
		tmpl Template
		p    Param
	}
	var targets []target
	for _, name := range Names() {
		tm, err := Get(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range tm.Params {
			targets = append(targets, target{tm, p})
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tg := range targets {
			vals, err := NormalizeParams(tg.tmpl, map[string]any{tg.p.Name: s})
			if err != nil {
				var pe *ParamError
				if !errors.As(err, &pe) || pe.Param == "" {
					t.Fatalf("%s.%s=%q: error %v is not a ParamError naming a parameter", tg.tmpl.Name, tg.p.Name, s, err)
				}
				continue
			}
			// What is stored goes through JSON and must resolve to itself.
			raw, err := json.Marshal(vals)
			if err != nil {
				t.Fatalf("%s.%s=%q: stored value does not marshal: %v", tg.tmpl.Name, tg.p.Name, s, err)
			}
			var back map[string]any
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			again, err := NormalizeParams(tg.tmpl, back)
			if err != nil {
				t.Fatalf("%s.%s=%q: stored %s is refused on reading: %v", tg.tmpl.Name, tg.p.Name, s, raw, err)
			}
			raw2, _ := json.Marshal(again)
			if string(raw2) != string(raw) {
				t.Fatalf("%s.%s=%q: not idempotent: %s then %s", tg.tmpl.Name, tg.p.Name, s, raw, raw2)
			}
			if utf8.ValidString(s) {
				if _, err := Render(Spec{Template: tg.tmpl.Name, Params: back}, Context{HostName: "h"}); err != nil {
					var pe *ParamError
					if !errors.As(err, &pe) { // cross-parameter rules (load_low < load_high) may refuse
						t.Fatalf("%s.%s=%q: accepted but does not render: %v", tg.tmpl.Name, tg.p.Name, s, err)
					}
				}
			}
		}
	})
}
