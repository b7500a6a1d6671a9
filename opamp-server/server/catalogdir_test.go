package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/pipelines"
)

// Templates of --catalog-dir are served by the catalog API like built-ins
// and deploy like them. (Not parallel: the catalog is process-wide.)
func TestCatalogDirTemplates(t *testing.T) {
	dir := t.TempDir()
	body := `name: team-drop-disk-v1
title: Drop disk I/O
description: Drops process.disk.io.
when_to_use: When nobody reads disk I/O per process.
expected_reduction: 2 of the 7 series per process.
processors: [filter]
params:
  - name: metric
    type: string
    default: process.disk.io
    description: The metric dropped.
pipeline:
  - id: filter/drop
    settings:
      error_mode: ignore
      metrics:
        metric: ['name == "${param:metric}"']
`
	if err := os.WriteFile(filepath.Join(dir, "team-drop-disk-v1.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pipelines.LoadCatalogDir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pipelines.LoadCatalogDir(t.TempDir()) }) // an empty dir: no extensions
	ts := startServer(t, newConfig(t))
	cat := ts.mustCall(t, "GET", "/api/v1/catalog", nil, 200)
	var found map[string]any
	for _, tm := range cat["templates"].([]any) {
		if m := tm.(map[string]any); m["name"] == "team-drop-disk-v1" {
			found = m
		}
	}
	if found == nil || found["extension"] != true || found["title"] != "Drop disk I/O" {
		t.Fatalf("catalog: %v", found)
	}
	one := ts.mustCall(t, "GET", "/api/v1/catalog/team-drop-disk-v1", nil, 200)
	if len(one["params"].([]any)) < 2 {
		t.Fatalf("params (own and shared): %v", one["params"])
	}
	a := ts.agent(t, "ext-1", nil)
	ts.waitAgentKnown(t, "ext-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", map[string]any{"name": "ext", "template": "team-drop-disk-v1", "params": map[string]any{"metric": "process.memory.virtual"},
		"target": map[string]any{"hosts": []string{"ext-1"}}}, 201)
	ts.waitHosts(t, "applied", "ext-1")
	if !strings.Contains(string(a.Effective()), `name == \"process.memory.virtual\"`) && !strings.Contains(string(a.Effective()), `name == "process.memory.virtual"`) {
		t.Fatalf("agent runs:\n%s", a.Effective())
	}
	code, out := ts.call(t, "POST", "/api/v1/deployments", map[string]any{"name": "ext2", "template": "team-drop-disk-v1", "params": map[string]any{"nope": 1},
		"target": map[string]any{"hosts": []string{"ext-2"}}})
	if code != 422 || out["field"] != "params.nope" {
		t.Fatalf("bad param of an extension: %d %v", code, out)
	}
}
