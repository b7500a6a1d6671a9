package experiment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// The manager's promises tested on the package itself (the server's
// integration tests cover them over OpAMP too, but a mutation tester runs
// only this package's tests): the request guards of Create, the lifecycle
// deploying -> warming up -> running -> completed on a real SQLite store
// and an injected clock, the guardrail, stop, delete and promote.
//
// The file's name sorts first on purpose: go test runs the files in name
// order and gremlins runs them with -failfast, so these fast tests decide
// most mutants before the slow statistical ones (cpu_test.go) run.

// fakeLoad records the load simulations started and stopped.
type fakeLoad struct {
	mu       sync.Mutex
	started  []string // hosts
	stopped  []string // jobs
	failHost string   // StartLoad fails for this host
	checkErr error
}

func (l *fakeLoad) CheckLoad(api.ExperimentLoad) error { return l.checkErr }

func (l *fakeLoad) StartLoad(_ context.Context, host string, _ api.ExperimentLoad) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if host == l.failHost {
		return "", errors.New("no load for " + host)
	}
	l.started = append(l.started, host)
	return "job-" + host, nil
}

func (l *fakeLoad) StopLoad(_ context.Context, job string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = append(l.stopped, job)
	return nil
}

func (l *fakeLoad) stops() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.stopped)
	sort.Strings(out)
	return out
}

type fixture struct {
	ctx     context.Context
	st      store.Store
	deps    *deployment.Service
	m       *Manager
	load    *fakeLoad
	now     time.Time
	changed [][]string // HostsChanged calls
}

const topk = pipelines.TemplateTopK

func topkVariant(k int) *api.Variant {
	return &api.Variant{Template: topk, Params: map[string]any{"k": float64(k)}}
}

// newFixture: a SQLite store with agents agent-0.. on host-0.. (label
// env=test), a deployment service whose experiment layer is the manager's,
// and a 1-minute finest resolution.
func newFixture(t *testing.T, hosts int) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{ctx: ctx, st: st, deps: deployment.New(st, time.Minute), load: &fakeLoad{},
		now: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)}
	f.m = New(Config{Store: st, Deployments: f.deps, Holder: "test", MinInterval: time.Minute, Load: f.load,
		Now:          func() time.Time { return f.now },
		HostsChanged: func(_ context.Context, h []string) { f.changed = append(f.changed, slices.Clone(h)) }})
	f.deps.SetLayers(f.m.Layer())
	for i := range hosts {
		f.agent(t, i, func(*store.Agent) {})
	}
	return f
}

// agent writes agent-i of host-i, changed by edit.
func (f *fixture) agent(t *testing.T, i int, edit func(a *store.Agent)) {
	t.Helper()
	uid := fmt.Sprintf("agent-%d", i)
	a, err := f.st.GetAgent(f.ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		a = store.Agent{InstanceUID: uid, HostName: fmt.Sprintf("host-%d", i), Labels: map[string]string{"env": "test"},
			Connected: true, FirstSeen: f.now, LastSeen: f.now, RemoteStatus: store.RemoteApplied, RemoteHash: fmt.Sprintf("before-%d", i)}
	} else if err != nil {
		t.Fatal(err)
	}
	edit(&a)
	if err := f.st.UpsertAgent(f.ctx, a, false); err != nil {
		t.Fatal(err)
	}
}

// applyAll makes every agent report the config the server wants for it.
func (f *fixture) applyAll(t *testing.T, hosts int) {
	t.Helper()
	for i := range hosts {
		f.agent(t, i, func(a *store.Agent) {
			a.RemoteHash, a.RemoteStatus = f.deps.Desired(a.HostName, a.Labels).Hash, store.RemoteApplied
		})
	}
}

