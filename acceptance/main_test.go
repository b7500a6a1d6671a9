package acceptance

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/acceptance/internal/report"
	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// The suite runs only when asked (make acceptance sets PHOENIX_ACCEPTANCE=1):
// `make test` compiles and vets it but does not start its processes.
const enableEnv = "PHOENIX_ACCEPTANCE"

// faultEnv names the test ids (comma-separated) whose deliberate faults are
// injected, to show that each test can fail (see README.md, "Every test can
// fail").
const faultEnv = "PHOENIX_ACCEPTANCE_FAULT"

// suite is what every test shares: one phoenix-server, one Prometheus, one
// backend path. Each test starts its own agents and removes its deployments.
type suite struct {
	root    string
	dir     string
	bins    harness.Bins
	server  *harness.Server
	cli     *harness.CLI
	prom    *harness.Prometheus
	backend *harness.Backend
	rep     *report.Report

	setupErr error // no server: every test fails (CI) or skips with it
	promErr  error // no backend: the tests that count in it skip or fail
}

var s suite

func TestMain(m *testing.M) {
	if os.Getenv(enableEnv) != "1" {
		fmt.Printf("acceptance: not run (set %s=1, or run `make acceptance`)\n", enableEnv)
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	s.root = testutil.RepoRoot()
	s.rep = report.New(s.root)
	s.rep.Fault = os.Getenv(faultEnv)
	outDir := os.Getenv("PHOENIX_ACCEPTANCE_REPORT_DIR")
	if outDir == "" {
		outDir = filepath.Join(s.root, "acceptance", "report")
	}
	dir, err := os.MkdirTemp("", "phoenix-acceptance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.dir = dir
	defer os.RemoveAll(dir)
	setup(ctx)
	code := m.Run()
	stopExperiment()
	teardown()
	keepLogs(filepath.Join(outDir, "logs"))
	if s.backend != nil {
		s.rep.Backend = s.backend.Path
	} else if s.promErr != nil {
		s.rep.Backend = "none: " + s.promErr.Error()
	}
	if err := s.rep.Write(outDir); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance: writing the report:", err)
		return 1
	}
	if md, err := os.ReadFile(filepath.Join(outDir, "report.md")); err == nil {
		os.Stdout.Write(md)
	}
	sum := s.rep.Summary()
	fmt.Printf("acceptance: %d passed, %d failed, %d skipped; report: %s\n", sum[report.Passed], sum[report.Failed], sum[report.Skipped], filepath.Join(outDir, "report.md"))
	return code
}

func setup(ctx context.Context) {
	bins, err := harness.FindBins(s.root)
	if err != nil {
		s.setupErr = err
		return
	}
	s.bins = bins
	s.server, err = harness.StartServer(ctx, s.dir, bins.Server)
	if err != nil {
		s.setupErr = err
		return
	}
	s.cli = harness.NewCLI(bins.CLI, s.server, s.dir)
	s.cli.Dir = s.root
	bin, err := harness.PrometheusBinary()
	if err != nil {
		s.promErr = err
		return
	}
	s.prom, err = harness.StartPrometheus(ctx, s.dir, bin)
	if err != nil {
		s.promErr = err
		return
	}
	s.rep.Machine.PrometheusInfo = s.prom.Version
	s.backend, err = harness.NewBackend(ctx, s.dir, bins, s.cli, s.prom)
	if err != nil {
		s.promErr = err
	}
}

// startBackground starts the shared experiment (TestAcceptance calls it).
func startBackground() {
	if s.setupErr != nil {
		exp.why = "set-up: " + s.setupErr.Error()
		close(exp.done)
		return
	}
	if run := flag.Lookup("test.run").Value.String(); run != "" && strings.Contains(run, "AT-P") &&
		!strings.Contains(run, "AT-P04") && !strings.Contains(run, "AT-P05") && !strings.Contains(run, "AT-P09") && !strings.Contains(run, "AT-P10") {
		exp.why = "the shared experiment is not started: no experiment test selected by -run"
		close(exp.done)
		return
	}
	startExperiment()
}

func teardown() {
	if s.backend != nil {
		s.backend.Stop()
	}
	if s.prom != nil {
		s.prom.Stop(15 * time.Second)
	}
	if s.server != nil {
		s.server.Stop(15 * time.Second)
	}
}

// keepLogs copies the processes' logs into dir, for the CI artifact.
func keepLogs(dir string) {
	_ = os.RemoveAll(dir)
	logs, _ := filepath.Glob(filepath.Join(s.dir, "*.log"))
	// Each agent's collector log (logs/collector.log in its data dir).
	cols, _ := filepath.Glob(filepath.Join(s.dir, "agent-*", "logs", "collector.log"))
	if len(logs)+len(cols) == 0 {
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	copyTail := func(src, dst string) {
		in, err := os.Open(src)
		if err != nil {
			return
		}
		defer in.Close()
		// The last 256 KiB: enough for an error, small for an artifact.
		if st, err := in.Stat(); err == nil && st.Size() > 256<<10 {
			_, _ = in.Seek(-256<<10, io.SeekEnd)
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err == nil {
			_, _ = io.Copy(out, in)
			out.Close()
		}
	}
	for _, l := range logs {
		copyTail(l, filepath.Join(dir, filepath.Base(l)))
	}
	for _, c := range cols {
		host := strings.TrimPrefix(filepath.Base(filepath.Dir(filepath.Dir(c))), "agent-")
		copyTail(c, filepath.Join(dir, "collector-"+host+".log"))
	}
}

// at is one test's handle on the suite.
type at struct {
	*report.Test
	t   *testing.T
	id  string
	cli *harness.CLI
	ctx context.Context
}

// begin registers the test in the report and checks the shared set-up. A
// test that counts in the backend passes needBackend.
func begin(t *testing.T, id, criterion, bound string, needBackend bool) *at {
	rt := s.rep.Begin(t, id, criterion, bound)
	if s.setupErr != nil {
		rt.SkipOrFail("set-up: %v", s.setupErr)
	}
	if needBackend && s.promErr != nil {
		rt.SkipOrFail("no metrics backend: %v", s.promErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	cli := *s.cli
	cli.Log = t.Logf
	return &at{Test: rt, t: t, id: id, cli: &cli, ctx: ctx}
}

// fault reports whether this run injects the test's deliberate fault, and
// records it.
func (a *at) fault(what string) bool {
	if !faultOn(a.id) {
		return false
	}
	a.Fault(what)
	return true
}

// host is a host name unique to this test and run.
func (a *at) host(suffix string) string {
	return strings.ToLower(a.id) + "-" + suffix + fmt.Sprintf("-%d", os.Getpid()%100000)
}

// agent starts a phoenix-agent for host; it is stopped when the test ends.
func (a *at) agent(host string, o harness.AgentOptions) *harness.Agent {
	a.t.Helper()
	ag, err := harness.StartAgent(a.ctx, s.dir, s.bins, s.server, a.cli, host, o)
	a.Require("start phoenix-agent "+host, err)
	a.t.Cleanup(ag.Stop)
	return ag
}

// must runs the CLI and fails the test unless it exits 0.
func (a *at) must(args ...string) harness.Result {
	a.t.Helper()
	r := a.cli.Run(a.ctx, args...)
	if r.Code != 0 {
		a.Failf("phoenix %s: exit %d: %s", strings.Join(args, " "), r.Code, strings.TrimSpace(r.Stderr))
	}
	return r
}

// deleteAtEnd removes a deployment when the test ends, so the next test
// starts from a fleet without it.
func (a *at) deleteAtEnd(name string) {
	a.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s.cli.Run(ctx, "pipeline", "delete", name, "--yes")
	})
}

// faultOn reports whether the fault of test id is injected in this run.
func faultOn(id string) bool {
	for _, f := range strings.Split(os.Getenv(faultEnv), ",") {
		if strings.TrimSpace(f) == id {
			return true
		}
	}
	return false
}
