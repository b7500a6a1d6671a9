package pipelines

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

const extGood = `name: team-drop-metric-v1
title: Drop one metric
description: Drops one process metric everywhere (upstream filter processor).
when_to_use: When a team never reads that metric.
expected_reduction: About 1/7 of the series per dropped metric.
processors: [filter]
params:
  - name: dropped_metric
    type: string
    default: process.disk.io
    description: The metric name to drop.
pipeline:
  - id: filter/drop
    settings:
      error_mode: ignore
      metrics:
        metric:
          - 'name == "${param:dropped_metric}"'
  - id: topk/keep
    settings:
      top_k: 5
      critical_processes: ${param:critical_processes}
`

func extDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func resetExtensions(t *testing.T) {
	t.Cleanup(func() {
		extMu.Lock()
		ext = nil
		extMu.Unlock()
	})
}

// An extension is listed, rendered and used in experiments like a
// built-in template.
func TestCatalogDirExtension(t *testing.T) {
	resetExtensions(t)
	if err := LoadCatalogDir(extDir(t, map[string]string{"team-drop-metric-v1.yaml": extGood, "README.txt": "not a template"})); err != nil {
		t.Fatal(err)
	}
	got, err := Get("team-drop-metric-v1")
	if err != nil || !got.Extension || len(got.Params) != 1+len(catalog()[0].Params) {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if l := List(); l[len(l)-1].Name != "team-drop-metric-v1" || len(l) != len(catalog())+1 {
		t.Fatalf("List does not end with the extension: %d templates", len(l))
	}
	r, err := Render(Spec{Template: "team-drop-metric-v1", Params: map[string]any{"dropped_metric": "process.memory.virtual", "critical_processes": []any{"^nginx$"}}}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	y := string(r.YAML)
	for _, want := range []string{`name == "process.memory.virtual"`, "filter/drop:", "topk/keep:", "cardinality/in", "- ^nginx$"} {
		if !strings.Contains(y, want) {
			t.Errorf("rendered extension lacks %q:\n%s", want, y)
		}
	}
	if ps := ValidateYAML(r.YAML); len(ps) > 0 {
		t.Fatal(ps)
	}
	var pe *ParamError
	if _, err := Render(Spec{Template: "team-drop-metric-v1", Params: map[string]any{"nope": 1}}, Context{}); !errors.As(err, &pe) || pe.Param != "nope" {
		t.Fatalf("unknown parameter of an extension: %v", err)
	}
	e, err := RenderExperiment(ExperimentSpec{ID: "x", Baseline: Spec{Template: TemplateBaseline}, Candidate: Spec{Template: "team-drop-metric-v1"}}, Context{HostName: "h"})
	if err != nil || !strings.Contains(string(e.YAML), "filter/candidate/drop:") {
		t.Fatalf("experiment with an extension: %v", err)
	}
}

// The real collector accepts an extension's render.
func TestCatalogDirExtensionPassesCollector(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	resetExtensions(t)
	if err := LoadCatalogDir(extDir(t, map[string]string{"team-drop-metric-v1.yaml": extGood})); err != nil {
		t.Fatal(err)
	}
	r, err := Render(Spec{Template: "team-drop-metric-v1"}, Context{HostName: "h"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ValidateWithBinary(ctx, bin, r.YAML); err != nil {
		t.Fatal(err)
	}
}

// A bad extension stops the load, naming the file and the field, and the
// catalog keeps what it had.
func TestCatalogDirRefuses(t *testing.T) {
	resetExtensions(t)
	good := extDir(t, map[string]string{"team-drop-metric-v1.yaml": extGood})
	if err := LoadCatalogDir(good); err != nil {
		t.Fatal(err)
	}
	repl := func(old, new string) string {
		if !strings.Contains(extGood, old) {
			t.Fatalf("test case: %q not in the template", old)
		}
		return strings.Replace(extGood, old, new, 1)
	}
	cases := []struct{ name, file, body, field, msg string }{
		{"unknown field", "team-drop-metric-v1.yaml", repl("title:", "titel: x\ntitle:"), "", "line 2: field titel not found"},
		{"name not the file's", "other-v1.yaml", extGood, "name", `does not match the file name "other-v1"`},
		{"built-in clash", "process-topk-v1.yaml", repl("name: team-drop-metric-v1", "name: process-topk-v1"), "name", "is a built-in template"},
		{"missing title", "team-drop-metric-v1.yaml", repl("title: Drop one metric\n", ""), "title", "required"},
		{"unknown processor", "team-drop-metric-v1.yaml", repl("id: filter/drop", "id: kafka/drop"), "pipeline[0].id", `unknown processor type "kafka"`},
		{"shared processor", "team-drop-metric-v1.yaml", repl("id: filter/drop", "id: batch/mine"), "pipeline[0].id", "shared processors"},
		{"unknown parameter", "team-drop-metric-v1.yaml", repl("${param:dropped_metric}", "${param:droped}"), "pipeline[0].settings.metrics.metric[0]", "${param:droped}: no such parameter"},
		// Every reference of a string is checked, not only its first.
		{"unknown second parameter", "team-drop-metric-v1.yaml", repl("${param:dropped_metric}", "${param:dropped_metric}-${param:droped}"), "pipeline[0].settings.metrics.metric[0]", "${param:droped}: no such parameter"},
		{"list in a string", "team-drop-metric-v1.yaml", repl("${param:dropped_metric}", "x ${param:critical_processes}"), "pipeline[0].settings.metrics.metric[0]", "only stand alone"},
		{"bad param type", "team-drop-metric-v1.yaml", repl("type: string", "type: text"), "params[0]", `unknown type "text"`},
		{"shared param twice", "team-drop-metric-v1.yaml", repl("name: dropped_metric", "name: collection_interval"), "params", "declared twice"},
		{"component settings", "team-drop-metric-v1.yaml", repl("top_k: 5", "top_k: -3"), "pipeline[1].settings", "top_k"},
		{"no pipeline", "team-drop-metric-v1.yaml", extGood[:strings.Index(extGood, "pipeline:")], "pipeline", "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := extDir(t, map[string]string{c.file: c.body})
			err := LoadCatalogDir(dir)
			var ce *CatalogDirError
			if !errors.As(err, &ce) || ce.File != filepath.Join(dir, c.file) || ce.Field != c.field || !strings.Contains(ce.Reason, c.msg) {
				t.Fatalf("got %v; want file %s, field %q, reason with %q", err, c.file, c.field, c.msg)
			}
			if _, err := Get("team-drop-metric-v1"); err != nil {
				t.Fatalf("a refused load changed the catalog: %v", err)
			}
		})
	}
}