func (f *fixture) get(t *testing.T, name string) api.Experiment {
	t.Helper()
	e, err := f.m.Get(f.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) advance(t *testing.T, name string) api.Experiment {
	t.Helper()
	if err := f.m.advance(f.ctx, name); err != nil {
		t.Fatal(err)
	}
	return f.get(t, name)
}

// request is a valid request on host-0 with a template baseline (no
// deployment needed).
func request(name string) api.ExperimentRequest {
	return api.ExperimentRequest{Name: name, Target: api.Target{Hosts: []string{"host-0"}},
		Baseline: &api.Variant{Template: topk, Params: map[string]any{"k": float64(20)}}, Candidate: topkVariant(5),
		Duration: "3m", Warmup: "0s", Interval: "1m"}
}

func invalidField(err error) string {
	var inv *domainerr.Invalid
	if errors.As(err, &inv) {
		return inv.Field
	}
	return ""
}

func isConflict(err error) bool {
	var c *domainerr.Conflict
	return errors.As(err, &c)
}

// rawVariant is a user's own pipeline as an experiment variant
// (pipelines' raw_test.go has its like).
const rawVariant = `receivers:
  host_metrics:
    collection_interval: 10s
    scrapers:
      process:
        mute_process_all_errors: true
processors:
  batch:
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [host_metrics]
      processors: [batch]
      exporters: [debug]
`

// rawTwoPipelines is valid YAML of a config but not one variant.
var rawTwoPipelines = strings.Replace(rawVariant, "service:\n  pipelines:\n",
	"service:\n  pipelines:\n    metrics/second:\n      receivers: [host_metrics]\n      exporters: [debug]\n", 1)

// TestCreateRefuses: every guard of Create names its field, at its
// boundary, and stores nothing.
func TestCreateRefuses(t *testing.T) {
	f := newFixture(t, 2)
	five := []api.Variant{*topkVariant(1), *topkVariant(2), *topkVariant(3), *topkVariant(4), *topkVariant(5)}
	for i := range five {
		five[i].Name = fmt.Sprintf("c%d", i)
	}
	cases := []struct {
		name  string
		edit  func(r *api.ExperimentRequest)
		field string
	}{
		{"bad name", func(r *api.ExperimentRequest) { r.Name = "Not A Name" }, "name"},
		{"bad target host", func(r *api.ExperimentRequest) { r.Target.Hosts = []string{"bad host!"} }, "target.hosts[0]"},
		{"baseline renamed", func(r *api.ExperimentRequest) { r.Baseline.Name = "mine" }, "baseline.name"},
		{"baseline without template", func(r *api.ExperimentRequest) { r.Baseline = &api.Variant{Name: "baseline"} }, "baseline.template"},
		{"no candidate", func(r *api.ExperimentRequest) { r.Candidate = nil }, "candidate"},
		{"five candidates", func(r *api.ExperimentRequest) { r.Candidate, r.Candidates = nil, five }, "candidates"},
		{"four plus the first", func(r *api.ExperimentRequest) { r.Candidates = five[:4] }, "candidates"},
		{"candidate named baseline", func(r *api.ExperimentRequest) { r.Candidate.Name = "baseline" }, "candidate.name"},
		{"second candidate taken", func(r *api.ExperimentRequest) {
			r.Candidates = []api.Variant{{Name: "candidate", Template: topk}}
		}, "candidates[0].name"},
		{"list candidate taken", func(r *api.ExperimentRequest) {
			r.Candidate, r.Candidates = nil, []api.Variant{*topkVariant(1), {Name: "candidate", Template: topk}}
		}, "candidates[1].name"},
		{"candidate not a label", func(r *api.ExperimentRequest) { r.Candidate.Name = "Big" }, "candidate.name"},
		{"candidate without template", func(r *api.ExperimentRequest) { r.Candidate = &api.Variant{} }, "candidate.template"},
		{"candidate template and config", func(r *api.ExperimentRequest) {
			r.Candidate = &api.Variant{Template: topk, Config: "receivers: {}"}
		}, "candidate.config"},
		{"candidate params and config", func(r *api.ExperimentRequest) {
			r.Candidate = &api.Variant{Params: map[string]any{"k": 1.0}, Config: "receivers: {}"}
		}, "candidate.config"},
		{"raw candidate not YAML", func(r *api.ExperimentRequest) { r.Candidate = &api.Variant{Config: "receivers: ["} }, "candidate.config"},
		{"raw candidate of two pipelines", func(r *api.ExperimentRequest) { r.Candidate = &api.Variant{Config: rawTwoPipelines} }, "candidate.config"},
		{"bad duration", func(r *api.ExperimentRequest) { r.Duration = "soon" }, "duration"},
		{"zero duration", func(r *api.ExperimentRequest) { r.Duration = "0s" }, "duration"},
		{"negative warmup", func(r *api.ExperimentRequest) { r.Warmup = "-1s" }, "warmup"},
		{"bad interval", func(r *api.ExperimentRequest) { r.Interval = "-1m" }, "interval"},
		{"interval below the resolution", func(r *api.ExperimentRequest) { r.Interval = "59s" }, "interval"},
		{"interval beyond the duration", func(r *api.ExperimentRequest) { r.Interval = "3m1s" }, "interval"},
		{"critical retention", func(r *api.ExperimentRequest) { r.Criteria.CriticalRetentionPct = 99 }, "criteria.critical_retention_pct"},
		{"alpha 0.5", func(r *api.ExperimentRequest) { r.Criteria.Alpha = 0.5 }, "criteria.alpha"},
		{"negative alpha", func(r *api.ExperimentRequest) { r.Criteria.Alpha = -0.01 }, "criteria.alpha"},
		{"two samples", func(r *api.ExperimentRequest) { r.Criteria.MinSamples = 2 }, "criteria.min_samples"},
		{"reduction over 100", func(r *api.ExperimentRequest) { r.Criteria.MinReductionPct = 100.5 }, "criteria.min_reduction_pct"},
		{"negative reduction", func(r *api.ExperimentRequest) { r.Criteria.MinReductionPct = -0.5 }, "criteria.min_reduction_pct"},
		{"negative data point price", func(r *api.ExperimentRequest) { r.Prices.PerMillionDataPoints = -1 }, "prices"},
		{"negative series price", func(r *api.ExperimentRequest) { r.Prices.PerActiveSeries = -1 }, "prices"},
		{"load profile", func(r *api.ExperimentRequest) { r.LoadSim = &api.ExperimentLoad{Profile: "busy"} }, "load_sim.profile"},
		{"negative process count", func(r *api.ExperimentRequest) {
			r.LoadSim = &api.ExperimentLoad{Profile: "realistic", ProcessCount: -1}
		}, "load_sim"},
		{"negative churn", func(r *api.ExperimentRequest) {
			r.LoadSim = &api.ExperimentLoad{Profile: "process-churn", ChurnRate: -0.5}
		}, "load_sim"},
		{"unknown host", func(r *api.ExperimentRequest) { r.Target.Hosts = []string{"host-0", "host-9"} }, "target.hosts[1]"},
		{"selector matching nothing", func(r *api.ExperimentRequest) {
			r.Target = api.Target{Selector: map[string]string{"env": "prod"}}
		}, "target"},
		{"own deployment baseline on a host without one", func(r *api.ExperimentRequest) { r.Baseline = nil }, "baseline"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := request("refused")
			c.edit(&req)
			_, err := f.m.Create(f.ctx, req)
			if got := invalidField(err); got != c.field {
				t.Fatalf("err %v (field %q), want an invalid %q", err, got, c.field)
			}
			if _, err := f.m.Get(f.ctx, "refused"); err == nil {
				t.Fatal("a refused experiment was stored")
			}
		})
	}
	// The load simulator's own check speaks for load_sim; a server without
	// one refuses any load_sim.
	f.load.checkErr = domainerr.Invalidf("load_sim.seed", "no")
	req := request("refused")
	req.LoadSim = &api.ExperimentLoad{Profile: "high-cardinality"}
	if _, err := f.m.Create(f.ctx, req); invalidField(err) != "load_sim.seed" {
		t.Errorf("load check: %v", err)
	}
	f.m.cfg.Load = nil
	if _, err := f.m.Create(f.ctx, req); invalidField(err) != "load_sim" || !strings.Contains(err.Error(), "no load simulations") {
		t.Errorf("no load simulator: %v", err)
	}
}

