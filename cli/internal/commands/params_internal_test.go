package commands

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/pipelines"
)

func TestParseParamsListsAndCommas(t *testing.T) {
	got, err := parseParams([]string{
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
		t.Fatalf("parseParams = %#v, want %#v", got, want)
	}
	// Mixing the two list forms is ambiguous: refused (exit 2).
	_, err = parseParams([]string{`critical_processes=["a"]`, "critical_processes=b"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != ExitUsage || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("mixed list forms: %v", err)
	}
	// What the CLI sends resolves on the server as the user meant.
	tmpl, _ := pipelines.Get(pipelines.TemplateBaseline)
	vals, err := pipelines.ResolveParams(tmpl, map[string]any{"critical_processes": []any{`^nginx{1,3}$`, "java"}})
	if err != nil || !reflect.DeepEqual(vals["critical_processes"], []string{`^nginx{1,3}$`, "java"}) {
		t.Fatalf("server side: %v %v", vals["critical_processes"], err)
	}
}

func TestReadBoundedRefusesLargeInput(t *testing.T) {
	big := bytes.Repeat([]byte("x"), pipelines.MaxConfigBytes+1)
	_, err := readBounded(bytes.NewReader(big), "big.yaml")
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != ExitValidation || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Fatalf("oversized input: %v", err)
	}
	if b, err := readBounded(bytes.NewReader(big[:pipelines.MaxConfigBytes]), "ok.yaml"); err != nil || len(b) != pipelines.MaxConfigBytes {
		t.Fatalf("input at the limit: %d bytes, %v", len(b), err)
	}
}
