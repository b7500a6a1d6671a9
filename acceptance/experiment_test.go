package acceptance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// The experiment the tests AT-P04, AT-P05, AT-P09 and AT-P10 judge: baseline
// against process-aggregated-v1 on two hosts, with the critical services of
// AT-P02 running as real spawner processes. The server's finest sample
// interval is one minute, so it takes a few minutes: set-up starts it in the
// background and those tests, which run last, wait for it.
// Three intervals for three samples: the server starts the measured phase
// once every host reported a window of both variants, at a bucket boundary
// (opamp-server/experiment/README.md, "Sample intervals and pairing").
const (
	expName       = "at-exp"
	expDeployment = "at-exp-dep"
	expDuration   = "3m"
	expInterval   = "1m"
	expSamples    = "3"
)

type expFixture struct {
	once sync.Once
	done chan struct{}
	err  error
	why  string // the reason it cannot run (a missing part), or ""

	label     string
	hosts     []string
	agents    map[string]*harness.Agent
	critical  map[int]service // pid -> the service, the spawned critical processes
	job       string
	candidate string // the candidate template
	started   time.Time
	final     api.Experiment
	log       *os.File
	cli       *harness.CLI
}

var exp = &expFixture{done: make(chan struct{})}

// startExperiment begins the shared experiment in the background (called at
// set-up, after the backend is up).
func startExperiment() {
	if why := experimentsMissing(); why != "" {
		exp.why = why
		close(exp.done)
		return
	}
	if s.promErr != nil {
		exp.why = "no metrics backend: " + s.promErr.Error()
		close(exp.done)
		return
	}
	go func() {
		defer close(exp.done)
		exp.err = exp.run()
	}()
}

