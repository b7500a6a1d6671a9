package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildOnePackage(t *testing.T) {
	bin := t.TempDir()
	for _, b := range []string{"phoenix-agent", "phoenix-otelcol"} {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	path, err := build("phoenix-agent", "deb", "amd64", "1.2.3", bin, "../..", out)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "phoenix-agent_1.2.3_amd64.deb" || filepath.Dir(path) != out {
		t.Errorf("built %s", path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
	// phoenix-server's binary is not there: the error names it.
	if _, err := build("phoenix-server", "rpm", "amd64", "1.2.3", bin, "../..", out); err == nil || !strings.Contains(err.Error(), "phoenix-server") {
		t.Errorf("a missing binary: %v", err)
	}
	for _, c := range [][2]string{{"phoenix-cli", "deb"}, {"phoenix-agent", "apk"}} {
		if _, err := build(c[0], c[1], "amd64", "1", bin, "../..", out); err == nil || !strings.Contains(err.Error(), c[0]+`"`) && !strings.Contains(err.Error(), c[1]+`"`) {
			t.Errorf("build(%s, %s) = %v, want an error naming it", c[0], c[1], err)
		}
	}
}
