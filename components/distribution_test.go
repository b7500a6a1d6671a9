// Package components_test checks the built phoenix-otelcol distribution as a
// whole: that it reports its build and contains what builder-config.yaml asks for.
package components_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

type componentsOutput struct {
	BuildInfo struct {
		Command string `yaml:"command"`
		Version string `yaml:"version"`
	} `yaml:"buildinfo"`
	Receivers  []struct{ Name, Module string } `yaml:"receivers"`
	Processors []struct{ Name, Module string } `yaml:"processors"`
	Exporters  []struct{ Name, Module string } `yaml:"exporters"`
	Extensions []struct{ Name, Module string } `yaml:"extensions"`
}

type manifest struct {
	Receivers  []struct{ GoMod, Import string } `yaml:"receivers"`
	Processors []struct{ GoMod, Import string } `yaml:"processors"`
	Exporters  []struct{ GoMod, Import string } `yaml:"exporters"`
	Extensions []struct{ GoMod, Import string } `yaml:"extensions"`
}

// TestDistributionListsEveryComponent runs `phoenix-otelcol components` and
// checks that every Phoenix component of builder-config.yaml is listed beside
// the upstream ones, and that the build reports its commit.
func TestDistributionListsEveryComponent(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	out, err := exec.Command(bin, "components").Output()
	if err != nil {
		t.Fatalf("%s components: %v", bin, err)
	}
	var got componentsOutput
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatalf("components output is not YAML: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "builder-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want manifest
	if err := yaml.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}

	if got.BuildInfo.Command != "phoenix-otelcol" || !strings.Contains(got.BuildInfo.Version, "+") {
		t.Errorf("buildinfo %+v: want command phoenix-otelcol and a version with +<commit>.<date>", got.BuildInfo)
	}
	count := func(list []struct{ Name, Module string }, module string) (n int, names []string) {
		for _, c := range list {
			if strings.HasPrefix(c.Module, module) {
				n++
				names = append(names, c.Name)
			}
		}
		return n, names
	}
	check := func(kind string, list []struct{ Name, Module string }, entries []struct{ GoMod, Import string }) {
		phoenix, upstream := 0, map[string]bool{}
		for _, e := range entries {
			if strings.HasPrefix(e.Import, "github.com/phoenix-otel/phoenix/") || strings.HasPrefix(e.GoMod, "github.com/phoenix-otel/phoenix ") {
				phoenix++
			} else {
				upstream[strings.Fields(e.GoMod)[0]] = true
			}
		}
		if n, names := count(list, "github.com/phoenix-otel/phoenix "); n != phoenix {
			t.Errorf("%s: %d Phoenix components listed (%v), builder-config.yaml has %d", kind, n, names, phoenix)
		}
		for mod := range upstream {
			if n, _ := count(list, mod+" "); n == 0 {
				t.Errorf("%s: upstream %s not listed", kind, mod)
			}
		}
	}
	check("receivers", got.Receivers, want.Receivers)
	check("processors", got.Processors, want.Processors)
	check("exporters", got.Exporters, want.Exporters)
	check("extensions", got.Extensions, want.Extensions)

	loadgen := false
	for _, r := range got.Receivers {
		loadgen = loadgen || r.Name == "loadgen"
	}
	if !loadgen {
		t.Error("the loadgen receiver is not listed")
	}
}
