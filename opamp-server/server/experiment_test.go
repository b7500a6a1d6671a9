package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// feeder writes an agent's own-metric points into the store as the ingest
// does, every 100 ms: per variant and stage, the cardinality figures the
// value function gives (ok=false: no point).
type feeder struct {
	mu    sync.Mutex
	st    store.Store
	value func(variant, stage, metric string) (float64, bool)
	// With proc set, the feeder also writes the CPU counters as the
	// cardinality processors and the collector count them: each variant's
	// processors take proc[variant] cores, each cardinality/out 0.01, and
	// the rest of the collector shared cores.
	proc   map[string]float64
	shared float64
}

func (f *feeder) setCPU(shared float64, proc map[string]float64) {
	f.mu.Lock()
	f.shared, f.proc = shared, proc
	f.mu.Unlock()
}

// to points the feeder at another store (a restarted server's).
func (f *feeder) to(st store.Store) {
	f.mu.Lock()
	f.st = st
	f.mu.Unlock()
}

func (f *feeder) set(v func(variant, stage, metric string) (float64, bool)) {
	f.mu.Lock()
	f.value = v
	f.mu.Unlock()
}

func startFeeder(t *testing.T, st store.Store, uid string, res []store.Resolution, variants ...string) *feeder {
	f := &feeder{st: st}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		last := time.Now()
		down, cons, total := map[string]float64{}, map[string]float64{}, 0.0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			f.mu.Lock()
			value, st, proc, shared := f.value, f.st, f.proc, f.shared
			f.mu.Unlock()
			now := time.Now()
			dt := now.Sub(last).Seconds()
			last = now
			if value == nil {
				continue
			}
			var pts []store.MetricPoint
			if proc != nil {
				total += shared * dt
				for _, v := range variants {
					const outCost = 0.01
					down[v] += (proc[v] + outCost) * dt
					cons[v] += outCost * dt
					total += (proc[v] + outCost) * dt
					pts = append(pts, store.MetricPoint{AgentUID: uid, Name: "phoenix.cardinality.downstream.cpu_time", Pipeline: "p", Stage: "input", Variant: v, Time: now, Value: down[v]},
						store.MetricPoint{AgentUID: uid, Name: "phoenix.cardinality.consume.cpu_time", Pipeline: "p", Stage: "output", Variant: v, Time: now, Value: cons[v]})
				}
				pts = append(pts, store.MetricPoint{AgentUID: uid, Name: "otelcol_process_cpu_seconds", Time: now, Value: total},
					store.MetricPoint{AgentUID: uid, Name: "otelcol_process_memory_rss", Time: now, Value: 80e6})
			}
			for _, v := range variants {
				for _, stage := range []string{"input", "output"} {
					for _, m := range []string{"phoenix.cardinality.series", "phoenix.cardinality.datapoints", "phoenix.cardinality.processes", "phoenix.cardinality.critical_processes"} {
						if x, ok := value(v, stage, m); ok {
							pts = append(pts, store.MetricPoint{AgentUID: uid, Name: m, Pipeline: "p", Stage: stage, Variant: v, Time: now, Value: x})
						}
					}
				}
			}
			_ = st.WriteMetrics(ctx, pts, res)
		}
	}()
	return f
}

// fleetLike gives realistic figures: the input is the same for every
// variant (one receiver); each variant's output is its own share of it,
// with the interval's noise; critical processes are kept unless lose says
// otherwise.
func fleetLike(seed uint64, share map[string]float64, lose map[string]bool) func(variant, stage, metric string) (float64, bool) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	var input float64
	var at time.Time
	return func(variant, stage, metric string) (float64, bool) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) > 90*time.Millisecond {
			input, at = 700+rng.NormFloat64()*20, time.Now()
		}
		switch {
		case metric == "phoenix.cardinality.critical_processes" && stage == "output" && lose[variant]:
			return 4, true
		case metric == "phoenix.cardinality.critical_processes":
			return 5, true
		case metric == "phoenix.cardinality.processes":
			return 100, true
		case stage == "input":
			return input, true
		}
		out := input * share[variant] * (1 + rng.NormFloat64()*0.01)
		if metric == "phoenix.cardinality.datapoints" {
			out *= 7
		}
		return out, true
	}
}

