package pipeline

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/pipelines"
)

func TestParseParamsListsAndCommas(t *testing.T) {
	got, err := ParseParams([]string{
		"k=10",
		`critical_processes=^nginx{1,3}$`,
		"critical_processes=java",
		`high_processes=["^a{1,2}$","b,c"]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"k":                  "10",
		"critical_processes": []string{`^nginx{1,3}$`, "java"},
		"high_processes":     `["^a{1,2}$","b,c"]`, // the server reads the JSON
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseParams = %#v, want %#v", got, want)
	}
	// Mixing the two list forms is ambiguous: refused (exit 2).
	_, err = ParseParams([]string{`critical_processes=["a"]`, "critical_processes=b"})
	var ce *cmdutil.ExitError
	if !errors.As(err, &ce) || ce.Code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("mixed list forms: %v", err)
	}
	// What the CLI sends resolves on the server as the user meant.
	tmpl, _ := pipelines.Get(pipelines.TemplateBaseline)
	vals, err := pipelines.ResolveParams(tmpl, map[string]any{"critical_processes": []any{`^nginx{1,3}$`, "java"}})
	if err != nil || !reflect.DeepEqual(vals["critical_processes"], []string{`^nginx{1,3}$`, "java"}) {
		t.Fatalf("server side: %v %v", vals["critical_processes"], err)
	}
}