// TestCreateAccepts: the boundaries a guard must let through, the
// defaults filled in, and the names given to unnamed candidates.
func TestCreateAccepts(t *testing.T) {
	f := newFixture(t, 2)
	for i, edit := range []func(r *api.ExperimentRequest){
		func(r *api.ExperimentRequest) { r.Interval = "3m" }, // interval = duration
		func(r *api.ExperimentRequest) { r.Interval = "1m"; r.Warmup = "0" },
		func(r *api.ExperimentRequest) { r.Criteria.MinSamples = 3 },
		func(r *api.ExperimentRequest) { r.Criteria.MinReductionPct = 100 },
		func(r *api.ExperimentRequest) { r.Criteria.Alpha = 0.49 },
		func(r *api.ExperimentRequest) { r.Criteria.CriticalRetentionPct = 100 },
		func(r *api.ExperimentRequest) {
			r.Candidates = []api.Variant{*topkVariant(1), *topkVariant(2), *topkVariant(3)}
		}, // 4 in all
		func(r *api.ExperimentRequest) { r.LoadSim = &api.ExperimentLoad{Profile: "process-churn"} },
		func(r *api.ExperimentRequest) { r.Baseline.Name = "baseline" },
		func(r *api.ExperimentRequest) { r.Candidate = &api.Variant{Config: rawVariant} },
	} {
		req := request(fmt.Sprintf("ok-%d", i))
		req.Target.Hosts = []string{fmt.Sprintf("host-%d", i%2)}
		edit(&req)
		e, err := f.m.Create(f.ctx, req)
		if err != nil {
			t.Fatalf("request %d refused: %v", i, err)
		}
		if e.Status != api.ExperimentPending || f.get(t, e.Name).Status != api.ExperimentPending {
			t.Errorf("request %d: status %s, want pending, stored", i, e.Status)
		}
		if err := f.m.Delete(f.ctx, e.Name, true); err != nil {
			t.Fatal(err)
		}
	}
	req := request("defaults")
	req.Duration, req.Warmup, req.Interval = "", "", ""
	req.Candidate, req.Candidates = nil, []api.Variant{*topkVariant(1), *topkVariant(2), {Name: "third", Template: topk}}
	req.Target = api.Target{Selector: map[string]string{"env": "test"}}
	e, err := f.m.Create(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range e.Variants {
		names = append(names, v.Name)
	}
	if got := strings.Join(names, ","); got != "baseline,candidate,candidate2,third" {
		t.Errorf("variants %s", got)
	}
	if e.Duration != "30m0s" || e.Warmup != "1m0s" || e.Interval != "1m0s" {
		t.Errorf("durations %s %s %s, want the defaults", e.Duration, e.Warmup, e.Interval)
	}
	want := api.Criteria{MinReductionPct: DefaultMinReductionPct, MaxCPUIncreasePct: DefaultMaxCPUIncreasePct, CriticalRetentionPct: 100, Alpha: DefaultAlpha, MinSamples: DefaultMinSamples}
	if e.Criteria != want {
		t.Errorf("criteria %+v, want %+v", e.Criteria, want)
	}
	if e.Prices != (api.Prices{PerMillionDataPoints: DefaultPricePerMillionDataPoints, PerActiveSeries: DefaultPricePerActiveSeries, Currency: "USD"}) {
		t.Errorf("prices %+v", e.Prices)
	}
	if len(e.Hosts) != 2 || e.Hosts[0].Host != "host-0" || e.Hosts[1].Host != "host-1" || e.Hosts[1].AgentUID != "agent-1" {
		t.Errorf("hosts %+v: want host-0, host-1 (the selector's, sorted) with their agents", e.Hosts)
	}
	if len(e.Transitions) != 1 || e.Transitions[0].Status != api.ExperimentPending || e.Transitions[0].By != "test" || !e.Transitions[0].At.Equal(f.now) {
		t.Errorf("transitions %+v", e.Transitions)
	}
	// The same name again, and a host another experiment holds.
	if _, err := f.m.Create(f.ctx, req); !isConflict(err) {
		t.Errorf("same name: %v, want a conflict", err)
	}
	other := request("other")
	other.Target.Hosts = []string{"host-1"}
	_, err = f.m.Create(f.ctx, other)
	var c *domainerr.Conflict
	if !errors.As(err, &c) || c.Extra["conflicting_experiment"] != "defaults" || c.Extra["host"] != "host-1" {
		t.Errorf("host held by another experiment: %v", err)
	}
	// Once that one is over, its hosts are free.
	if _, err := f.m.Stop(f.ctx, "defaults"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Create(f.ctx, other); err != nil {
		t.Errorf("host of a stopped experiment: %v", err)
	}
	list, err := f.m.List(f.ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %d %v", len(list), err)
	}
}

// TestLifecycle: create and start on two hosts with a load simulation,
// deploying until every host applied the experiment's config, warming up,
// running at the next minute boundary, three intervals collected, and
// completed with a verdict; the hosts are told at each change.
func TestLifecycle(t *testing.T) {
	f := newFixture(t, 2)
	if _, err := f.deps.Create(f.ctx, "web", store.DeploymentSpec{Template: topk, Params: map[string]any{"k": float64(30)},
		Destination: store.Destination{Type: "debug"}, Target: store.Target{Hosts: []string{"host-0", "host-1"}}}); err != nil {
		t.Fatal(err)
	}
	// host-1 runs a config it failed to apply: its previous config is the
	// deployment's.
	f.agent(t, 1, func(a *store.Agent) { a.RemoteStatus = store.RemoteFailed })
	base1 := f.deps.Desired("host-1", map[string]string{"env": "test"}).Hash
	req := api.ExperimentRequest{Name: "life", Target: api.Target{Hosts: []string{"host-0", "host-1"}}, Candidate: topkVariant(5),
		Duration: "3m", Warmup: "0s", Interval: "1m", Criteria: api.Criteria{MinSamples: 3},
		LoadSim: &api.ExperimentLoad{Profile: "realistic"}, Start: true}
	e, err := f.m.Create(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != api.ExperimentDeploying {
		t.Fatalf("status %s, want deploying", e.Status)
	}
	h0, h1 := e.Hosts[0], e.Hosts[1]
	if h0.Deployment != "web" || h0.PreviousHash != "before-0" || h0.LoadJob != "job-host-0" || h1.PreviousHash != base1 || h1.LoadJob != "job-host-1" {
		t.Errorf("hosts %+v", e.Hosts)
	}
	if len(f.changed) != 1 || strings.Join(f.changed[0], ",") != "host-0,host-1" {
		t.Errorf("hosts changed %v", f.changed)
	}
	if _, err := f.m.Start(f.ctx, "life"); !isConflict(err) {
		t.Errorf("second start: %v, want a conflict", err)
	}
	// The experiment is in both hosts' desired state.
	want0 := f.deps.Desired("host-0", map[string]string{"env": "test"})
	if want0.Experiment != "life" || want0.Hash == "" || !strings.Contains(string(want0.YAML), "candidate") {
		t.Fatalf("host-0 desired %q %q", want0.Experiment, want0.Hash)
	}
	// Deploying until both hosts applied it.
	if e := f.advance(t, "life"); e.Status != api.ExperimentDeploying {
		t.Fatalf("nothing applied: %s", e.Status)
	}
	f.agent(t, 0, func(a *store.Agent) { a.RemoteHash = want0.Hash })
	f.agent(t, 1, func(a *store.Agent) { a.RemoteHash, a.RemoteStatus = want0.Hash, store.RemoteApplied }) // host-0's config, not its own
	if e := f.advance(t, "life"); e.Status != api.ExperimentDeploying {
		t.Fatalf("host-1 runs another config: %s", e.Status)
	}
	f.applyAll(t, 2)
	f.agent(t, 1, func(a *store.Agent) { a.RemoteStatus = store.RemoteApplying })
	if e := f.advance(t, "life"); e.Status != api.ExperimentDeploying {
		t.Fatalf("host-1 still applying: %s", e.Status)
	}
	f.applyAll(t, 2)
	f.now = f.now.Add(20 * time.Second)
	e = f.advance(t, "life")
	if e.Status != api.ExperimentWarmingUp || e.Reason != "all 2 host(s) applied the experiment's config" {
		t.Fatalf("status %s (%s), want warming up", e.Status, e.Reason)
	}
	for _, h := range e.Hosts {
		if h.Status != api.StatusApplied || h.ExperimentHash != f.deps.Desired(h.Host, map[string]string{"env": "test"}).Hash {
			t.Errorf("host %+v", h)
		}
	}
	warming := f.now
	cols := []*simCollector{
		{uid: "agent-0", start: warming.Add(-2 * time.Second), window: time.Minute, push: 10 * time.Second, exportLag: 200 * time.Millisecond},
		{uid: "agent-1", start: warming.Add(-4 * time.Second), window: time.Minute, push: 10 * time.Second, exportLag: 200 * time.Millisecond},
	}
	var running api.Experiment
	for end := warming.Add(15 * time.Minute); f.now.Before(end); f.now = f.now.Add(15 * time.Second) {
		for _, c := range cols {
			c.deliver(f.ctx, t, f.st, f.now)
		}
		e = f.advance(t, "life")
		if e.Status == api.ExperimentRunning && running.Status == "" {
			running = e
		}
		if e.Status == api.ExperimentCompleted {
			break
		}
	}
	if e.Status != api.ExperimentCompleted {
		t.Fatalf("status %s after 15 simulated minutes", e.Status)
	}
	if !strings.HasPrefix(running.Reason, "measured from ") || strings.Contains(running.Reason, "no window") {
		t.Errorf("running reason %q", running.Reason)
	}
	if e.Samples != 3 || len(e.Verdicts) != 1 || e.Verdicts[0].Variant != "candidate" {
		t.Fatalf("samples %d, verdicts %+v", e.Samples, e.Verdicts)
	}
	v := e.Verdicts[0]
	if want := "candidate: " + v.Verdict + " (" + v.Criterion + ")"; e.Reason != want {
		t.Errorf("completed reason %q, want %q", e.Reason, want)
	}
	if got := strings.Join(f.load.stops(), ","); got != "job-host-0,job-host-1" {
		t.Errorf("load jobs stopped: %s", got)
	}
	if last := f.changed[len(f.changed)-1]; len(f.changed) < 2 || strings.Join(last, ",") != "host-0,host-1" {
		t.Errorf("hosts changed %v", f.changed)
	}
	if d := f.deps.Desired("host-0", map[string]string{"env": "test"}); d.Experiment != "" {
		t.Errorf("a completed experiment still in the desired state: %q", d.Experiment)
	}
	// The before figures: none were pushed, none stored; the intervals 0..2.
	ss, err := f.st.ListExperimentSamples(f.ctx, "life")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, s := range ss {
		seen[s.Interval] = true
	}
	if len(seen) != 3 || !seen[0] || !seen[1] || !seen[2] {
		t.Errorf("intervals %v", seen)
	}
	cmp, err := f.m.Compare(f.ctx, "life")
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Experiment.Samples != 3 || len(cmp.Results) != 1 || cmp.Results[0].Verdict != v.Verdict || len(cmp.Series) == 0 {
		t.Errorf("comparison samples %d results %+v series %d", cmp.Experiment.Samples, cmp.Results, len(cmp.Series))
	}
	// Over: it cannot stop, deletes without force.
	if _, err := f.m.Stop(f.ctx, "life"); !isConflict(err) {
		t.Errorf("stop of a completed experiment: %v", err)
	}
	if err := f.m.Delete(f.ctx, "life", false); err != nil {
		t.Errorf("delete of a completed experiment: %v", err)
	}
	var nf *domainerr.NotFound
	if _, err := f.m.Get(f.ctx, "life"); !errors.As(err, &nf) {
		t.Errorf("get after delete: %v", err)
	}
	if err := f.m.Delete(f.ctx, "life", true); !errors.As(err, &nf) {
		t.Errorf("second delete: %v", err)
	}
}

// startOn creates and starts an experiment on host-0 (a template baseline).
func (f *fixture) startOn(t *testing.T, name string, edit func(r *api.ExperimentRequest)) api.Experiment {
	t.Helper()
	req := request(name)
	req.Start = true
	edit(&req)
	e, err := f.m.Create(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCollectorFailureFails: a collector that rejects the experiment's
// config fails it with the collector's error; its hosts go back and its
// load simulation stops.
func TestCollectorFailureFails(t *testing.T) {
	f := newFixture(t, 1)
	f.startOn(t, "bad", func(r *api.ExperimentRequest) { r.LoadSim = &api.ExperimentLoad{Profile: "realistic"} })
	// A failure of another config is not this experiment's.
	f.agent(t, 0, func(a *store.Agent) {
		a.FailedConfigs = map[string]store.FailedConfig{"other": {Error: "old", At: f.now}}
	})
	if e := f.advance(t, "bad"); e.Status != api.ExperimentDeploying {
		t.Fatalf("status %s", e.Status)
	}
	hash := f.deps.Desired("host-0", map[string]string{"env": "test"}).Hash
	f.agent(t, 0, func(a *store.Agent) { a.FailedConfigs[hash] = store.FailedConfig{Error: "boom", At: f.now} })
	n := len(f.changed)
	e := f.advance(t, "bad")
	if e.Status != api.ExperimentFailed || e.Reason != "host host-0: the collector failed on the experiment's config: boom" {
		t.Fatalf("status %s (%s)", e.Status, e.Reason)
	}
	if got := strings.Join(f.load.stops(), ","); got != "job-host-0" || len(f.changed) != n+1 {
		t.Errorf("stopped %s, hosts changed %v", got, f.changed)
	}
	if d := f.deps.Desired("host-0", nil); d.Experiment != "" {
		t.Errorf("a failed experiment still in the desired state")
	}
	// A failed experiment is not advanced, nor promoted.
	if e := f.advance(t, "bad"); e.Status != api.ExperimentFailed || len(e.Transitions) != 3 {
		t.Errorf("after failing: %s, %d transitions", e.Status, len(e.Transitions))
	}
	if _, err := f.m.Promote(f.ctx, "bad", api.PromoteRequest{Variant: "candidate", Force: true}); !isConflict(err) {
		t.Errorf("promote of a failed experiment: %v", err)
	}
}

// TestStartLoadFailureStartsNothing: one host's load simulation fails to
// start: the others' are stopped, a create-and-start leaves nothing.
func TestStartLoadFailureStartsNothing(t *testing.T) {
	f := newFixture(t, 2)
	f.load.failHost = "host-1"
	req := request("load")
	req.Target.Hosts = []string{"host-0", "host-1"}
	req.LoadSim, req.Start = &api.ExperimentLoad{Profile: "realistic"}, true
	if _, err := f.m.Create(f.ctx, req); err == nil || !strings.Contains(err.Error(), "no load for host-1") {
		t.Fatalf("err %v", err)
	}
	if got := strings.Join(f.load.stops(), ","); got != "job-host-0" {
		t.Errorf("stopped %q, want host-0's job", got)
	}
	if _, err := f.m.Get(f.ctx, "load"); err == nil {
		t.Error("a refused create-and-start left its experiment")
	}
	if d := f.deps.Desired("host-0", nil); d.Experiment != "" || len(f.changed) != 0 {
		t.Errorf("desired %q, hosts changed %v", d.Experiment, f.changed)
	}
}

// TestStopAndDelete: stop returns the hosts and ends the load; an active
// experiment is deleted only with force.
func TestStopAndDelete(t *testing.T) {
	f := newFixture(t, 2)
	f.startOn(t, "a", func(r *api.ExperimentRequest) { r.LoadSim = &api.ExperimentLoad{Profile: "realistic"} })
	e, err := f.m.Stop(f.ctx, "a")
	if err != nil || e.Status != api.ExperimentStopped || e.Reason != "stopped by request" {
		t.Fatalf("stop: %s %v", e.Status, err)
	}
	if got := strings.Join(f.load.stops(), ","); got != "job-host-0" || len(f.changed) != 2 || f.changed[1][0] != "host-0" {
		t.Errorf("stopped %q, changed %v", got, f.changed)
	}
	if d := f.deps.Desired("host-0", nil); d.Experiment != "" {
		t.Errorf("stopped experiment still desired")
	}
	f.startOn(t, "b", func(r *api.ExperimentRequest) { r.Target.Hosts = []string{"host-1"} })
	err = f.m.Delete(f.ctx, "b", false)
	var c *domainerr.Conflict
	if !errors.As(err, &c) || c.Field != "yes" {
		t.Fatalf("delete of an active experiment: %v", err)
	}
	if d := f.deps.Desired("host-1", nil); d.Experiment != "b" {
		t.Fatalf("a refused delete changed the desired state")
	}
	if err := f.m.Delete(f.ctx, "b", true); err != nil {
		t.Fatal(err)
	}
	if d := f.deps.Desired("host-1", nil); d.Experiment != "" {
		t.Errorf("deleted experiment still desired")
	}
	if last := f.changed[len(f.changed)-1]; len(last) != 1 || last[0] != "host-1" {
		t.Errorf("hosts changed %v", f.changed)
	}
	// A pending experiment is active too: it can be stopped.
	if _, err := f.m.Create(f.ctx, request("p")); err != nil {
		t.Fatal(err)
	}
	if e, err := f.m.Stop(f.ctx, "p"); err != nil || e.Status != api.ExperimentStopped {
		t.Errorf("stop pending: %v", err)
	}
	var nf *domainerr.NotFound
	if _, err := f.m.Stop(f.ctx, "nope"); !errors.As(err, &nf) {
		t.Errorf("stop of no experiment: %v", err)
	}
	if _, err := f.m.Start(f.ctx, "nope"); !errors.As(err, &nf) {
		t.Errorf("start of no experiment: %v", err)
	}
}

// TestPromote: the guards, then a promotion that updates the hosts'
// deployment (forced while running) and one that creates a deployment
// named after the experiment for hosts without one.
func TestPromote(t *testing.T) {
	f := newFixture(t, 2)
	if _, err := f.deps.Create(f.ctx, "web", store.DeploymentSpec{Template: topk, Params: map[string]any{"k": float64(30)},
		Destination: store.Destination{Type: "debug"}, Target: store.Target{Hosts: []string{"host-0"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Create(f.ctx, api.ExperimentRequest{Name: "own", Target: api.Target{Hosts: []string{"host-0"}}, Candidate: topkVariant(3), Duration: "3m", Interval: "1m"}); err != nil {
		t.Fatal(err)
	}
	promote := func(v string, force bool) (api.Experiment, error) {
		return f.m.Promote(f.ctx, "own", api.PromoteRequest{Variant: v, Force: force})
	}
	if _, err := promote("candidate", true); !isConflict(err) || !strings.Contains(err.Error(), "nothing measured") {
		t.Errorf("promote pending: %v", err)
	}
	if _, err := f.m.Start(f.ctx, "own"); err != nil {
		t.Fatal(err)
	}
	if _, err := promote("", false); invalidField(err) != "variant" {
		t.Errorf("no variant: %v", err)
	}
	_, err := promote("nope", false)
	var inv *domainerr.Invalid
	if !errors.As(err, &inv) || fmt.Sprint(inv.Extra["variants"]) != "[baseline candidate]" {
		t.Errorf("unknown variant: %v", err)
	}
	var c *domainerr.Conflict
	if _, err := promote("candidate", false); !errors.As(err, &c) || c.Field != "force" {
		t.Errorf("promote deploying without force: %v", err)
	}
	if _, err := promote("baseline", true); invalidField(err) != "variant" {
		t.Errorf("promote the hosts' own deployment: %v", err)
	}
	e, err := promote("candidate", true)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != api.ExperimentPromoted || e.Promoted == nil || *e.Promoted != (api.Promotion{Variant: "candidate", Deployment: "web", Version: 2, At: f.now, Forced: true}) {
		t.Fatalf("promoted %s %+v", e.Status, e.Promoted)
	}
	d, err := f.deps.Get(f.ctx, "web")
	if err != nil || d.Version != 2 || d.Current.Spec.Params["k"] != float64(3) || d.Current.Spec.Destination.Type != "debug" {
		t.Fatalf("web after promotion: %+v %v", d.Current.Spec, err)
	}
	if dd := f.deps.Desired("host-0", nil); dd.Experiment != "" || dd.Deployment != "web" || dd.Version != 2 {
		t.Errorf("desired after promotion: %+v", dd)
	}
	if _, err := promote("candidate", true); !isConflict(err) || !strings.Contains(err.Error(), "already promoted") {
		t.Errorf("second promotion: %v", err)
	}
	// host-1 has no deployment: a completed experiment's candidate becomes
	// a deployment named after it, unforced.
	f.startOn(t, "fresh", func(r *api.ExperimentRequest) { r.Target.Hosts = []string{"host-1"} })
	f.m.update(f.ctx, "fresh", func(r *record) error { f.m.transition(r, api.ExperimentCompleted, ""); return nil })
	e, err = f.m.Promote(f.ctx, "fresh", api.PromoteRequest{Variant: "candidate"})
	if err != nil {
		t.Fatal(err)
	}
	if *e.Promoted != (api.Promotion{Variant: "candidate", Deployment: "fresh", Version: 1, At: f.now}) {
		t.Errorf("promoted %+v", e.Promoted)
	}
	if !strings.Contains(e.Reason, "variant candidate is now deployment fresh version 1") {
		t.Errorf("reason %q", e.Reason)
	}
	if dd := f.deps.Desired("host-1", nil); dd.Deployment != "fresh" {
		t.Errorf("host-1 desired deployment %q", dd.Deployment)
	}
}

// TestTickAndLease: the tick is a quarter of the shortest active interval,
// at most a second and at least 50 ms, idleTick with nothing active
// (pending does not count); an experiment another replica holds the lease
// of is not advanced.
func TestTickAndLease(t *testing.T) {
	f := newFixture(t, 2)
	if got := f.m.Tick(f.ctx); got != idleTick {
		t.Errorf("no experiment: tick %s", got)
	}
	if _, err := f.m.Create(f.ctx, request("pending")); err != nil {
		t.Fatal(err)
	}
	if got := f.m.Tick(f.ctx); got != idleTick {
		t.Errorf("a pending experiment: tick %s", got)
	}
	f.m.cfg.MinInterval = 0
	put := func(name, iv string, host int) {
		r := &record{Experiment: api.Experiment{Name: name, Status: api.ExperimentDeploying, Interval: iv, Duration: "1h", Warmup: "0s",
			Variants:    []api.Variant{{Name: "baseline", Template: topk}, {Name: "candidate", Template: topk}},
			Hosts:       []api.ExperimentHost{{Host: fmt.Sprintf("host-%d", host), AgentUID: fmt.Sprintf("agent-%d", host)}},
			Transitions: []api.Transition{{Status: api.ExperimentDeploying, At: f.now}}}}
		if err := f.m.put(f.ctx, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	put("slow", "1h", 0)
	if got := f.m.Tick(f.ctx); got != time.Second {
		t.Errorf("1h interval: tick %s, want 1s", got)
	}
	put("fast", "2s", 1)
	if got := f.m.Tick(f.ctx); got != 500*time.Millisecond {
		t.Errorf("2s interval: tick %s, want 500ms", got)
	}
	if err := f.m.Delete(f.ctx, "fast", true); err != nil {
		t.Fatal(err)
	}
	put("faster", "100ms", 1)
	if got := f.m.Tick(f.ctx); got != 50*time.Millisecond {
		t.Errorf("100ms interval: tick %s, want 50ms", got)
	}
	// Both hosts applied: the next tick by the lease holder moves slow on.
	f.applyAll(t, 2)
	f.now = f.now.Add(leaseFor + time.Second) // this replica's leases ran out
	other := New(Config{Store: f.st, Deployments: f.deps, Holder: "other", Now: func() time.Time { return f.now }})
	if ok, err := f.st.LeaseExperiment(f.ctx, "slow", "other", f.now, f.now.Add(time.Minute)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	f.m.Tick(f.ctx)
	if e := f.get(t, "slow"); e.Status != api.ExperimentDeploying {
		t.Errorf("advanced without the lease: %s", e.Status)
	}
	other.Tick(f.ctx)
	if e := f.get(t, "slow"); e.Status != api.ExperimentWarmingUp {
		t.Errorf("lease holder's tick: %s, want warming up", e.Status)
	}
}

// TestReloadAndLayer: another replica sees a started experiment through
// Reload (the hosts whose experiment changed, once), renders it into
// their desired state, and lets go when it stops.
func TestReloadAndLayer(t *testing.T) {
	f := newFixture(t, 2)
	deps2 := deployment.New(f.st, time.Minute)
	m2 := New(Config{Store: f.st, Deployments: deps2, Holder: "two", MinInterval: time.Minute})
	deps2.SetLayers(m2.Layer())
	f.startOn(t, "seen", func(r *api.ExperimentRequest) { r.Target.Hosts = []string{"host-0", "host-1"} })
	changed, err := m2.Reload(f.ctx)
	sort.Strings(changed)
	if err != nil || strings.Join(changed, ",") != "host-0,host-1" {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if changed, _ := m2.Reload(f.ctx); len(changed) != 0 {
		t.Errorf("nothing changed, reload says %v", changed)
	}
	d1, d2 := f.deps.Desired("host-1", nil), deps2.Desired("host-1", nil)
	if d2.Experiment != "seen" || d2.Hash != d1.Hash || d2.Hash == "" {
		t.Errorf("replica two's desired %q %q, replica one's %q", d2.Experiment, d2.Hash, d1.Hash)
	}
	// A change of the record (revision) is a change for its hosts.
	if _, err := f.m.update(f.ctx, "seen", func(r *record) error { r.Reason = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	if changed, _ := m2.Reload(f.ctx); len(changed) != 2 {
		t.Errorf("a new revision: reload says %v", changed)
	}
	if _, err := f.m.Stop(f.ctx, "seen"); err != nil {
		t.Fatal(err)
	}
	changed, _ = m2.Reload(f.ctx)
	sort.Strings(changed)
	if strings.Join(changed, ",") != "host-0,host-1" || deps2.Desired("host-0", nil).Experiment != "" {
		t.Errorf("after stop: reload %v, desired %q", changed, deps2.Desired("host-0", nil).Experiment)
	}
	// A desired state that failed already is left alone.
	f.startOn(t, "again", func(*api.ExperimentRequest) {})
	d := f.m.applyLayer("host-0", nil, deployment.Desired{Err: "earlier"})
	if d.Experiment != "" || d.Err != "earlier" {
		t.Errorf("layer over an error: %+v", d)
	}
	if d := f.m.applyLayer("host-1", nil, deployment.Desired{}); d.Experiment != "" {
		t.Errorf("layer on a host of no experiment: %+v", d)
	}
}

// TestLayerRenderError: an experiment whose baseline is the host's
// deployment does not render once the host has none: the desired state
// says so. (advance does not fail it: its guardrail skips a host whose
// desired hash is empty before it reads Err; reported, not tested here.)
func TestLayerRenderError(t *testing.T) {
	f := newFixture(t, 1)
	if _, err := f.deps.Create(f.ctx, "web", store.DeploymentSpec{Template: topk, Params: map[string]any{"k": float64(30)},
		Destination: store.Destination{Type: "debug"}, Target: store.Target{Hosts: []string{"host-0"}}}); err != nil {
		t.Fatal(err)
	}
	f.startOn(t, "own", func(r *api.ExperimentRequest) { r.Baseline = nil })
	if err := f.deps.Delete(f.ctx, "web"); err != nil {
		t.Fatal(err)
	}
	d := f.deps.Desired("host-0", nil)
	if d.Experiment != "own" || !strings.Contains(d.Err, `experiment "own" does not render for host "host-0"`) {
		t.Fatalf("desired %+v", d)
	}
	// The guardrail fails the experiment with that error: it no longer
	// waits for ever in "deploying" for a config that cannot exist.
	if e := f.advance(t, "own"); e.Status != api.ExperimentFailed || !strings.Contains(e.Reason, `does not render for host "host-0"`) {
		t.Fatalf("an experiment whose config cannot render: %s (%s), want failed with the render error", e.Status, e.Reason)
	}
}

// TestRunFollowsChanges: Run tells the hosts of the active experiments at
// start, follows another replica's experiment changes (the hosts whose
// experiment changed, then the experiment published; a deleted one
// published as such), ignores other kinds of change, and returns when its
// context ends.
func TestRunFollowsChanges(t *testing.T) {
	f := newFixture(t, 2)
	f.startOn(t, "seen", func(*api.ExperimentRequest) {})
	hostsCh, pub := make(chan []string, 10), make(chan api.Experiment, 10)
	clock := f.now
	m2 := New(Config{Store: f.st, Deployments: deployment.New(f.st, time.Minute), Holder: "two", MinInterval: time.Minute,
		Now:          func() time.Time { return clock },
		HostsChanged: func(_ context.Context, h []string) { hostsCh <- slices.Clone(h) },
		Publish:      func(e api.Experiment) { pub <- e }})
	changes := make(chan store.Change)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { m2.Run(ctx, changes); close(done) }()
	wait := func(what string) {
		t.Helper()
		select {
		case h := <-hostsCh:
			if strings.Join(h, ",") != "host-0" {
				t.Fatalf("%s: hosts changed %v, want host-0", what, h)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no hosts changed within 10 s", what)
		}
	}
	published := func(what string) api.Experiment {
		t.Helper()
		select {
		case e := <-pub:
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing published within 10 s", what)
		}
		return api.Experiment{}
	}
	wait("at start")
	if _, err := f.m.Stop(f.ctx, "seen"); err != nil {
		t.Fatal(err)
	}
	// An agent's change is not an experiment's: no reload. The second send
	// returns once Run is back in its select, the first change handled.
	changes <- store.Change{Kind: store.ChangeAgent, Key: "agent-0"}
	changes <- store.Change{Kind: store.ChangeAgent, Key: "agent-1"}
	select {
	case h := <-hostsCh:
		t.Fatalf("an agent's change reloaded the experiments: hosts %v", h)
	default:
	}
	changes <- store.Change{Kind: store.ChangeExperiment, Key: "seen"}
	wait("stopped")
	if e := published("stopped"); e.Name != "seen" || e.Status != api.ExperimentStopped {
		t.Fatalf("published %s %s, want seen stopped", e.Name, e.Status)
	}
	changes <- store.Change{Kind: store.ChangeExperiment, Key: "never", Deleted: false} // unknown, not deleted: nothing
	changes <- store.Change{Kind: store.ChangeExperiment, Key: "gone", Deleted: true}
	if e := published("deleted"); e.Name != "gone" || e.Status != "deleted" {
		t.Fatalf("published %s %s, want gone deleted", e.Name, e.Status)
	}
	// A resync reloads too.
	f.startOn(t, "again", func(*api.ExperimentRequest) {})
	changes <- store.Change{Kind: store.ChangeResync}
	wait("resync")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of its context's end")
	}
	select {
	case e := <-pub:
		t.Errorf("a resync published %s", e.Name)
	default:
	}
}

// TestWarmupThenIntervalsOneLate: the measured phase starts once the
// warm-up has passed (not a second before), at that minute boundary;
// interval k is collected one interval after it ended (not a second
// before), and a candidate that kept fewer critical processes than the
// baseline's input fails the experiment in that interval.
func TestWarmupThenIntervalsOneLate(t *testing.T) {
	f := newFixture(t, 1)
	warming := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	f.now = warming
	r := &record{Experiment: api.Experiment{Name: "late", Status: api.ExperimentWarmingUp,
		Variants: []api.Variant{{Name: "baseline", Template: topk}, {Name: "candidate", Template: topk}},
		Duration: "5m", Warmup: "1m", Interval: "1m", CreatedAt: warming,
		Hosts:       []api.ExperimentHost{{Host: "host-0", AgentUID: "agent-0"}},
		Transitions: []api.Transition{{Status: api.ExperimentWarmingUp, At: warming}}}, WarmingSince: warming}
	if err := f.m.put(f.ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	col := &simCollector{uid: "agent-0", start: warming.Add(-2 * time.Second), window: time.Minute, push: 10 * time.Second, exportLag: 200 * time.Millisecond}
	at := func(d time.Duration) api.Experiment {
		t.Helper()
		f.now = warming.Add(d)
		col.deliver(f.ctx, t, f.st, f.now)
		return f.advance(t, "late")
	}
	intervals := func() map[int]bool {
		ss, err := f.st.ListExperimentSamples(f.ctx, "late")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, s := range ss {
			seen[s.Interval] = true
		}
		return seen
	}
	// The first window was reported at 0:58.2.
	if e := at(59 * time.Second); e.Status != api.ExperimentWarmingUp {
		t.Fatalf("in the warm-up: %s", e.Status)
	}
	e := at(time.Minute)
	running := warming.Add(time.Minute)
	if e.Status != api.ExperimentRunning {
		t.Fatalf("warm-up over, every variant reported: %s", e.Status)
	}
	if r, _ := f.m.load(f.ctx, "late"); !r.RunningSince.Equal(running) {
		t.Fatalf("running since %s, want %s", r.RunningSince, running)
	}
	// Interval 0 is [1:00, 2:00): collected from 3:00.
	if at(time.Minute + 2*time.Minute - time.Second); len(intervals()) != 0 {
		t.Fatalf("interval 0 collected before its end + an interval: %v", intervals())
	}
	if at(3 * time.Minute); !intervals()[0] || intervals()[1] {
		t.Fatalf("at 3:00: intervals %v, want 0 only", intervals())
	}
	// While it runs, the comparison is computed on the samples so far.
	cmp, err := f.m.Compare(f.ctx, "late")
	if err != nil || cmp.Experiment.Samples != 1 || len(cmp.Results) != 1 || cmp.Results[0].Intervals != 1 {
		t.Fatalf("comparison while running: %+v %v", cmp.Results, err)
	}
	// Interval 1 [2:00, 3:00): the candidate's output keeps 4 of the 5
	// critical processes (its last figure in the interval).
	f.now = warming.Add(4 * time.Minute)
	col.deliver(f.ctx, t, f.st, f.now)
	if err := f.st.WriteMetrics(f.ctx, []store.MetricPoint{{AgentUID: "agent-0", Name: metricCritical, Pipeline: "p", Stage: stageOut, Variant: "candidate",
		Time: warming.Add(3*time.Minute - time.Second), Value: 4}}, []store.Resolution{{Step: time.Minute, Retention: 24 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	e = f.advance(t, "late")
	if e.Status != api.ExperimentFailed || e.Reason != "guardrail: candidate candidate lost critical processes on host host-0: kept 4 of 5 in interval 1" {
		t.Fatalf("status %s (%s)", e.Status, e.Reason)
	}
	if !intervals()[1] {
		t.Error("the failing interval's samples were not stored")
	}
}

// TestHostsAndCache: experiments on different hosts run side by side; the
// manager's own writes leave its cache as a reload from the store would
// (a reload then reports nothing; after its own stop, nothing either, and
// no stale host); an interval under a minute sets the processors' window.
func TestHostsAndCache(t *testing.T) {
	f := newFixture(t, 2)
	f.m.cfg.MinInterval = 10 * time.Second
	f.startOn(t, "a", func(r *api.ExperimentRequest) { r.Interval = "30s" })
	f.startOn(t, "b", func(r *api.ExperimentRequest) { r.Target.Hosts = []string{"host-1"} })
	if changed, err := f.m.Reload(f.ctx); err != nil || len(changed) != 0 {
		t.Errorf("reload after its own writes: %v %v, want no change", changed, err)
	}
	lbl := map[string]string{"env": "test"}
	if y := string(f.deps.Desired("host-0", lbl).YAML); !strings.Contains(y, "window: 30s") {
		t.Errorf("a 30 s interval: no 30 s window in\n%s", y)
	}
	if y := string(f.deps.Desired("host-1", lbl).YAML); strings.Contains(y, "window:") {
		t.Errorf("a 1 m interval: a window set in\n%s", y)
	}
	if _, err := f.m.Stop(f.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if changed, err := f.m.Reload(f.ctx); err != nil || len(changed) != 0 {
		t.Errorf("reload after its own stop: %v %v, want no change", changed, err)
	}
	if d := f.deps.Desired("host-1", lbl); d.Experiment != "b" {
		t.Errorf("host-1's experiment %q, want b", d.Experiment)
	}
}

// TestSilentHostAfterWarmup: a host that reports nothing holds the
// running phase back reportWait after the warm-up, not counting the
// warm-up itself, and the reason says how long it waited.
func TestSilentHostAfterWarmup(t *testing.T) {
	f := newFixture(t, 1)
	warming := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	r := &record{Experiment: api.Experiment{Name: "silent", Status: api.ExperimentWarmingUp,
		Variants: []api.Variant{{Name: "baseline", Template: topk}, {Name: "candidate", Template: topk}},
		Duration: "5m", Warmup: "1m", Interval: "1m", CreatedAt: warming,
		Hosts:       []api.ExperimentHost{{Host: "host-0", AgentUID: "agent-0"}},
		Transitions: []api.Transition{{Status: api.ExperimentWarmingUp, At: warming}}}, WarmingSince: warming}
	if err := f.m.put(f.ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	ready := warming.Add(time.Minute + reportWait(time.Minute)) // 4:00
	f.now = ready.Add(-time.Second)
	if e := f.advance(t, "silent"); e.Status != api.ExperimentWarmingUp {
		t.Fatalf("a second before the warm-up + reportWait: %s", e.Status)
	}
	f.now = ready
	e := f.advance(t, "silent")
	want := "measured from 2026-12-02T06:04:00Z; no window reported within 3m0s of the warm-up by host-0/baseline, host-0/candidate: their first intervals may hold no samples"
	if e.Status != api.ExperimentRunning || e.Reason != want {
		t.Fatalf("at the warm-up + reportWait: %s (%s), want running (%s)", e.Status, e.Reason, want)
	}
}

// TestLateTickCollectsOnlyTheDuration: a tick long after the end (the
// replica was busy or down) collects the experiment's intervals and no
// more, then completes it.
func TestLateTickCollectsOnlyTheDuration(t *testing.T) {
	f := newFixture(t, 1)
	running := time.Date(2026, 12, 2, 6, 1, 0, 0, time.UTC)
	r := &record{Experiment: api.Experiment{Name: "late", Status: api.ExperimentRunning,
		Variants: []api.Variant{{Name: "baseline", Template: topk}, {Name: "candidate", Template: topk}},
		Duration: "3m", Warmup: "0s", Interval: "1m", CreatedAt: running, Criteria: api.Criteria{MinSamples: 3},
		Hosts:       []api.ExperimentHost{{Host: "host-0", AgentUID: "agent-0"}},
		Transitions: []api.Transition{{Status: api.ExperimentRunning, At: running}}}, RunningSince: running, BeforeCollected: true}
	if err := f.m.put(f.ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	col := &simCollector{uid: "agent-0", start: running.Add(-time.Minute), window: time.Minute, push: 10 * time.Second, exportLag: 200 * time.Millisecond}
	f.now = running.Add(10 * time.Minute)
	col.deliver(f.ctx, t, f.st, f.now)
	e := f.advance(t, "late")
	if e.Status != api.ExperimentCompleted || e.Samples != 3 {
		t.Fatalf("status %s, %d intervals, want completed with 3", e.Status, e.Samples)
	}
	// On time: completed at the tick that collects the last interval, the
	// before figures read in the same tick.
	r.Name, r.Status, r.BeforeCollected = "ontime", api.ExperimentRunning, false
	if err := f.m.put(f.ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	f.now = running.Add(3*time.Minute + time.Minute) // the last interval's end + an interval
	if e := f.advance(t, "ontime"); e.Status != api.ExperimentCompleted || e.Samples != 3 {
		t.Fatalf("at the last interval's collection: %s, %d intervals, want completed with 3", e.Status, e.Samples)
	}
}