func getExp(t *testing.T, ts *testServer, name string) api.Experiment {
	t.Helper()
	code, raw := ts.call(t, "GET", "/api/v1/experiments/"+name, nil)
	if code != 200 {
		t.Fatalf("get experiment %s: %d %v", name, code, raw)
	}
	b, _ := json.Marshal(raw)
	var e api.Experiment
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func waitExp(t *testing.T, ts *testServer, name, status string) api.Experiment {
	t.Helper()
	var e api.Experiment
	eventually(t, "experiment "+name+" "+status, func() (bool, string) {
		e = getExp(t, ts, name)
		return e.Status == status, fmt.Sprintf("%s %s (%d samples)", e.Status, e.Reason, e.Samples)
	})
	return e
}

func hostHash(t *testing.T, ts *testServer, host string) (reported, status string) {
	_, h := ts.call(t, "GET", "/api/v1/hosts/"+host, nil)
	return str(h["reported_hash"]), str(h["status"])
}

func expBody(name, host string, extra map[string]any) map[string]any {
	b := map[string]any{
		"name":      name,
		"target":    map[string]any{"hosts": []string{host}},
		"candidate": map[string]any{"template": "process-aggregated-v1"},
		"duration":  "6s", "warmup": "0s", "interval": "1s",
		"criteria": map[string]any{"min_samples": 4},
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func experimentServer(t *testing.T) (*testServer, []store.Resolution) {
	cfg := newConfig(t)
	res := []store.Resolution{{Step: time.Second, Retention: time.Hour}}
	cfg.MetricResolutions = res
	return startServer(t, cfg), res
}

// Bad input: each a clear 4xx naming the field, and no state change.
func TestExperimentBadInput(t *testing.T) {
	ts, _ := experimentServer(t)
	ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	before, _ := hostHash(t, ts, "web-1")
	none := func() {
		t.Helper()
		if out := ts.mustCall(t, "GET", "/api/v1/experiments", nil, 200); len(out["experiments"].([]any)) != 0 {
			t.Fatalf("a refused create stored something: %v", out)
		}
	}
	for _, c := range []struct {
		body  map[string]any
		code  int
		field string
	}{
		{expBody("e1", "web-1", map[string]any{"candidate": map[string]any{"template": "no-such-template"}}), 422, "candidate.template"},
		{expBody("e1", "web-1", map[string]any{"candidate": map[string]any{"template": "process-topk-v1", "params": map[string]any{"nope": 1}}}), 422, "candidate.params.nope"},
		{expBody("e1", "web-1", map[string]any{"baseline": map[string]any{"template": "process-topk-v1", "params": map[string]any{"k": "many"}}}), 422, "baseline.params.k"},
		{expBody("e1", "web-1", map[string]any{"baseline": map[string]any{"template": "nope"}}), 422, "baseline.template"},
		{expBody("e1", "nobody", nil), 422, "target.hosts[0]"},
		{expBody("E 1", "web-1", nil), 422, "name"},
		{expBody("e1", "web-1", map[string]any{"interval": "soon"}), 422, "interval"},
		// Below the finest own-metrics resolution (1s here).
		{expBody("e1", "web-1", map[string]any{"interval": "500ms"}), 422, "interval"},
		{expBody("e1", "web-1", map[string]any{"candidates": []any{
			map[string]any{"template": "process-topk-v1"}, map[string]any{"template": "process-topk-v1"},
			map[string]any{"template": "process-topk-v1"}, map[string]any{"template": "process-topk-v1"}}}), 422, "candidates"},
	} {
		code, out := ts.call(t, "POST", "/api/v1/experiments", c.body)
		if code != c.code || out["field"] != c.field || str(out["detail"]) == "" {
			t.Errorf("%v: got %d field %v (%v), want %d field %s", c.body, code, out["field"], out["detail"], c.code, c.field)
		}
		none()
	}
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("e1", "web-1", map[string]any{"duration": "1h"}), 201)
	code, out := ts.call(t, "POST", "/api/v1/experiments", expBody("e1", "web-1", nil))
	if code != 409 || out["field"] != "name" {
		t.Fatalf("same name: %d %v", code, out)
	}
	ts.mustCall(t, "POST", "/api/v1/experiments/e1/start", nil, 200)
	// A host already in another experiment.
	code, out = ts.call(t, "POST", "/api/v1/experiments", expBody("e2", "web-1", nil))
	if code != 409 || out["conflicting_experiment"] != "e1" || out["field"] != "target" {
		t.Fatalf("host in another experiment: %d %v", code, out)
	}
	// Promote a variant that does not exist; before completion.
	code, out = ts.call(t, "POST", "/api/v1/experiments/e1/promote", map[string]any{"variant": "nope"})
	if code != 422 || out["field"] != "variant" || !strings.Contains(str(out["detail"]), "candidate") {
		t.Fatalf("promote missing variant: %d %v", code, out)
	}
	code, out = ts.call(t, "POST", "/api/v1/experiments/e1/promote", map[string]any{"variant": "candidate"})
	if code != 409 || out["field"] != "force" {
		t.Fatalf("promote before completion: %d %v", code, out)
	}
	// Delete a running experiment without confirmation.
	code, out = ts.call(t, "DELETE", "/api/v1/experiments/e1", nil)
	if code != 409 || out["field"] != "yes" {
		t.Fatalf("delete running: %d %v", code, out)
	}
	e := getExp(t, ts, "e1")
	if !e.Active() || e.Promoted != nil {
		t.Fatalf("a refused request changed the experiment: %+v", e)
	}
	if d := ts.mustCall(t, "GET", "/api/v1/deployments/web", nil, 200); num(d["version"]) != 1 {
		t.Fatalf("a refused promote changed the deployment: %v", d)
	}
	// Delete with force: the host returns to its config.
	ts.mustCall(t, "DELETE", "/api/v1/experiments/e1?force=true", nil, 200)
	eventually(t, "host back to its config", func() (bool, string) {
		h, st := hostHash(t, ts, "web-1")
		return h == before && st == api.StatusApplied, h + " " + st
	})
	ts.mustCall(t, "GET", "/api/v1/experiments/e1", nil, 404)
}

// The whole lifecycle on a real server and OpAMP agent: deploy, run,
// verdict, promote, then a second experiment stopped (the host returns to
// the same hash), a guardrail failure, and three variants with Holm.
func TestExperimentLifecycle(t *testing.T) {
	ts, res := experimentServer(t)
	ag := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	before, _ := hostHash(t, ts, "web-1")
	f := startFeeder(t, ts.Store(), ag.UID().String(), res, "baseline", "candidate", "candidate2")

	// 1. Baseline (the deployment) vs aggregated: a significant reduction.
	f.set(fleetLike(1, map[string]float64{"baseline": 1, "candidate": 0.224}, nil))
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("agg", "web-1", map[string]any{"start": true}), 201)
	e := waitExp(t, ts, "agg", api.ExperimentCompleted)
	var seen []string
	for _, tr := range e.Transitions {
		seen = append(seen, tr.Status)
		if tr.At.IsZero() {
			t.Fatalf("transition without time: %+v", tr)
		}
	}
	if strings.Join(seen, ",") != "pending,deploying,warming_up,running,completed" {
		t.Fatalf("transitions %v", seen)
	}
	if len(e.Verdicts) != 1 {
		t.Fatalf("verdicts %+v", e.Verdicts)
	}
	v := e.Verdicts[0]
	t.Logf("verdict: %s (%s): %s", v.Verdict, v.Criterion, v.Detail)
	if v.Verdict != api.VerdictPromote || !strings.HasPrefix(v.Criterion, "min_reduction") || v.ReductionPct < 70 || v.ReductionPct > 85 ||
		v.InputIdentical != v.Intervals || v.Intervals < 4 || v.CriticalRetentionPct != 100 || v.CandidateCostMonth >= v.BaselineCostMonth {
		t.Fatalf("verdict %+v", v)
	}
	cmp := ts.mustCall(t, "GET", "/api/v1/experiments/agg/compare", nil, 200)
	if len(cmp["series"].([]any)) == 0 {
		t.Fatalf("compare without series: %v", cmp)
	}
	// Promote: a new version of the host's deployment with the candidate.
	ts.mustCall(t, "POST", "/api/v1/experiments/agg/promote", map[string]any{"variant": "candidate"}, 200)
	d := ts.mustCall(t, "GET", "/api/v1/deployments/web", nil, 200)
	if num(d["version"]) != 2 || d["template"] != "process-aggregated-v1" {
		t.Fatalf("promoted deployment %v", d)
	}
	// The new version reaches the host through its rollout (admitted just
	// after the write): until then the host is "applied" on the old hash.
	var promoted string
	eventually(t, "web-1 applied with the promoted config", func() (bool, string) {
		h, st := hostHash(t, ts, "web-1")
		promoted = h
		return st == api.StatusApplied && h != before, fmt.Sprintf("status %s, hash %s (before the promotion %s)", st, h, before)
	})

	// 2. A second experiment, stopped: the host returns to the same hash.
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("stop-me", "web-1", map[string]any{"duration": "1h", "start": true,
		"baseline": map[string]any{"template": "process-baseline-v1"}, "candidate": map[string]any{"template": "process-topk-v1"}}), 201)
	e = waitExp(t, ts, "stop-me", api.ExperimentRunning)
	if e.Hosts[0].PreviousHash != promoted || e.Hosts[0].ExperimentHash == promoted {
		t.Fatalf("hosts %+v, promoted %s", e.Hosts, promoted)
	}
	ts.mustCall(t, "POST", "/api/v1/experiments/stop-me/stop", nil, 200)
	eventually(t, "host back to the promoted hash", func() (bool, string) {
		h, st := hostHash(t, ts, "web-1")
		return h == promoted && st == api.StatusApplied, h + " " + st
	})

	// 3. Guardrail: a candidate that drops a critical process fails it.
	f.set(fleetLike(2, map[string]float64{"baseline": 1, "candidate": 0.2}, map[string]bool{"candidate": true}))
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("guard", "web-1", map[string]any{"start": true}), 201)
	e = waitExp(t, ts, "guard", api.ExperimentFailed)
	if !strings.Contains(e.Reason, "guardrail") || !strings.Contains(e.Reason, "kept 4 of 5") {
		t.Fatalf("failure reason %q", e.Reason)
	}
	eventually(t, "host back after the guardrail", func() (bool, string) {
		h, st := hostHash(t, ts, "web-1")
		return h == promoted && st == api.StatusApplied, h + " " + st
	})

	// 4. Three variants: a clear winner and one that barely differs.
	f.set(fleetLike(3, map[string]float64{"baseline": 1, "candidate": 0.25, "candidate2": 0.995}, nil))
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("three", "web-1", map[string]any{"start": true, "duration": "8s",
		"baseline":   map[string]any{"template": "process-baseline-v1"},
		"candidate":  map[string]any{"template": "process-topk-v1"},
		"candidates": []any{map[string]any{"template": "process-aggregated-v1"}}}), 201)
	e = waitExp(t, ts, "three", api.ExperimentCompleted)
	if len(e.Verdicts) != 2 {
		t.Fatalf("verdicts %+v", e.Verdicts)
	}
	for _, v := range e.Verdicts {
		t.Logf("%s: %s (%s) p_paired=%.3g p_adjusted=%.3g", v.Variant, v.Verdict, v.Criterion, v.KPIs[0].PPaired, v.KPIs[0].PAdjusted)
		if v.KPIs[0].PAdjusted < v.KPIs[0].PPaired && v.KPIs[0].Method == "paired-t" {
			t.Errorf("%s: Holm-adjusted p %.3g below the raw %.3g", v.Variant, v.KPIs[0].PAdjusted, v.KPIs[0].PPaired)
		}
	}
	if e.Verdicts[0].Verdict != api.VerdictPromote || e.Verdicts[1].Verdict == api.VerdictPromote {
		t.Fatalf("three-variant verdicts %+v", e.Verdicts)
	}
	_ = server.ConfigFileName
}

