package pipelines

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// With HostNameFromEnv the config is the same bytes for every host, and the
// real collector puts the host name from its environment (PHOENIX_HOST_NAME,
// which phoenix-agent sets) on the data.
func TestHostNameFromEnvInTheCollector(t *testing.T) {
	spec := Spec{Template: TemplateTopK, Destination: Destination{Type: DestDebug},
		Input: Input{Mode: InputLoadGen, LoadGen: &LoadSim{Profile: "realistic"}}}
	a, err := Render(spec, Context{HostNameFromEnv: true, DeploymentID: "fleet", DeploymentVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(spec, Context{HostNameFromEnv: true, DeploymentID: "fleet", DeploymentVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.YAML, b.YAML) || !strings.Contains(string(a.YAML), "${env:"+EnvHostName+"}") {
		t.Fatalf("shared render differs or lacks the env reference:\n%s", a.YAML)
	}
	if strings.Contains(string(a.YAML), "resource_detection") {
		t.Fatal("the host name comes from the env: no resource detection")
	}

	collectorSeesHostName(t, a.YAML, []string{EnvHostName + "=env-host-7"}, "env-host-7")
}

// A config rendered without a host name starts in a collector run by hand
// (no phoenix-agent, no resource_detection in phoenix-otelcol) and names the
// host from PHOENIX_HOST_NAME, else HOSTNAME, else "unknown".
func TestHostNameWithoutAgent(t *testing.T) {
	spec := Spec{Template: TemplateTopK, Destination: Destination{Type: DestDebug},
		Input: Input{Mode: InputLoadGen, LoadGen: &LoadSim{Profile: "realistic"}}}
	r, err := Render(spec, Context{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.YAML), EnvHostNameChain) {
		t.Fatalf("render without a host lacks %s:\n%s", EnvHostNameChain, r.YAML)
	}
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"PHOENIX_HOST_NAME first", []string{EnvHostName + "=agentless-1", "HOSTNAME=container-1"}, "agentless-1"},
		{"HOSTNAME next", []string{"HOSTNAME=container-1"}, "container-1"},
		{"neither", nil, "unknown"},
	} {
		t.Run(c.name, func(t *testing.T) { collectorSeesHostName(t, r.YAML, c.env, c.want) })
	}
}

// collectorSeesHostName runs the built collector on config (with a debug
// exporter) in the test's environment without PHOENIX_HOST_NAME and
// HOSTNAME, plus env, until a resource with host.name want is printed.
func collectorSeesHostName(t *testing.T, config []byte, env []string, want string) {
	t.Helper()
	bin := testutil.OtelcolBinary(t)
	dir := t.TempDir()
	// Detailed debug output shows every resource attribute.
	cfg := strings.Replace(string(config), "verbosity: basic", "verbosity: detailed", 1)
	if !strings.Contains(cfg, "verbosity: detailed") {
		cfg = strings.Replace(cfg, "debug/default: {}", "debug/default:\n    verbosity: detailed", 1)
	}
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config="+path, "--set=service.telemetry.metrics.level=none")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvHostName+"=") && !strings.HasPrefix(kv, "HOSTNAME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	for !strings.Contains(out.String(), "host.name: Str("+want+")") {
		select {
		case <-exited:
			t.Fatalf("the collector exited before printing host.name %s:\n%s", want, tail(out.String(), 3000))
		case <-ctx.Done():
			t.Fatalf("no resource with host.name %s in the collector's output:\n%s", want, tail(out.String(), 3000))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