func (f *expFixture) logf(format string, args ...any) {
	fmt.Fprintf(f.log, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
}

func (f *expFixture) must(ctx context.Context, args ...string) (harness.Result, error) {
	r := f.cli.Run(ctx, args...)
	if r.Code != 0 {
		return r, fmt.Errorf("phoenix %s: exit %d: %s", strings.Join(args, " "), r.Code, strings.TrimSpace(r.Stderr))
	}
	return r, nil
}

func (f *expFixture) run() error {
	var err error
	f.log, err = os.OpenFile(filepath.Join(s.dir, "experiment-fixture.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	cli := *s.cli
	cli.Log = f.logf
	f.cli = &cli
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	f.label = "acc-exp=" + strconv.Itoa(os.Getpid())
	k, v, _ := strings.Cut(f.label, "=")
	f.agents = map[string]*harness.Agent{}
	for _, h := range []string{"at-exp-a", "at-exp-b"} {
		h = fmt.Sprintf("%s-%d", h, os.Getpid()%100000)
		ag, err := harness.StartAgent(ctx, s.dir, s.bins, s.server, f.cli, h, harness.AgentOptions{Labels: map[string]string{k: v}})
		if err != nil {
			return err
		}
		f.hosts = append(f.hosts, h)
		f.agents[h] = ag
	}
	interval := []string{"--param", "collection_interval=10s", "--param", "batch_timeout=1s"}
	if _, err := f.must(ctx, append([]string{"pipeline", "deploy", "process-baseline-v1", "--name", expDeployment, "--selector", f.label,
		"--destination", s.backend.Destination, "--watch", "--timeout", "3m"}, interval...)...); err != nil {
		return err
	}
	// The critical services, as real processes (every host's scraper sees them).
	profile := filepath.Join(s.dir, "at-exp-profile.yaml")
	if err := os.WriteFile(profile, []byte(criticalProfile(criticalServices)), 0o644); err != nil {
		return err
	}
	r, err := f.must(ctx, "loadsim", "start", "--mode", "process", "--profile", "custom", "--profile-file", profile, "--target-host", f.hosts[0], "--watch", "--timeout", "2m")
	if err != nil {
		return err
	}
	f.job = regexp.MustCompile(`ls-[0-9a-f]+`).FindString(r.Stdout)
	f.critical = map[int]service{}
	err = harness.WaitUntil(ctx, 250*time.Millisecond, func() (bool, string) {
		clear(f.critical)
		for _, c := range harness.Children(f.agents[f.hosts[0]].PID()) {
			line := strings.Join(c.Cmdline, " ")
			for _, sv := range criticalServices {
				if line == sv.argv {
					f.critical[c.PID] = sv
				}
			}
		}
		return len(f.critical) == len(criticalServices), fmt.Sprintf("%d of %d critical services live", len(f.critical), len(criticalServices))
	})
	if err != nil {
		return err
	}
	f.candidate = "process-aggregated-v1"
	args := []string{"experiment", "create", expName, "--selector", f.label, "--baseline", "process-baseline-v1", "--candidate", f.candidate,
		"--param", "baseline.collection_interval=10s", "--param", "candidate.collection_interval=10s",
		"--duration", expDuration, "--warmup", "0s", "--interval", expInterval, "--min-samples", expSamples, "--start"}
	switch {
	case faultOn("AT-P04"):
		f.candidate = "process-baseline-v1" // A/A: the candidate cannot be below
		args[8] = f.candidate
	case faultOn("AT-P05"):
		var keep []string
		for _, re := range defaultCriticalPatterns(ctx, f.cli, f.candidate) {
			if !strings.Contains(re, "nginx") {
				keep = append(keep, re)
			}
		}
		js, _ := json.Marshal(keep)
		args = append(args, "--param", "candidate.critical_processes="+string(js))
	}
	f.started = time.Now()
	if _, err := f.must(ctx, args...); err != nil {
		return err
	}
	wctx, wcancel := context.WithTimeout(ctx, 9*time.Minute)
	defer wcancel()
	f.cli.Run(wctx, "experiment", "status", expName, "--watch")
	return f.cli.JSON(ctx, &f.final, "experiment", "status", expName)
}

// wait blocks until the experiment has ended and skips or fails the test
// when it could not run.
func (f *expFixture) wait(a *at) {
	a.t.Helper()
	select {
	case <-f.done:
	case <-a.ctx.Done():
		a.Failf("the shared experiment did not end: %v", a.ctx.Err())
	}
	if f.why != "" {
		a.Skipf("%s", f.why)
	}
	if f.err != nil {
		a.Failf("the shared experiment: %v (log: acceptance/report/logs/experiment-fixture.log)", f.err)
	}
}

// stopExperiment removes what the fixture left (at teardown).
func stopExperiment() {
	if exp.cli == nil {
		return
	}
	<-exp.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exp.cli.Run(ctx, "experiment", "delete", expName, "--yes")
	exp.cli.Run(ctx, "pipeline", "delete", expDeployment, "--yes")
	if exp.job != "" {
		exp.cli.Run(ctx, "loadsim", "stop", exp.job, "--watch", "--timeout", "1m")
	}
	for _, ag := range exp.agents {
		ag.Stop()
	}
	if exp.log != nil {
		exp.log.Close()
	}
}

// defaultCriticalPatterns is a template's default critical list as strings.
func defaultCriticalPatterns(ctx context.Context, cli *harness.CLI, template string) []string {
	var tmpl struct {
		Params []struct {
			Name    string `json:"name"`
			Default any    `json:"default"`
		} `json:"params"`
	}
	if cli.JSON(ctx, &tmpl, "pipeline", "show", template, "--params") != nil {
		return nil
	}
	var out []string
	for _, p := range tmpl.Params {
		if p.Name == "critical_processes" {
			l, _ := p.Default.([]any)
			for _, v := range l {
				out = append(out, fmt.Sprint(v))
			}
		}
	}
	return out
}

// variantScrapes returns the collections of one variant of the experiment
// on host, stamped while the experiment ran, from Prometheus.
func (a *at) variantScrapes(host, variant string, from, to time.Time) []harness.Scrape {
	a.t.Helper()
	sel := fmt.Sprintf(`{__name__=~"process_.+",host_name=%q,phoenix_variant=%q}`, host, variant)
	series, err := s.prom.Raw(a.ctx, sel, to.Sub(from), to)
	a.Require("query Prometheus", err)
	return harness.Scrapes(series, 500*time.Millisecond)
}

// measuredWindow is when the experiment collected its samples.
func measuredWindow(e api.Experiment) (time.Time, time.Time) {
	var from, to time.Time
	for _, tr := range e.Transitions {
		switch tr.Status {
		case api.ExperimentRunning:
			from = tr.At
		case api.ExperimentCompleted, api.ExperimentFailed, api.ExperimentStopped:
			to = tr.At
		}
	}
	return from, to
}

// AT-P04: `experiment compare` shows the candidate's output below the
// baseline's, significantly, on identical input; Prometheus agrees.
func atP04ExperimentCompare(t *testing.T) {
	a := begin(t, "AT-P04",
		"An experiment of baseline against `process-aggregated-v1`: `experiment compare` shows the candidate's output below the baseline's. Also: adaptive filter under process churn moves its output inversely with load",
		"compare: candidate's mean output series < baseline's with Holm-adjusted p < alpha, input identical in every interval; Prometheus: candidate's series per scrape < baseline's on every host", true)
	a.fault("the candidate is process-baseline-v1 (an A/A experiment); injected at set-up, see expFixture.run")
	exp.wait(a)
	// The adaptive-filter half runs after the experiment: its churn would
	// change the experiment's input between scrapes.
	adaptive := a.adaptiveUnderChurn()
	e := exp.final
	if e.Status != api.ExperimentCompleted {
		a.Failf("experiment %s ended %s: %s", expName, e.Status, e.Reason)
	}
	table := a.must("experiment", "compare", expName)
	var cmp api.Comparison
	a.Require("experiment compare -o json", a.cli.JSON(a.ctx, &cmp, "experiment", "compare", expName))
	if len(cmp.Results) != 1 {
		a.Failf("compare: %d results, want 1", len(cmp.Results))
	}
	res := cmp.Results[0]
	var out *api.KPITest
	for i := range res.KPIs {
		if res.KPIs[i].KPI == "output_series" {
			out = &res.KPIs[i]
		}
	}
	if out == nil {
		a.Failf("compare has no output_series KPI: %+v", res.KPIs)
	}
	from, to := measuredWindow(e)
	var backend []string
	for _, h := range exp.hosts {
		var bs, cs []int
		for _, sc := range a.variantScrapes(h, "baseline", from, to) {
			bs = append(bs, len(sc.Series))
		}
		for _, sc := range a.variantScrapes(h, "candidate", from, to) {
			cs = append(cs, len(sc.Series))
		}
		if len(bs) == 0 || len(cs) == 0 {
			a.Failf("Prometheus holds %d baseline and %d candidate collections of host %s", len(bs), len(cs), h)
		}
		backend = append(backend, fmt.Sprintf("%s %.0f -> %.0f", h, median(bs), median(cs)))
		if median(cs) >= median(bs) {
			a.Failf("host %s in Prometheus: candidate %.0f series per scrape, baseline %.0f", h, median(cs), median(bs))
		}
	}
	a.Figure("baseline_output_series", out.BaselineMean)
	a.Figure("candidate_output_series", out.CandidateMean)
	a.Figure("p_adjusted", out.PAdjusted)
	a.Figure("intervals", float64(res.Intervals))
	a.Measured("experiment on 2 hosts, %s intervals of %s: compare says output series %.0f (baseline) -> %.0f (%s), reduction %.1f%%, Holm-adjusted p=%.3g, verdict %s (%s), input identical in %d/%d intervals; in Prometheus (per scrape, median): %s. Adaptive filter under process churn: %s",
		expSamples, expInterval, out.BaselineMean, out.CandidateMean, exp.candidate, res.ReductionPct, out.PAdjusted, res.Verdict, res.Criterion, res.InputIdentical, res.Intervals, strings.Join(backend, ", "), adaptive.text)
	if adaptive.problem != "" {
		a.Failf("adaptive filter under churn: %s", adaptive.problem)
	}
	if !strings.Contains(table.Stdout, "output_series") {
		a.Failf("the compare table does not show output_series:\n%s", table.Stdout)
	}
	if out.CandidateMean >= out.BaselineMean {
		a.Failf("compare: the candidate's output (%.1f) is not below the baseline's (%.1f)", out.CandidateMean, out.BaselineMean)
	}
	alpha := e.Criteria.Alpha
	if alpha == 0 {
		alpha = 0.05
	}
	if out.PAdjusted >= alpha {
		a.Failf("compare: the difference is not significant (p=%.3g >= %.2f)", out.PAdjusted, alpha)
	}
	if res.InputIdentical != res.Intervals || res.Intervals == 0 {
		a.Failf("compare: input identical in %d of %d intervals", res.InputIdentical, res.Intervals)
	}
}

// AT-P05: both variants keep every critical process: the server's KPI and,
// independently, every spawned critical process in every scrape of each
// variant in Prometheus.
func atP05ExperimentCriticalRetention(t *testing.T) {
	a := begin(t, "AT-P05", "Both variants of that experiment keep 100% of critical processes",
		"every spawned critical process (nginx, java, the default list) present in every scrape of both variants on every host, in Prometheus; the server's critical retention 100%", true)
	a.fault("the candidate's critical_processes without its nginx pattern; injected at set-up, see expFixture.run")
	exp.wait(a)
	e := exp.final
	from, to := measuredWindow(e)
	if from.IsZero() || to.IsZero() {
		a.Failf("experiment %s ended %s without a measured phase: %s", expName, e.Status, e.Reason)
	}
	var lines, lost []string
	for _, variant := range []string{"baseline", "candidate"} {
		for _, h := range exp.hosts {
			scs := a.variantScrapes(h, variant, from, to)
			if len(scs) < 3 {
				a.Failf("%s on %s: %d collections in Prometheus", variant, h, len(scs))
			}
			missing := map[int]int{}
			for _, sc := range scs {
				procs := byPID(sc)
				for pid := range exp.critical {
					if procs[pid] == nil {
						missing[pid]++
					}
				}
			}
			lines = append(lines, fmt.Sprintf("%s on %s: %d/%d in all %d scrapes", variant, h, len(exp.critical)-len(missing), len(exp.critical), len(scs)))
			for pid, n := range missing {
				lost = append(lost, fmt.Sprintf("%s on %s lost %s (pid %d) in %d/%d scrapes", variant, h, exp.critical[pid].what, pid, n, len(scs)))
			}
		}
	}
	sort.Strings(lost)
	retention := "no verdict"
	if len(e.Verdicts) > 0 {
		retention = fmt.Sprintf("%.1f%%", e.Verdicts[0].CriticalRetentionPct)
	}
	a.Measured("%s; the server's critical retention of the candidate: %s; experiment %s (%s)", strings.Join(lines, "; "), retention, e.Status, e.Reason)
	if len(lost) > 0 {
		a.Failf("%s", strings.Join(lost, "; "))
	}
	if e.Status == api.ExperimentFailed {
		a.Failf("the experiment failed: %s", e.Reason)
	}
	if len(e.Verdicts) == 0 || e.Verdicts[0].CriticalRetentionPct < 100 {
		a.Failf("the server's critical retention: %s", retention)
	}
}

// AT-P07: `experiment create` with bad input exits non-zero naming the
// field, and nothing changes (no experiment stored, the host's config
// untouched).
func atP07ExperimentBadInput(t *testing.T) {
	a := begin(t, "AT-P07", "`experiment create` with bad input is refused with a clear error, and nothing changes",
		"each bad input: non-zero exit and an error naming the field; afterwards the experiment list and the host's config hash unchanged", false)
	if why := experimentsMissing(); why != "" {
		a.Skipf("%s", why)
	}
	host := a.host("h")
	ag := a.agent(host, harness.AgentOptions{})
	a.deleteAtEnd("at-p07")
	// The template's default collection interval, the candidates' too: a
	// case must be refused for its own fault only.
	a.must("pipeline", "deploy", "process-baseline-v1", "--name", "at-p07", "--host", host, "--destination", "none", "--watch", "--timeout", "3m")
	var before api.ExperimentList
	a.Require("experiment list", a.cli.JSON(a.ctx, &before, "experiment", "list"))
	_, cfgBefore, err := ag.Collector()
	a.Require("running collector", err)
	scen := filepath.Join(s.dir, "at-p07-scenario.yaml")
	a.Require("scenario", os.WriteFile(scen, []byte("name: at-p07-x\ntarget: {hosts: ["+host+"]}\ncandidat: {template: process-topk-v1}\n"), 0o600))

	create := func(extra ...string) []string {
		return append([]string{"experiment", "create", "at-p07-x", "--hosts", host}, extra...)
	}
	badTemplate := "no-such-template"
	if a.fault("the unknown-template case given a real template, process-topk-v1") {
		badTemplate = "process-topk-v1"
	}
	cases := []invalidCase{
		{"unknown candidate template", create("--candidate", badTemplate), []string{badTemplate}},
		{"unknown parameter", create("--candidate", "process-topk-v1", "--param", "candidate.nope=1"), []string{`"nope"`, "unknown parameter"}},
		{"parameter out of bounds", create("--candidate", "process-topk-v1", "--param", "candidate.k=0"), []string{`"k"`, "range"}},
		{"unknown baseline template", create("--baseline", "no-such-baseline", "--candidate", "process-topk-v1"), []string{"no-such-baseline"}},
		{"interval below the server's resolution", create("--candidate", "process-topk-v1", "--interval", "1s"), []string{"interval", "shorter"}},
		{"too few samples", create("--candidate", "process-topk-v1", "--min-samples", "1"), []string{"min_samples"}},
		{"unknown scenario field", []string{"experiment", "create", "-f", scen}, []string{"candidat"}},
		{"no host", []string{"experiment", "create", "at-p07-x", "--candidate", "process-topk-v1"}, []string{"target"}},
	}
	var refused []string
	for _, c := range cases {
		r := a.cli.Run(a.ctx, c.args...)
		out := r.Stdout + r.Stderr
		if r.Code == 0 {
			a.cli.Run(a.ctx, "experiment", "delete", "at-p07-x", "--yes")
			a.Failf("%s: `phoenix %s` exited 0:\n%s", c.what, strings.Join(c.args, " "), out)
		}
		for _, n := range c.names {
			if !strings.Contains(out, n) {
				a.Failf("%s: exit %d, but the error does not name %q:\n%s", c.what, r.Code, n, out)
			}
		}
		refused = append(refused, fmt.Sprintf("%s -> exit %d naming %s", c.what, r.Code, strings.Join(c.names, " ")))
	}
	var after api.ExperimentList
	a.Require("experiment list", a.cli.JSON(a.ctx, &after, "experiment", "list"))
	if len(after.Experiments) != len(before.Experiments) {
		a.Failf("experiments: %d before, %d after the refused creates", len(before.Experiments), len(after.Experiments))
	}
	_, cfgAfter, err := ag.Collector()
	a.Require("running collector", err)
	if cfgAfter != cfgBefore {
		a.Failf("the host's collector config changed after refused creates")
	}
	a.Figure("cases", float64(len(cases)))
	a.Measured("%d/%d bad inputs refused (%s); afterwards %d experiments as before, the host's collector config unchanged",
		len(refused), len(cases), strings.Join(refused, "; "), len(after.Experiments))
}

// AT-P10 (promote): `experiment promote` takes every host of the experiment
// to the candidate as a new deployment version, timed from the command to
// all hosts applied. The overhead half needs benchmarks/overhead.
func atP10PromoteAndOverhead(t *testing.T) {
	a := begin(t, "AT-P10",
		"`experiment promote` reaches every target host within 5 minutes. Also, the collector running `process-baseline-v1` on an idle host uses under 5% of one core and under 100 MiB (our bound: under 2% of one core, and no more CPU or RSS than the scraper-with-exporter floor, with 500 processes at a 10 s scrape)",
		"promote -> every host applied the candidate's deployment version < 5 min; collector CPU < 2% of one core and RSS < 100 MiB and <= the floor, 500 processes, 10 s scrape", true)
	bound := 5 * time.Minute
	if a.fault("the promote bound set to 1 ms") {
		bound = time.Millisecond
	}
	exp.wait(a)
	if exp.final.Status != api.ExperimentCompleted {
		a.Failf("experiment %s ended %s: %s", expName, exp.final.Status, exp.final.Reason)
	}
	var before api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &before, "pipeline", "status", expDeployment))
	t0 := time.Now()
	a.must("experiment", "promote", expName, "--variant", "candidate")
	var st api.DeploymentStatus
	err := harness.WaitUntil(a.ctx, 200*time.Millisecond, func() (bool, string) {
		if err := a.cli.JSON(a.ctx, &st, "pipeline", "status", expDeployment); err != nil {
			return false, err.Error()
		}
		applied := 0
		for _, h := range st.Hosts {
			if h.Version > before.Version && h.Status == api.StatusApplied && h.ReportedHash == h.DesiredHash {
				applied++
			}
		}
		return applied == len(exp.hosts) && len(st.Hosts) == len(exp.hosts), fmt.Sprintf("%+v", st)
	})
	took := time.Since(t0)
	a.Require("every host applied after promote", err)
	for h, ag := range exp.agents {
		_, cfg, err := ag.Collector()
		a.Require("running collector", err)
		if !strings.Contains(cfg, "pipeline: "+exp.candidate) || strings.Contains(cfg, "phoenix.variant") {
			a.Failf("host %s after promote does not run %s alone:\n%s", h, exp.candidate, cfg)
		}
	}
	a.Figure("seconds_promote_to_applied", took.Seconds())
	promoted := fmt.Sprintf("`experiment promote --variant candidate`: both hosts on %s version %d (%s), applied %.1f s after the command",
		expDeployment, st.Version, exp.candidate, took.Seconds())
	a.Measured("%s", promoted)
	if took >= bound {
		a.Failf("promote took %s to reach every host: not within %s", took.Round(time.Millisecond), bound)
	}
	if why := pathMissing("benchmarks/overhead", "the overhead benchmark: issue 12"); why != "" {
		a.Skipf("promote half passed (%s); overhead half: %s", promoted, why)
	}
	ov := a.overhead(500)
	a.Measured("%s; overhead (benchmarks/overhead, 500 real processes, 10 s scrape, %s window): %s", promoted, overheadWindow, ov.text)
	if ov.problem != "" {
		a.Failf("overhead: %s", ov.problem)
	}
}

const overheadWindow = "40s"

// overheadRow is one collector's figures in benchmarks/overhead's table.
type overheadRow struct{ cpu, anon, file float64 }

// overhead runs the data plane's overhead benchmark (benchmarks/overhead,
// a real go test process: the built collector per template and the two
// floors, on n real spawned processes, CPU from /proc, RSS, Prometheus) and
// checks process-baseline-v1 against the PRD's bound and ours.
func (a *at) overhead(n int) adaptiveResult {
	a.t.Helper()
	cmd := exec.CommandContext(a.ctx, "go", "test", "-run", "TestOverhead", "-count=1", "-v", "-timeout", "10m", "./benchmarks/overhead/",
		"-procs", strconv.Itoa(n), "-duration", overheadWindow, "-scrape", "10s")
	cmd.Dir = s.root
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(s.dir, "overhead-benchmark.log"), out, 0o600)
	if err != nil {
		a.Failf("benchmarks/overhead: %v (log: acceptance/report/logs/overhead-benchmark.log)\n%s", err, trim(string(out), 2000))
	}
	rows := map[string]overheadRow{}
	prefix := fmt.Sprintf("| %d | ", n)
	for _, line := range strings.Split(string(out), "\n") {
		i := strings.Index(line, prefix)
		if i < 0 {
			continue
		}
		f := strings.Split(line[i:], "|")
		// | N | collector | CPU % | ÷ prw | ÷ nop | anon | file | ...
		if len(f) < 8 {
			continue
		}
		cpu, e1 := strconv.ParseFloat(strings.TrimSpace(f[3]), 64)
		anon, e2 := strconv.ParseFloat(strings.TrimSpace(f[6]), 64)
		file, e3 := strconv.ParseFloat(strings.TrimSpace(f[7]), 64)
		if e1 == nil && e2 == nil && e3 == nil {
			rows[strings.TrimSpace(f[2])] = overheadRow{cpu, anon, file}
		}
	}
	base, ok1 := rows["baseline"]
	floor, ok2 := rows["floor: scraper + remote write"]
	if !ok1 || !ok2 {
		a.Failf("benchmarks/overhead printed no baseline or floor row for %d processes:\n%s", n, trim(string(out), 3000))
	}
	rss, floorRSS := base.anon+base.file, floor.anon+floor.file
	a.Figure("baseline_cpu_pct_of_core", base.cpu)
	a.Figure("baseline_rss_mib", rss)
	a.Figure("floor_cpu_pct_of_core", floor.cpu)
	a.Figure("floor_rss_mib", floorRSS)
	res := adaptiveResult{text: fmt.Sprintf("process-baseline-v1 %.2f%% of a core, RSS %.1f MiB (anon %.1f + file %.1f); the scraper + remote-write floor %.2f%%, %.1f MiB",
		base.cpu, rss, base.anon, base.file, floor.cpu, floorRSS)}
	var bad []string
	if base.cpu >= 2 {
		bad = append(bad, fmt.Sprintf("CPU %.2f%% of a core >= 2%%", base.cpu))
	}
	if rss >= 100 {
		bad = append(bad, fmt.Sprintf("RSS %.1f MiB >= 100 MiB", rss))
	}
	// "No more than the floor", with 10% for the noise of a shared machine.
	if base.cpu > floor.cpu*1.1 {
		bad = append(bad, fmt.Sprintf("CPU %.2f%% > 1.1 x the floor's %.2f%%", base.cpu, floor.cpu))
	}
	if rss > floorRSS*1.1 {
		bad = append(bad, fmt.Sprintf("RSS %.1f MiB > 1.1 x the floor's %.1f MiB", rss, floorRSS))
	}
	if len(bad) > 0 {
		res.problem = strings.Join(bad, "; ") + " (" + res.text + ")"
	}
	return res
}