// The CPU criterion end to end through the store: a candidate whose
// processors take 0.30 cores against the baseline's 0.02 (0.2 cores of the
// collector shared, 0.01 per cardinality/out) is estimated at 0.52 cores
// alone against the baseline's 0.24 (+117%): rejected, named
// max_cpu_increase; one taking 0.03 cores (+4%) is promoted. compare also
// gives the collector's CPU and memory before and during.
func TestExperimentCPUCriterion(t *testing.T) {
	ts, res := experimentServer(t)
	ag := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	f := startFeeder(t, ts.Store(), ag.UID().String(), res, "baseline", "candidate")
	f.set(fleetLike(4, map[string]float64{"baseline": 1, "candidate": 0.25}, nil))
	f.setCPU(0.2, map[string]float64{"baseline": 0.02, "candidate": 0.30})
	time.Sleep(3 * time.Second) // figures from before the experiment
	body := func(name string) map[string]any {
		return expBody(name, "web-1", map[string]any{"start": true, "duration": "8s",
			"baseline": map[string]any{"template": "process-baseline-v1"}})
	}
	ts.mustCall(t, "POST", "/api/v1/experiments", body("heavy"), 201)
	e := waitExp(t, ts, "heavy", api.ExperimentCompleted)
	v := e.Verdicts[0]
	t.Logf("heavy: %s (%s): %s", v.Verdict, v.Criterion, v.Detail)
	if v.Verdict != api.VerdictReject || !strings.HasPrefix(v.Criterion, "max_cpu_increase") || !v.CPUMeasured || v.CPUIncreasePct < 95 || v.CPUIncreasePct > 130 {
		t.Fatalf("heavy candidate: %+v", v)
	}
	code, raw := ts.call(t, "GET", "/api/v1/experiments/heavy/compare", nil)
	b, _ := json.Marshal(raw)
	var cmp api.Comparison
	if err := json.Unmarshal(b, &cmp); code != 200 || err != nil {
		t.Fatalf("compare %d %v", code, err)
	}
	t.Logf("collector: %+v", cmp.Collector)
	if len(cmp.Collector) != 2 || cmp.Collector[0].BeforeN == 0 || cmp.Collector[0].DuringMean < 0.4 || cmp.Collector[1].DuringMean != 80e6 {
		t.Fatalf("collector before/during: %+v", cmp.Collector)
	}

	f.setCPU(0.2, map[string]float64{"baseline": 0.02, "candidate": 0.03})
	ts.mustCall(t, "POST", "/api/v1/experiments", body("light"), 201)
	e = waitExp(t, ts, "light", api.ExperimentCompleted)
	v = e.Verdicts[0]
	t.Logf("light: %s (%s): %s", v.Verdict, v.Criterion, v.Detail)
	if v.Verdict != api.VerdictPromote || !v.CPUMeasured || v.CPUIncreasePct > 15 {
		t.Fatalf("light candidate: %+v", v)
	}
}

