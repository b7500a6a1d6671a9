package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/agent"
	"github.com/phoenix-otel/phoenix/internal/testutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// rawE2E is a team's own collector config: the process scraper, a filter
// that drops the disk I/O metric (v2 also drops virtual memory), batch and
// nop. The rollout, status and experiments of Phoenix take it as it is.
func rawE2E(drop ...string) string {
	var conds []string
	for _, m := range drop {
		conds = append(conds, `        - 'name == "`+m+`"'`)
	}
	return `# team-a's own pipeline (e2e)
receivers:
  host_metrics:
    collection_interval: 10s
    scrapers:
      process:
        mute_process_all_errors: true
processors:
  filter/team:
    error_mode: ignore
    metrics:
      metric:
` + strings.Join(conds, "\n") + `
  batch:
exporters:
  nop:
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      processors: [filter/team, batch]
      exporters: [nop]
`
}

func hexSHA(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// TestRawConfigEndToEnd: a real phoenix-server, phoenix-agent and the built
// collector. A raw config goes deploy -> applied (the agent reports the
// file's own hash) -> a second version -> rollback (the first hash again)
// -> an experiment with the raw config as the candidate against a template
// baseline, which reaches running with samples for both variants.
func TestRawConfigEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of experiment samples")
	}
	t.Parallel()
	bin := testutil.OtelcolBinary(t)
	requireProcessor(t, bin, "cardinality")
	dir := t.TempDir()
	logger := e2eLogger()
	srv := startServer(t, dir, "e2e-raw", logger)
	host := "e2e-raw-" + strconv.Itoa(os.Getpid())
	a, err := agent.New(agent.Config{
		ServerURL: srv.OpAMPURL(), Token: srv.EnrollmentToken(), DataDir: filepath.Join(dir, "agent"), CollectorPath: bin,
		HostName: host, HealthInterval: 500 * time.Millisecond, HeartbeatInterval: time.Second,
		ApplyTimeout: 60 * time.Second, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.SetOwnMetricsPeriod(2 * time.Second)
	actx, stopAgent := context.WithCancel(context.Background())
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
	c := &cli{t: t, vars: map[string]string{"PHOENIX_SERVER": srv.APIURL(), "PHOENIX_TOKEN": srv.APIToken(), "PHOENIX_CONFIG": filepath.Join(dir, "cli.yaml")}}
	st := &stack{c: c, srv: srv, host: host, dir: dir}
	waitFor(t, "the agent", func() (bool, string) {
		r := c.run("agent", "list")
		return strings.Contains(r.out, host), r.out + r.err
	})
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v1, v2 := rawE2E("process.disk.io"), rawE2E("process.disk.io", "process.memory.virtual")
	f1, f2 := write("v1.yaml", v1), write("v2.yaml", v2)
	running := func(want string) {
		t.Helper()
		waitLong(t, "host runs "+want[:12], 2*time.Minute, func() (bool, string) {
			h := st.hostStatus()
			return h.Status == api.StatusApplied && h.ReportedHash == want, h.Status + " " + h.ReportedHash + " " + h.Error
		})
	}

	// A bad file is refused before anything is sent.
	bad := write("bad.yaml", strings.Replace(v1, "  nop:\n", "  kafka:\n", 1))
	if r := c.run("pipeline", "deploy", "--file", bad, "--name", "team-a", "--host", host); r.code != 4 || !strings.Contains(r.err, "unknown exporter type") {
		t.Fatalf("bad raw config: exit %d %s", r.code, r.err)
	}
	if r := c.run("pipeline", "list-deployments", "-o", "json"); strings.Contains(r.out, "team-a") {
		t.Fatalf("a refused config was stored: %s", r.out)
	}

	c.must("pipeline", "deploy", "--file", f1, "--name", "team-a", "--host", host, "--watch", "--timeout", "120s")
	running(hexSHA(v1))
	if r := c.must("pipeline", "show", "--deployment", "team-a"); r.out != v1 {
		t.Fatalf("pipeline show --deployment printed\n%s\nwant the file's bytes", r.out)
	}
	c.must("pipeline", "deploy", "--file", f2, "--name", "team-a", "--watch", "--timeout", "120s")
	running(hexSHA(v2))
	c.must("pipeline", "rollback", "team-a", "--to-version", "1")
	running(hexSHA(v1))
	r := c.must("pipeline", "versions", "team-a", "-o", "json")
	var vl api.VersionList
	if err := json.Unmarshal([]byte(r.out), &vl); err != nil || len(vl.Versions) != 3 || vl.Versions[2].Config != v1 || vl.Versions[2].RollbackOf != 1 {
		t.Fatalf("versions: %v %+v", err, vl)
	}

	// The raw config (v2) as the candidate against a template baseline.
	scenario, _ := json.Marshal(api.ExperimentRequest{
		Name: "raw-vs-base", Target: api.Target{Hosts: []string{host}},
		Baseline:  &api.Variant{Template: "process-baseline-v1", Params: map[string]any{"collection_interval": "10s"}},
		Candidate: &api.Variant{Config: v2},
		Duration:  "10m", Warmup: "0s", Interval: "1m", Start: true,
	})
	c.must("experiment", "create", "-f", write("scenario.json", string(scenario)))
	waitLong(t, "experiment running on the host", 2*time.Minute, func() (bool, string) {
		e, h := st.experiment("raw-vs-base"), st.hostStatus()
		return e.Status == api.ExperimentRunning && h.Experiment == "raw-vs-base" && h.Status == api.StatusApplied,
			e.Status + " " + h.Status + " " + h.Error
	})
	// The config the agent runs: one receiver feeding both variants, the
	// raw pipeline between its variant's tagging and cardinality processors.
	r = c.must("pipeline", "get-active-config", "--target-host", host)
	for _, want := range []string{"metrics/baseline:", "metrics/candidate:", "filter/candidate/team", "cardinality/candidate/in", "cardinality/candidate/out", "pipeline: raw"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the running experiment config lacks %q", want)
		}
	}
	waitLong(t, "samples for both variants", 4*time.Minute, func() (bool, string) {
		r := c.run("experiment", "compare", "raw-vs-base", "-o", "json")
		var cmp api.Comparison
		_ = json.Unmarshal([]byte(r.out), &cmp)
		got := map[string]int{}
		for _, s := range cmp.Series {
			if s.KPI == "output_series" {
				got[s.Variant] = len(s.Points)
			}
		}
		return cmp.Experiment.Samples >= 1 && got["baseline"] >= 1 && got["candidate"] >= 1, r.out[:min(len(r.out), 400)] + r.err
	})
	r = c.must("experiment", "compare", "raw-vs-base", "-o", "json")
	var cmp api.Comparison
	if err := json.Unmarshal([]byte(r.out), &cmp); err != nil {
		t.Fatal(err)
	}
	means := map[string]float64{}
	for _, s := range cmp.Series {
		if s.KPI == "output_series" && len(s.Points) > 0 {
			means[s.Variant] = s.Points[len(s.Points)-1].Value
		}
	}
	t.Logf("output series in the last interval: baseline %.0f, raw candidate %.0f", means["baseline"], means["candidate"])
	// The candidate drops two of the scraper's metrics: fewer series.
	if !(means["candidate"] > 0 && means["candidate"] < means["baseline"]) {
		t.Errorf("raw candidate's output %.0f series, baseline %.0f: want fewer but some", means["candidate"], means["baseline"])
	}
	c.must("experiment", "stop", "raw-vs-base")
	running(hexSHA(v1))
}