type adaptiveResult struct{ text, problem string }

// adaptiveUnderChurn deploys process-adaptive-filter-v1 (a budget of 60
// processes) on a host and raises the load with the process-churn profile
// as real spawner processes (30, then 300 live, 25 replaced per second)
// beside the machine's own; it counts the processes the filter passes per
// scrape in Prometheus. As the load rises the share it keeps must fall, and
// its output must stay within the budget (or the critical processes, which
// count against the budget but are never dropped, when they are more).
func (a *at) adaptiveUnderChurn() adaptiveResult {
	a.t.Helper()
	const budget = 60
	host := a.host("adaptive")
	a.agent(host, harness.AgentOptions{MaxLoadProcesses: 400})
	a.deleteAtEnd("at-p04-adaptive")
	a.must("pipeline", "deploy", "process-adaptive-filter-v1", "--name", "at-p04-adaptive", "--host", host, "--destination", s.backend.Destination,
		"--param", "collection_interval=2s", "--param", "batch_timeout=500ms", "--param", "max_cardinality="+strconv.Itoa(budget), "--param", "budget_unit=processes",
		"--param", "retention=0s", "--watch", "--timeout", "3m")
	var critical []*regexp.Regexp
	for _, p := range defaultCriticalPatterns(a.ctx, a.cli, "process-adaptive-filter-v1") {
		if re, err := regexp.Compile(p); err == nil {
			critical = append(critical, re)
		}
	}
	type level struct {
		churning          int
		in, out, crit, sh float64
	}
	levels := []*level{{churning: 30}, {churning: 300}}
	for _, lv := range levels {
		r := a.must("loadsim", "start", "--mode", "process", "--profile", "process-churn", "--process-count", strconv.Itoa(lv.churning),
			"--target-host", host, "--watch", "--timeout", "2m")
		job := regexp.MustCompile(`ls-[0-9a-f]+`).FindString(r.Stdout)
		// Three scrapes for the controller to settle, then six counted.
		from := time.Now().Add(6 * time.Second)
		sc := a.scrapes(host, from, 6, 2*time.Minute, 4*time.Second)
		var ins, outs, crits []int
		for _, x := range sc {
			ins = append(ins, len(harness.Processes())) // the scraper's population, near the scrape
			procs, crit := map[string]bool{}, map[string]bool{}
			for _, se := range x.Series {
				pid := se.Labels["process_pid"]
				if pid == "" {
					continue
				}
				procs[pid] = true
				for _, re := range critical {
					if re.MatchString(se.Labels["process_executable_name"]) || re.MatchString(se.Labels["process_command"]) || re.MatchString(se.Labels["process_command_line"]) {
						crit[pid] = true
					}
				}
			}
			outs, crits = append(outs, len(procs)), append(crits, len(crit))
		}
		a.must("loadsim", "stop", job, "--watch", "--timeout", "1m")
		lv.in, lv.out, lv.crit = median(ins), median(outs), median(crits)
		lv.sh = lv.out / lv.in
	}
	lo, hi := levels[0], levels[1]
	res := adaptiveResult{text: fmt.Sprintf("budget %d processes; about %.0f processes (%d churning) -> %.0f kept, %.0f of them critical (%.1f%%); about %.0f (%d churning) -> %.0f kept, %.0f critical (%.1f%%)",
		budget, lo.in, lo.churning, lo.out, lo.crit, 100*lo.sh, hi.in, hi.churning, hi.out, hi.crit, 100*hi.sh)}
	a.Figure("adaptive_kept_low_load", lo.out)
	a.Figure("adaptive_kept_high_load", hi.out)
	switch {
	case hi.sh >= lo.sh:
		res.problem = "the share kept did not fall as the load rose: " + res.text
	case hi.out > max(float64(budget), hi.crit)*1.2:
		res.problem = "the output is above its budget (and above the critical processes) under load: " + res.text
	}
	return res
}
