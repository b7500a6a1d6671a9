package e2e

import (
	"context"
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
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

const expProfile = `name: e2e-exp
processes:
  - name_template: "` + loadName + ` --queue=q{i}"
    executable: ` + loadName + `
    count: 6
    cpu: {pattern: steady, base: 0.01}
    memory: {pattern: steady, base: 4MiB}
`

func waitLong(t *testing.T, what string, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

// cpuSeconds is the collector's cumulative CPU time as last ingested.
func cpuSeconds(t *testing.T, st store.Store, uid string) (float64, bool) {
	bs, err := st.QueryMetrics(context.Background(), store.MetricQuery{AgentUID: uid, Step: time.Minute, Since: time.Now().Add(-10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var last store.MetricBucket
	for _, b := range bs {
		if strings.Contains(b.Name, "process_cpu") && b.Start.After(last.Start) {
			last = b
		}
	}
	return last.Last, !last.Start.IsZero()
}

// stack is one host's real Phoenix: server, agent, collector, load.
type stack struct {
	c    *cli
	srv  *server.Server
	host string
	uid  string
	dir  string
	crit string
}

func (st *stack) hostStatus() api.HostStatus {
	r := st.c.run("agent", "show", st.host, "-o", "json")
	var av api.Agent
	_ = json.Unmarshal([]byte(r.out), &av)
	return av.Status
}

func (st *stack) experiment(name string) api.Experiment {
	r := st.c.run("experiment", "status", name, "-o", "json")
	var e api.Experiment
	_ = json.Unmarshal([]byte(r.out), &e)
	return e
}

// startStack starts a real phoenix-server, phoenix-agent and built
// collector, deploys process-baseline-v1 (5 s scrapes, the spawned load
// processes critical) and spawns six real load processes.
func startStack(t *testing.T) *stack {
	if testing.Short() {
		t.Skip("minutes of real collectors")
	}
	bin := testutil.OtelcolBinary(t)
	requireProcessor(t, bin, "topk")
	requireProcessor(t, bin, "cardinality")
	dir := t.TempDir()
	logger := e2eLogger()
	ctx := context.Background()
	// 10 s own-metric buckets: the experiments sample every 10 s.
	srv := startServer(t, dir, "e2e-exp", logger, store.Resolution{Step: 10 * time.Second, Retention: time.Hour}, store.Resolution{Step: time.Minute, Retention: 24 * time.Hour})
	host := "e2e-exp-" + strconv.Itoa(os.Getpid())
	a, err := agent.New(agent.Config{
		ServerURL: srv.OpAMPURL(), Token: srv.EnrollmentToken(), DataDir: filepath.Join(dir, "agent"), CollectorPath: bin,
		HostName: host, HealthInterval: 500 * time.Millisecond, HeartbeatInterval: time.Second,
		ApplyTimeout: 60 * time.Second, MaxLoadProcesses: 20, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.SetOwnMetricsPeriod(2 * time.Second)
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
	c := &cli{t: t, vars: map[string]string{"PHOENIX_SERVER": srv.APIURL(), "PHOENIX_TOKEN": srv.APIToken(), "PHOENIX_CONFIG": filepath.Join(dir, "cli.yaml")}}
	waitFor(t, "the agent", func() (bool, string) {
		r := c.run("agent", "list")
		return strings.Contains(r.out, host), r.out + r.err
	})
	crit := `critical_processes=["^` + loadName + `$"]`
	c.must("pipeline", "deploy", "process-baseline-v1", "--name", "base", "--host", host, "--param", "collection_interval=5s",
		"--param", crit, "--watch", "--timeout", "120s")
	profile := filepath.Join(dir, "profile.yaml")
	if err := os.WriteFile(profile, []byte(expProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must("loadsim", "start", "--mode", "process", "--profile", "custom", "--profile-file", profile, "--target-host", host, "--watch", "--timeout", "60s")
	st := &stack{c: c, srv: srv, host: host, dir: dir, crit: crit}
	st.uid = st.hostStatus().AgentUID
	return st
}

// TestExperimentEndToEnd: a real phoenix-server, phoenix-agent and built
// collector, the real hostmetrics process scraper and real processes from
// the spawner. Baseline (the host's deployment) vs process-aggregated-v1 on
// one receiver; samples come from the collector's own metrics through the
// server's OTLP ingest.
func TestExperimentEndToEnd(t *testing.T) {
	t.Parallel() // beside the three-variant test: two minutes of 10 s samples each
	st := startStack(t)
	c, srv, host, uid, dir, crit, hostStatus := st.c, st.srv, st.host, st.uid, st.dir, st.crit, st.hostStatus

	// The collector's CPU with the baseline alone, for one minute.
	var cpu0, cpu1 float64
	waitLong(t, "collector CPU figures", 90*time.Second, func() (bool, string) {
		v, ok := cpuSeconds(t, srv.Store(), uid)
		cpu0 = v
		return ok, "no otelcol process CPU figure ingested"
	})
	t0 := time.Now()
	time.Sleep(40 * time.Second) // also the figures from before the experiment
	cpu1, _ = cpuSeconds(t, srv.Store(), uid)
	baseRate := (cpu1 - cpu0) / time.Since(t0).Seconds()

	// The experiment, from flags.
	c.must("experiment", "create", "agg", "--hosts", host, "--candidate", "process-aggregated-v1",
		"--param", "candidate.collection_interval=5s", "--param", "candidate."+crit,
		"--duration", "2m", "--warmup", "10s", "--interval", "10s", "--min-samples", "10", "--start")
	waitLong(t, "experiment running", 2*time.Minute, func() (bool, string) {
		r := c.run("experiment", "status", "agg", "-o", "json")
		var e api.Experiment
		_ = json.Unmarshal([]byte(r.out), &e)
		return e.Status == api.ExperimentRunning, r.out + r.err
	})
	cpu2, _ := cpuSeconds(t, srv.Store(), uid)
	t2 := time.Now()
	c.must("experiment", "status", "agg", "--watch") // returns when the experiment ends
	cpu3, _ := cpuSeconds(t, srv.Store(), uid)
	expRate := (cpu3 - cpu2) / time.Since(t2).Seconds()
	t.Logf("collector CPU: baseline alone %.4f s/s, with the experiment (two pipelines) %.4f s/s, ratio %.2f", baseRate, expRate, expRate/max(baseRate, 1e-9))

	r := c.must("experiment", "compare", "agg", "-o", "json")
	var cmp api.Comparison
	if err := json.Unmarshal([]byte(r.out), &cmp); err != nil {
		t.Fatal(err)
	}
	c.must("experiment", "compare", "agg")
	if cmp.Experiment.Status != api.ExperimentCompleted || len(cmp.Results) != 1 {
		t.Fatalf("experiment %+v", cmp.Experiment)
	}
	v := cmp.Results[0]
	k := v.KPIs[0]
	t.Logf("verdict %s (%s): %s", v.Verdict, v.Criterion, v.Detail)
	if k.CandidateMean >= k.BaselineMean {
		t.Errorf("the candidate's output (%.1f series) is not below the baseline's (%.1f)", k.CandidateMean, k.BaselineMean)
	}
	for _, k := range v.KPIs {
		t.Logf("KPI %s (%s): baseline %.4g, candidate %.4g, diff %.4g [%.4g, %.4g], p paired %.3g, n %d", k.KPI, k.Unit, k.BaselineMean, k.CandidateMean, k.Diff, k.CILow, k.CIHigh, k.PPaired, k.N)
	}
	for _, b := range cmp.Collector {
		t.Logf("collector %s (%s): before %.4g (%d), during %.4g (%d), diff %.4g [%.4g, %.4g], p %.3g", b.KPI, b.Unit, b.BeforeMean, b.BeforeN, b.DuringMean, b.DuringN, b.Diff, b.CILow, b.CIHigh, b.PWelch)
	}
	if !v.CPUMeasured || len(cmp.Collector) != 2 || cmp.Collector[0].BeforeN == 0 {
		t.Errorf("CPU not measured on the real collector: measured %v, collector %+v", v.CPUMeasured, cmp.Collector)
	}
	if v.Intervals < 10 || v.InputIdentical != v.Intervals {
		t.Errorf("input identical in %d of %d intervals", v.InputIdentical, v.Intervals)
	}
	if v.CriticalRetentionPct != 100 {
		t.Errorf("candidate critical retention %.1f%%", v.CriticalRetentionPct)
	}
	// An interval whose window saw no scrape (input 0: a starved collector)
	// is no data, and the analysis leaves it out; so does this check.
	empty := map[string]map[int]bool{}
	for _, s := range cmp.Series {
		if s.KPI == "input_series" {
			empty[s.Variant] = map[int]bool{}
			for _, p := range s.Points {
				empty[s.Variant][p.Interval] = p.Value == 0
			}
		}
	}
	for _, s := range cmp.Series {
		if s.KPI == "critical_out" {
			for _, p := range s.Points {
				if p.Value < 6 && !empty[s.Variant][p.Interval] {
					t.Errorf("%s kept %.0f critical processes in interval %d, want the 6 spawned", s.Variant, p.Value, p.Interval)
				}
			}
		}
	}
	if v.Verdict != api.VerdictPromote || !strings.HasPrefix(v.Criterion, "min_reduction") {
		t.Errorf("verdict %s (%s)", v.Verdict, v.Criterion)
	}
	html := filepath.Join(dir, "agg.html")
	c.must("experiment", "compare", "agg", "-o", "html", "--file", html)
	if b, _ := os.ReadFile(html); !strings.Contains(string(b), "uPlot") {
		t.Error("no chart in the html report")
	}

	// Promote: time from the command to all hosts applied.
	start := time.Now()
	c.must("experiment", "promote", "agg", "--variant", "candidate")
	c.must("pipeline", "status", "base", "--watch", "--timeout", "300s")
	waitLong(t, "promoted version applied", 5*time.Minute, func() (bool, string) {
		h := hostStatus()
		return h.Version == 2 && h.Status == api.StatusApplied && h.Experiment == "", h.Status
	})
	took := time.Since(start)
	t.Logf("promote -> all hosts applied: %s (the PRD's bound: 5 minutes)", took.Round(time.Millisecond))
	if took > 5*time.Minute {
		t.Errorf("promote took %s", took)
	}
	promoted := hostStatus().ReportedHash

	// A second experiment, stopped: the host returns to the same hash.
	c.must("experiment", "create", "topk", "--hosts", host, "--candidate", "process-topk-v1",
		"--param", "candidate.collection_interval=5s", "--param", "candidate."+crit, "--duration", "30m", "--interval", "10s", "--start")
	waitLong(t, "second experiment applied", 2*time.Minute, func() (bool, string) {
		h := hostStatus()
		return h.Experiment == "topk" && h.Status == api.StatusApplied && h.ReportedHash != promoted, h.Status
	})
	c.must("experiment", "stop", "topk")
	waitLong(t, "host back to its previous hash", 2*time.Minute, func() (bool, string) {
		h := hostStatus()
		return h.ReportedHash == promoted && h.Status == api.StatusApplied, h.ReportedHash
	})
	r = c.must("experiment", "status", "topk", "-o", "json")
	var e api.Experiment
	_ = json.Unmarshal([]byte(r.out), &e)
	if e.Status != api.ExperimentStopped || e.Hosts[0].PreviousHash != promoted {
		t.Fatalf("stopped experiment %+v", e)
	}
}

// TestExperimentThreeVariantsAndGuardrailEndToEnd, on the real collector:
// baseline, topk and aggregated on one receiver with Holm-corrected
// verdicts; then a candidate that rolls the critical processes up (a topk
// with k=1 and a critical list that matches none of them) fails the
// experiment at once and the host returns to its previous config.
func TestExperimentThreeVariantsAndGuardrailEndToEnd(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	c, host, crit := st.c, st.host, st.crit
	before := st.hostStatus().ReportedHash
	c.must("experiment", "create", "three", "--hosts", host, "--baseline", "process-baseline-v1",
		"--candidate", "process-topk-v1", "--candidate", "process-aggregated-v1",
		"--param", "baseline.collection_interval=5s", "--param", "baseline."+crit,
		"--param", "candidate.collection_interval=5s", "--param", "candidate."+crit, "--param", "candidate.k=2",
		"--param", "candidate2.collection_interval=5s", "--param", "candidate2."+crit,
		"--duration", "2m", "--warmup", "10s", "--interval", "10s", "--min-samples", "10", "--start")
	c.must("experiment", "status", "three", "--watch")
	r := c.must("experiment", "compare", "three", "-o", "json")
	var cmp api.Comparison
	if err := json.Unmarshal([]byte(r.out), &cmp); err != nil {
		t.Fatal(err)
	}
	if cmp.Experiment.Status != api.ExperimentCompleted || len(cmp.Results) != 2 {
		t.Fatalf("three-variant experiment %+v", cmp.Experiment)
	}
	for _, v := range cmp.Results {
		k := v.KPIs[0]
		t.Logf("%s: %s (%s); paired p %.3g, Holm %.3g; %s", v.Variant, v.Verdict, v.Criterion, k.PPaired, k.PAdjusted, v.Detail)
		if k.Method == "paired-t" && k.PAdjusted < k.PPaired {
			t.Errorf("%s: Holm-adjusted p %.3g below the raw %.3g", v.Variant, k.PAdjusted, k.PPaired)
		}
		if v.InputIdentical != v.Intervals || v.CriticalRetentionPct != 100 || k.CandidateMean >= k.BaselineMean {
			t.Errorf("%s: %+v", v.Variant, v)
		}
		if v.Verdict != api.VerdictPromote {
			t.Errorf("%s: %s (%s)", v.Variant, v.Verdict, v.Criterion)
		}
	}
	waitLong(t, "host back after the three-variant experiment", 2*time.Minute, func() (bool, string) {
		h := st.hostStatus()
		return h.ReportedHash == before && h.Status == api.StatusApplied, h.Status
	})

	c.must("experiment", "create", "guard", "--hosts", host, "--candidate", "process-topk-v1",
		"--param", "candidate.collection_interval=5s", "--param", `candidate.critical_processes=["^no-such-process$"]`, "--param", "candidate.k=1",
		"--duration", "10m", "--warmup", "0s", "--interval", "10s", "--start")
	waitLong(t, "guardrail", 3*time.Minute, func() (bool, string) {
		e := st.experiment("guard")
		return e.Status == api.ExperimentFailed, e.Status + " " + e.Reason
	})
	e := st.experiment("guard")
	t.Logf("guardrail: %s", e.Reason)
	if !strings.Contains(e.Reason, "guardrail") || !strings.Contains(e.Reason, "lost critical processes") {
		t.Fatalf("failure reason %q", e.Reason)
	}
	waitLong(t, "host back to its previous hash after the guardrail", 2*time.Minute, func() (bool, string) {
		h := st.hostStatus()
		return h.ReportedHash == before && h.Status == api.StatusApplied && h.Experiment == "", h.ReportedHash
	})
}