// An experiment's load simulation: a synthetic job on each host while it
// runs; the loadgen receiver feeds every variant; stop ends the job and the
// host returns to its previous config.
func TestExperimentWithLoadSim(t *testing.T) {
	ts, _ := experimentServer(t)
	ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	before, _ := hostHash(t, ts, "web-1")
	code, out := ts.call(t, "POST", "/api/v1/experiments", expBody("ls", "web-1", map[string]any{"load_sim": map[string]any{"profile": "nope"}}))
	if code != 422 || out["field"] != "load_sim.profile" {
		t.Fatalf("bad profile: %d %v", code, out)
	}
	code, out = ts.call(t, "POST", "/api/v1/experiments", expBody("ls", "web-1", map[string]any{"load_sim": map[string]any{"profile": "realistic", "process_count": 20}}))
	if code != 422 || out["field"] != "load_sim.process_count" {
		t.Fatalf("bad process count: %d %v", code, out)
	}
	ts.mustCall(t, "GET", "/api/v1/experiments/ls", nil, 404)
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("ls", "web-1", map[string]any{"duration": "1h", "start": true,
		"load_sim": map[string]any{"profile": "realistic", "process_count": 60, "seed": 7}}), 201)
	e := waitExp(t, ts, "ls", api.ExperimentRunning)
	job := e.Hosts[0].LoadJob
	if job == "" {
		t.Fatalf("no load job: %+v", e.Hosts)
	}
	j := ts.mustCall(t, "GET", "/api/v1/loadsim/jobs/"+job, nil, 200)
	if j["status"] != "running" && j["status"] != "pending" {
		t.Fatalf("load job %v", j)
	}
	hc := ts.mustCall(t, "GET", "/api/v1/hosts/web-1/config", nil, 200)
	y := str(hc["desired"].(map[string]any)["yaml"])
	if !strings.Contains(y, "loadgen") || !strings.Contains(y, "metrics/baseline") || !strings.Contains(y, "metrics/candidate") {
		t.Fatalf("desired config lacks the load or a variant:\n%s", y)
	}
	ts.mustCall(t, "POST", "/api/v1/experiments/ls/stop", nil, 200)
	eventually(t, "load job stopped", func() (bool, string) {
		j := ts.mustCall(t, "GET", "/api/v1/loadsim/jobs/"+job, nil, 200)
		return j["status"] == "stopped" || j["status"] == "finished", fmt.Sprint(j["status"])
	})
	eventually(t, "host back to its config", func() (bool, string) {
		h, st := hostHash(t, ts, "web-1")
		return h == before && st == api.StatusApplied, h + " " + st
	})
}

