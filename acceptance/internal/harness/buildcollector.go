package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BuildCollectorWithout builds, with the Collector Builder, a collector
// distribution from the repository's builder-config.yaml minus the
// processors whose import path contains one of drop: a real host running an
// older phoenix-otelcol that lacks them. The binary is kept under
// build/<name>/ and rebuilt when bin/phoenix-otelcol is newer.
func BuildCollectorWithout(ctx context.Context, root, tmp, ocb, name string, drop []string) (string, error) {
	out := filepath.Join(root, "build", name)
	bin := filepath.Join(out, name)
	if st, err := os.Stat(bin); err == nil {
		if ref, err := os.Stat(filepath.Join(root, "bin", "phoenix-otelcol")); err == nil && st.ModTime().After(ref.ModTime()) {
			return bin, nil
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "builder-config.yaml"))
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("builder-config.yaml: %w", err)
	}
	procs, _ := m["processors"].([]any)
	var keep []any
	dropped := 0
	for _, p := range procs {
		e, _ := p.(map[string]any)
		path := fmt.Sprint(e["import"], " ", e["gomod"])
		hit := false
		for _, d := range drop {
			if strings.Contains(path, d) {
				hit = true
			}
		}
		if hit {
			dropped++
			continue
		}
		keep = append(keep, p)
	}
	if dropped != len(drop) {
		return "", fmt.Errorf("builder-config.yaml: found %d of the processors %v", dropped, drop)
	}
	m["processors"] = keep
	dist, _ := m["dist"].(map[string]any)
	dist["name"] = name
	dist["module"] = "github.com/phoenix-otel/phoenix/cmd/" + name
	dist["output_path"] = out // replaces stay relative to it: build/<name> is as deep as build/phoenix-otelcol
	b, err := yaml.Marshal(m)
	if err != nil {
		return "", err
	}
	manifest := filepath.Join(tmp, name+"-builder-config.yaml")
	if err := os.WriteFile(manifest, b, 0o600); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, ocb, "--config", manifest)
	cmd.Dir = root
	if o, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ocb: %v\n%s", err, lastLines(string(o), 20))
	}
	return bin, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
