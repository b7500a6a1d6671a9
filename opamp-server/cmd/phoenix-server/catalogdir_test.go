package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad --catalog-dir template stops the start before anything listens,
// naming the file and the field; the config-file key catalog-dir does the
// same.
func TestCatalogDirCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "team-v1.yaml")
	body := "name: team-v1\ntitle: T\ndescription: D\nwhen_to_use: W\nexpected_reduction: E\npipeline:\n  - id: kafka/x\n"
	if err := os.WriteFile(bad, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(cfgFile, []byte("catalog-dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--catalog-dir", dir, "--data-dir", t.TempDir(), "--opamp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"},
		{"--config", cfgFile, "--data-dir", t.TempDir(), "--opamp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"},
	} {
		cmd := newCommand()
		cmd.SetArgs(args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `pipeline[0].id: unknown processor type "kafka"`) {
			t.Fatalf("%v: err = %v, want one naming %s and pipeline[0].id", args, err, bad)
		}
	}
}