// Guardrail: a collector that fails on the experiment's config fails the
// experiment at once with the collector's error; the host keeps (and is
// desired at) the config it ran before.
func TestExperimentCollectorFailureGuardrail(t *testing.T) {
	ts, _ := experimentServer(t)
	ts.agent(t, "web-1", nil, func(o *agentsim.Options) {
		o.Fail = func(body []byte) string {
			if strings.Contains(string(body), "metrics/candidate") {
				return "cannot start pipeline metrics/candidate: processor topk/candidate: out of cheese"
			}
			return ""
		}
		o.Rollback = true
	})
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	before, _ := hostHash(t, ts, "web-1")
	ts.mustCall(t, "POST", "/api/v1/experiments", expBody("bad", "web-1", map[string]any{"duration": "1h", "start": true}), 201)
	e := waitExp(t, ts, "bad", api.ExperimentFailed)
	if !strings.Contains(e.Reason, "out of cheese") || !strings.Contains(e.Reason, "web-1") {
		t.Fatalf("failure reason %q", e.Reason)
	}
	eventually(t, "host on its previous config", func() (bool, string) {
		h, st := hostHash(t, ts, "web-1")
		_, hs := ts.call(t, "GET", "/api/v1/hosts/web-1", nil)
		return h == before && st == api.StatusApplied && str(hs["desired_hash"]) == before, h + " " + st
	})
}
