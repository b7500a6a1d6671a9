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

	bin := testutil.OtelcolBinary(t)
	dir := t.TempDir()
	// Detailed debug output shows every resource attribute.
	cfg := strings.Replace(string(a.YAML), "verbosity: basic", "verbosity: detailed", 1)
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
	cmd.Env = append(os.Environ(), EnvHostName+"=env-host-7")
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for !strings.Contains(out.String(), "host.name: Str(env-host-7)") {
		if ctx.Err() != nil || cmd.ProcessState != nil {
			t.Fatalf("no resource with host.name env-host-7 in the collector's output:\n%s", tail(out.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
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
