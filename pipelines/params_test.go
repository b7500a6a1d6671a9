package pipelines

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestBadParamsNameTheParameter(t *testing.T) {
	cases := []struct {
		template string
		params   map[string]any
		param    string
		reason   string // substring of the message
		accepted string // substring of Accepted
	}{
		{TemplateTopK, map[string]any{"kk": 5}, "kk", "unknown parameter", "k, memory_limit_mib"},
		{TemplateTopK, map[string]any{"k": "ten"}, "k", `"ten" is not an integer`, "an integer from 1 to 10000"},
		{TemplateTopK, map[string]any{"k": 0}, "k", "0 is out of range", "from 1 to 10000"},
		{TemplateTopK, map[string]any{"k": 2.5}, "k", "2.5 is not an integer", "an integer"},
		{TemplateTopK, map[string]any{"k": []any{1}}, "k", "got a list", "an integer"},
		{TemplateTopK, map[string]any{"ranking": "io"}, "ranking", `"io" is not allowed`, "one of cpu, memory, weighted"},
		{TemplateTopK, map[string]any{"others": 3}, "others", "not a string", "one of aggregate, drop"},
		{TemplateBaseline, map[string]any{"collection_interval": "soon"}, "collection_interval", `"soon" is not a duration`, `"30s"`},
		{TemplateBaseline, map[string]any{"collection_interval": "100ms"}, "collection_interval", "100ms is out of range", "from 1s to 1h0m0s"},
		{TemplateBaseline, map[string]any{"critical_processes": []any{"(nginx"}}, "critical_processes", "item 0: invalid regular expression", "regular expressions"},
		{TemplateBaseline, map[string]any{"critical_processes": []any{}}, "critical_processes", "0 entries is out of range", "from 1 to 200 entries"},
		{TemplateBaseline, map[string]any{"critical_processes": []any{"nginx", 7}}, "critical_processes", "item 1 is a number", "list"},
		{TemplateBaseline, map[string]any{"critical_processes": "${env:HOME}"}, "critical_processes", "which the collector would expand", ""},
		{TemplateBaseline, map[string]any{"memory_limit_mib": nil}, "memory_limit_mib", "no value given", "an integer"},
		{TemplateAdaptiveFilter, map[string]any{"host_load": "maybe"}, "host_load", `"maybe" is not a boolean`, "true or false"},
		{TemplateAdaptiveFilter, map[string]any{"cpu_threshold": "NaN"}, "cpu_threshold", "not a finite number", "a number"},
		{TemplateAdaptiveFilter, map[string]any{"load_low": 0.9, "load_high": 0.5}, "load_low", "must be below load_high", "load_low < load_high"},
		{TemplateAggregated, map[string]any{"categories": map[string]any{"web": "("}}, "categories", `key "web": invalid regular expression`, "map of names to regular expressions"},
		{TemplateAggregated, map[string]any{"categories": "web"}, "categories", `"web" is not key=value`, "map"},
		{TemplateAggregated, map[string]any{"categories": map[string]any{"critical": "x"}}, "categories", `category "critical" is reserved`, ""},
		{TemplatePriorityBased, map[string]any{"medium_metrics": []any{}}, "medium_metrics", "out of range", "from 1 to 50 entries"},
	}
	for _, c := range cases {
		_, err := Render(Spec{Template: c.template, Params: c.params}, Context{HostName: "h"})
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%s %v: error %v, want a *ParamError", c.template, c.params, err)
			continue
		}
		if pe.Param != c.param || pe.Template != c.template {
			t.Errorf("%s %v: ParamError names %s.%s, want %s.%s", c.template, c.params, pe.Template, pe.Param, c.template, c.param)
		}
		if !strings.Contains(pe.Reason, c.reason) {
			t.Errorf("%s %v: reason %q, want it to contain %q", c.template, c.params, pe.Reason, c.reason)
		}
		if !strings.Contains(pe.Accepted, c.accepted) {
			t.Errorf("%s %v: accepted %q, want it to contain %q", c.template, c.params, pe.Accepted, c.accepted)
		}
		if !strings.Contains(err.Error(), `parameter "`+c.param+`"`) {
			t.Errorf("%s %v: message %q does not name the parameter", c.template, c.params, err)
		}
	}
}

// The CLI passes every --param value as a string; the API passes JSON types.
// Both must resolve to the same canonical values.
func TestStringAndJSONFormsAgree(t *testing.T) {
	tmpl, err := Get(TemplateAggregated)
	if err != nil {
		t.Fatal(err)
	}
	fromStrings, err := ResolveParams(tmpl, map[string]any{
		"collection_interval": "30s",
		"memory_limit_mib":    "512",
		"critical_processes":  `["^nginx$", "^postgres$"]`,
		"categories":          `{"web": "^node$", "batch": "^python3$"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ResolveParams(tmpl, map[string]any{
		"collection_interval": "30s",
		"memory_limit_mib":    float64(512), // encoding/json's number
		"critical_processes":  []any{"^nginx$", "^postgres$"},
		"categories":          map[string]any{"web": "^node$", "batch": "^python3$"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromStrings, fromJSON) {
		t.Fatalf("string form %v != JSON form %v", fromStrings, fromJSON)
	}
	if got := fromJSON["memory_limit_mib"]; got != 512 {
		t.Errorf("memory_limit_mib = %#v, want int 512", got)
	}
	if got := fromJSON["other_category"]; got != "other" {
		t.Errorf("default other_category = %#v, want \"other\"", got)
	}
}

func TestMissingRequiredParam(t *testing.T) {
	tmpl := Template{Name: "t", Params: []Param{{Name: "endpoint", Type: TypeString, Required: true, Description: "x"}}}
	_, err := ResolveParams(tmpl, nil)
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "endpoint" || pe.Reason != "required" {
		t.Fatalf("error = %v, want a required ParamError for endpoint", err)
	}
	_, err = ResolveParams(tmpl, map[string]any{"endpoint": " "})
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "must not be empty") {
		t.Fatalf("error = %v, want must not be empty", err)
	}
}
