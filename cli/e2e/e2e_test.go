// Package e2e is the phoenix CLI's end-to-end test: a real phoenix-server,
// a real phoenix-agent supervising the real built phoenix-otelcol on this
// host, and every step driven through the phoenix commands.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/cli/internal/commands"
	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/loadgen"
)

// TestMain lets this test binary double as a load process: the agent's
// spawner re-executes it in child mode.
func TestMain(m *testing.M) {
	loadgen.RunChildIfRequested()
	os.Exit(m.Run())
}

type cli struct {
	t    *testing.T
	vars map[string]string
}

type result struct {
	out, err string
	code     int
}

func (c *cli) run(args ...string) result {
	var out, errb bytes.Buffer
	code := commands.Main(context.Background(), args, commands.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return c.vars[k] })
	return result{out.String(), errb.String(), code}
}

func (c *cli) must(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	c.t.Logf("$ phoenix %s\n%s%s", strings.Join(args, " "), r.out, r.err)
	if r.code != 0 {
		c.t.Fatalf("phoenix %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

// loadName is the executable name (comm) of the load processes.
const loadName = "phoenix-e2e-wk"

// The deployed template, a processor it runs, and a second version's
// parameter with what it renders to.
const (
	template          = "process-topk-v1"
	templateProcessor = "topk/"
	v2Param           = "k=3"
	v2Rendered        = "top_k: 3"
)

const loadProfile = `name: e2e
processes:
  - name_template: "` + loadName + ` --queue=q{i}"
    executable: ` + loadName + `
    count: 3
    cpu: {pattern: steady, base: 0.01}
    memory: {pattern: steady, base: 4MiB}
`

func TestEndToEnd(t *testing.T) {
	bin := testutil.OtelcolBinary(t)
	requireProcessor(t, bin, strings.TrimSuffix(templateProcessor, "/"))
	dir := t.TempDir()
	logger := e2eLogger()
	ctx := context.Background()

	// phoenix-server, SQLite in a temp dir, loopback ports.
	srv := startServer(t, dir, "e2e", logger)

	// phoenix-agent supervising the built collector on this host.
	host := "e2e-" + strconv.Itoa(os.Getpid())
	agentDir := filepath.Join(dir, "agent")
	a, err := agent.New(agent.Config{
		ServerURL: srv.OpAMPURL(), Token: srv.EnrollmentToken(), DataDir: agentDir, CollectorPath: bin,
		HostName: host, HealthInterval: 500 * time.Millisecond, HeartbeatInterval: time.Second,
		ApplyTimeout: 60 * time.Second, MaxLoadProcesses: 20, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(actx) }()
	t.Cleanup(func() {
		stopAgent()
		select {
		case <-agentDone:
		case <-time.After(30 * time.Second):
			t.Error("the agent did not stop")
		}
	})

	sink := testutil.NewOTLPSink(t)
	c := &cli{t: t, vars: map[string]string{"PHOENIX_SERVER": srv.APIURL(), "PHOENIX_TOKEN": srv.APIToken(), "PHOENIX_CONFIG": filepath.Join(dir, "cli.yaml")}}

	waitFor(t, "the agent in `phoenix agent list`", func() (bool, string) {
		r := c.run("agent", "list")
		return regexp.MustCompile(host + `\s+\S+\s+healthy`).MatchString(r.out), r.out + r.err
	})

	// 1. deploy process-topk-v1 to this host: it reaches applied.
	params := []string{"--param", "collection_interval=1s", "--param", "critical_processes=" + loadName, "--param", "batch_timeout=200ms"}
	c.must(append([]string{"pipeline", "deploy", template, "--name", "e2e", "--host", host,
		"--destination", "otlphttp=" + sink.Endpoint(), "--watch", "--timeout", "120s"}, params...)...)
	r := c.must("pipeline", "status", "e2e")
	if !strings.Contains(r.out, "version 1: applied") {
		t.Fatalf("status after deploy:\n%s", r.out)
	}

	// 2. get-active-config prints the config the collector really runs: the
	// file its process was started with.
	v1 := c.must("pipeline", "get-active-config", "--target-host", host).out
	running := collectorConfig(t, agentDir)
	sameAsRunning(t, v1, running)
	if !strings.Contains(running, templateProcessor) || !strings.Contains(v1, "# deployment: e2e\n") {
		t.Fatalf("the collector does not run the deployment:\n%s", running)
	}
	// Data flows from the real scraper through topk to the destination.
	sink.WaitFor(t, 60*time.Second, func(ms []pmetric.Metrics) bool { return countProcesses(ms, "") > 0 })

	// 3. A second version, a rollback to version 1, and a delete converge.
	// --param replaces the whole parameter set: give them all again.
	c.must(append([]string{"pipeline", "deploy", template, "--name", "e2e", "--param", v2Param, "--watch", "--timeout", "120s"}, params...)...)
	if cfg := collectorConfig(t, agentDir); !strings.Contains(cfg, v2Rendered) {
		t.Fatalf("version 2 not running:\n%s", cfg)
	}
	c.must("pipeline", "rollback", "e2e", "--to-version", "1", "--watch", "--timeout", "120s")
	v3 := c.must("pipeline", "get-active-config", "--target-host", host).out
	sameAsRunning(t, v3, collectorConfig(t, agentDir))
	if stripComments(v3) != stripComments(v1) {
		t.Fatalf("after rollback to 1 the collector runs a config unlike version 1:\n%s", v3)
	}

	// 4. loadsim --mode process starts real processes that the scraper
	// sees, and stop removes them.
	profile := filepath.Join(dir, "e2e-profile.yaml")
	if err := os.WriteFile(profile, []byte(loadProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.must("loadsim", "start", "--mode", "process", "--profile", "custom", "--profile-file", profile, "--target-host", host, "--watch", "--timeout", "60s")
	id := regexp.MustCompile(`ls-[0-9a-f]+`).FindString(r.out)
	if id == "" || !strings.Contains(r.out, "running") {
		t.Fatalf("loadsim start:\n%s", r.out)
	}
	sink.Reset()
	var pids []int
	sink.WaitFor(t, 60*time.Second, func(ms []pmetric.Metrics) bool {
		pids = processPIDs(ms, loadName)
		return len(pids) >= 3
	})
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			t.Fatalf("the scraper reported %s pid %d, which is not a process of this host: %v", loadName, pid, err)
		}
	}
	r = c.must("loadsim", "status", id)
	if !regexp.MustCompile(id + `\s+` + host + `\s+process\s+custom\s+running\s+3/3`).MatchString(r.out) {
		t.Fatalf("loadsim status:\n%s", r.out)
	}
	r = c.must("loadsim", "stop", id, "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "stopped") {
		t.Fatalf("loadsim stop:\n%s", r.out)
	}
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Fatalf("load process %d still exists after stop", pid)
		}
	}
	// Three scrapes later the scraper sees none of them.
	sink.Reset()
	sink.WaitFor(t, 60*time.Second, func(ms []pmetric.Metrics) bool { return len(ms) >= 3 && countProcesses(ms, "") > 0 })
	if n := countProcesses(sink.Metrics(), loadName); n != 0 {
		t.Fatalf("the scraper still sees %d %s processes after stop", n, loadName)
	}

	// Delete: the host goes back to the agent's minimal config.
	c.must("pipeline", "delete", "e2e", "--yes", "--watch", "--timeout", "120s")
	if cfg := collectorConfig(t, agentDir); strings.Contains(cfg, templateProcessor) || strings.Contains(cfg, "host_metrics") {
		t.Fatalf("after delete the collector still runs the pipeline:\n%s", cfg)
	}
	r = c.must("pipeline", "status", "--target-host", host)
	if !regexp.MustCompile(host + `\s+none`).MatchString(r.out) {
		t.Fatalf("host status after delete:\n%s", r.out)
	}
}

// requireProcessor checks that the built collector has a processor type: a
// template the collector cannot run would fail the deploy, not the CLI.
func requireProcessor(t *testing.T, bin, typ string) {
	t.Helper()
	out, err := exec.Command(bin, "components").Output()
	if err != nil {
		t.Fatalf("%s components: %v", bin, err)
	}
	if !regexp.MustCompile(`(?m)^\s*- name: ` + regexp.QuoteMeta(typ) + `$`).Match(out) {
		msg := fmt.Sprintf("%s has no %q processor: add it to builder-config.yaml and run `make otelcol`", bin, typ)
		if testutil.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

// collectorConfig reads the config file the running collector was started
// with, from its command line in /proc.
func collectorConfig(t *testing.T, agentDir string) string {
	t.Helper()
	var found string
	waitFor(t, "the collector process", func() (bool, string) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil || !bytes.Contains(raw, []byte("phoenix-otelcol")) {
				continue
			}
			for _, arg := range strings.Split(string(raw), "\x00") {
				p, ok := strings.CutPrefix(arg, "--config=")
				if !ok {
					continue
				}
				if !filepath.IsAbs(p) {
					p = filepath.Join(agentDir, p)
				}
				if strings.HasPrefix(p, agentDir) {
					b, err := os.ReadFile(p)
					if err == nil {
						found = string(b)
						return true, ""
					}
				}
			}
		}
		return false, "no phoenix-otelcol with a --config under " + agentDir
	})
	return found
}

// sameAsRunning checks that the config get-active-config printed is the
// collector's running config file, except for what the agent injects into
// every config (its health_check extension and service::telemetry; see
// agent/README.md): the agent reports the config map it runs, without them.
func sameAsRunning(t *testing.T, printed, running string) {
	t.Helper()
	var p, r map[string]any
	if err := yaml.Unmarshal([]byte(printed), &p); err != nil {
		t.Fatalf("get-active-config printed no YAML: %v\n%s", err, printed)
	}
	if err := yaml.Unmarshal([]byte(running), &r); err != nil {
		t.Fatal(err)
	}
	ext, _ := r["extensions"].(map[string]any)
	delete(ext, "health_check/phoenix_agent")
	if len(ext) == 0 {
		delete(r, "extensions")
	}
	svc, _ := r["service"].(map[string]any)
	delete(svc, "telemetry")
	if es, _ := svc["extensions"].([]any); len(es) == 1 && es[0] == "health_check/phoenix_agent" {
		delete(svc, "extensions")
	}
	pb, _ := yaml.Marshal(p)
	rb, _ := yaml.Marshal(r)
	if string(pb) != string(rb) {
		t.Fatalf("get-active-config differs from the collector's --config file (beyond the agent's injections):\n%s\n--- running\n%s", pb, rb)
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// processPIDs lists the distinct pids of resources whose executable name is
// name.
func processPIDs(ms []pmetric.Metrics, name string) []int {
	seen := map[int]bool{}
	var out []int
	for _, m := range ms {
		rms := m.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			attrs := rms.At(i).Resource().Attributes()
			n, ok := attrs.Get("process.executable.name")
			if !ok || n.Str() != name {
				continue
			}
			if pid, ok := attrs.Get("process.pid"); ok && !seen[int(pid.Int())] {
				seen[int(pid.Int())] = true
				out = append(out, int(pid.Int()))
			}
		}
	}
	return out
}

// countProcesses counts resources with a process.pid, of executable name
// name ("" for any).
func countProcesses(ms []pmetric.Metrics, name string) int {
	n := 0
	for _, m := range ms {
		rms := m.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			attrs := rms.At(i).Resource().Attributes()
			if _, ok := attrs.Get("process.pid"); !ok {
				continue
			}
			if en, ok := attrs.Get("process.executable.name"); name == "" || ok && en.Str() == name {
				n++
			}
		}
	}
	return n
}
