package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidateNamesTheFlag(t *testing.T) {
	exe, _ := os.Executable()
	good := Config{ServerURL: "ws://127.0.0.1:4320/v1/opamp", DataDir: t.TempDir(), CollectorPath: exe}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	for name, c := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"no server":      {func(c *Config) { c.ServerURL = "" }, "--server: the OpAMP server URL is required"},
		"http scheme":    {func(c *Config) { c.ServerURL = "http://x:4320/v1/opamp" }, `scheme must be ws or wss, not "http"`},
		"no data dir":    {func(c *Config) { c.DataDir = "" }, "--data-dir"},
		"missing binary": {func(c *Config) { c.CollectorPath = "/nonexistent/phoenix-otelcol" }, `--collector "/nonexistent/phoenix-otelcol"`},
		"dir as binary":  {func(c *Config) { c.CollectorPath = t.TempDir() }, "not an executable file"},
		"negative":       {func(c *Config) { c.ApplyTimeout = -time.Second }, "--apply-timeout: must not be negative"},
		"backoff order":  {func(c *Config) { c.RestartBackoffInitial, c.RestartBackoffMax = time.Minute, time.Second }, "--restart-backoff-initial (1m0s) must not exceed"},
		"missing CA":     {func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "--ca-file"},
		"empty label":    {func(c *Config) { c.Labels = map[string]string{"": "x"} }, "--label: empty label key"},
	} {
		cfg := good
		c.mut(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	a := &Agent{cfg: Config{RestartBackoffInitial: time.Second, RestartBackoffMax: 10 * time.Second}}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := a.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

func TestInstanceUIDPersists(t *testing.T) {
	dir := t.TempDir()
	dd, err := openDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := dd.instanceUID()
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() != 7 {
		t.Fatalf("uid %s is version %d, want 7", a, a.Version())
	}
	b, err := dd.instanceUID()
	if err != nil || a != b {
		t.Fatalf("second read: %s, %v; want %s", b, err, a)
	}
	if err := os.WriteFile(filepath.Join(dir, "instance_uid"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := dd.instanceUID(); err == nil || !strings.Contains(err.Error(), "instance_uid: not a UUID") {
		t.Fatalf("corrupt uid error = %v", err)
	}
}

func TestCorruptStateFileIsNamed(t *testing.T) {
	dir := t.TempDir()
	dd, err := openDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config", "last_working.json")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var sc storedConfig
	if _, err := dd.readJSON(&sc, "config", "last_working.json"); err == nil || !strings.Contains(err.Error(), p+" is corrupt") {
		t.Fatalf("error = %v", err)
	}
}

func TestLogTailAndErrorSummary(t *testing.T) {
	lt := newLogTail(5)
	fmt.Fprint(lt, "2026-01-01T00:00:00Z\tinfo\tservice.go:1\tStarting\n")
	fmt.Fprint(lt, "2026-01-01T00:00:00Z\terror\tgraph.go:1\tFailed to start component\t{\"error\": \"bind: address already in use\"}\n")
	fmt.Fprint(lt, "Error: cannot start pipelines: listen tcp 127.0.0.1:4318: bind: address already in use\n")
	fmt.Fprint(lt, "2026/01/01 00:00:00 collector server run finished with error: x\npartial")
	if got := errorSummary(lt); !strings.HasPrefix(got, "Error: cannot start pipelines") {
		t.Fatalf("summary = %q", got)
	}
	lines := lt.last(10)
	if len(lines) != 5 || lines[4] != "partial" {
		t.Fatalf("tail = %q", lines)
	}
	// The ring keeps only the last 5 lines.
	for i := range 10 {
		fmt.Fprintf(lt, "line %d\n", i)
	}
	lines = lt.last(10)
	if len(lines) != 5 || lines[0] != "line 5" || lines[4] != "line 9" {
		t.Fatalf("ring = %q", lines)
	}
	rep := failureReport("did not start", lt)
	if !strings.Contains(rep, "did not start") || !strings.Contains(rep, "--- collector log tail ---") {
		t.Fatalf("report = %q", rep)
	}
}

func TestFatalLineDetection(t *testing.T) {
	if !isFatalLine("2026-01-01T00:00:00Z\terror\totelcol/collector.go:1\tAsynchronous error received, terminating process") {
		t.Error("asynchronous error not detected")
	}
	if isFatalLine("2026-01-01T00:00:00Z\tinfo\tservice.go:1\tEverything is ready") {
		t.Error("info line taken for a fatal error")
	}
}

func BenchmarkLogTailWrite(b *testing.B) {
	lt := newLogTail(200)
	line := []byte("2026-11-29T04:27:13.466Z\tinfo\textensions/extensions.go:48\tExtension is starting...\t{\"resource\": {\"service.instance.id\": \"7173b912\"}}\n")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = lt.Write(line)
	}
}

func TestDataDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	d1, _ := openDataDir(dir)
	d2, _ := openDataDir(dir)
	if err := d1.lockExclusive(); err != nil {
		t.Fatal(err)
	}
	err := d2.lockExclusive()
	if err == nil || !strings.Contains(err.Error(), "in use by another phoenix-agent (pid "+fmt.Sprint(os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	d1.unlock()
	if err := d2.lockExclusive(); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	d2.unlock()
}
