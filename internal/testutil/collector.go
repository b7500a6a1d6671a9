package testutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Collector is a phoenix-otelcol process started by a test.
type Collector struct {
	Cmd        *exec.Cmd
	ConfigPath string

	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
	err  error
}

type lockedWriter struct{ c *Collector }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.log.Write(p)
}

// StartCollector writes configYAML to a temp file and runs the built collector
// with it. The process is stopped (SIGTERM, then SIGKILL) when the test ends,
// and its log is printed if the test failed.
func StartCollector(t testing.TB, configYAML string, extraArgs ...string) *Collector {
	t.Helper()
	bin := OtelcolBinary(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Collector{ConfigPath: cfg, done: make(chan struct{})}
	args := append([]string{"--config=" + cfg}, extraArgs...)
	if !setsOwnMetrics(configYAML) {
		// The collector's default is a Prometheus listener on :8888: two
		// tests' collectors at once (go test runs packages in parallel)
		// would collide on it, and nothing scrapes it.
		args = append(args, "--set=service.telemetry.metrics.level=none")
	}
	c.Cmd = exec.Command(bin, args...)
	c.Cmd.Stdout = lockedWriter{c}
	c.Cmd.Stderr = lockedWriter{c}
	// Die with the test binary even if it is killed.
	c.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		c.err = c.Cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("collector log:\n%s", c.Log())
		}
	})
	return c
}

// Log returns everything the collector wrote so far.
func (c *Collector) Log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// Exited reports whether the process has exited, and its wait error.
func (c *Collector) Exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// Stop terminates the collector gracefully, killing it after 10 s.
func (c *Collector) Stop() {
	if exited, _ := c.Exited(); exited {
		return
	}
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-c.done:
	case <-ctx.Done():
		_ = c.Cmd.Process.Kill()
		<-c.done
	}
}

// setsOwnMetrics says whether a config chooses where its collector's own
// metrics go (service.telemetry.metrics), which the test then relies on.
func setsOwnMetrics(configYAML string) bool {
	var doc struct {
		Service struct {
			Telemetry struct {
				Metrics map[string]any `yaml:"metrics"`
			} `yaml:"telemetry"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(configYAML), &doc); err != nil {
		return true // leave a config the collector will refuse alone
	}
	return len(doc.Service.Telemetry.Metrics) > 0
}
