package experiment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// KPI names of the samples.
const (
	KPIInputSeries      = "input_series"
	KPIInputProcesses   = "input_processes"
	KPIOutputSeries     = "output_series"
	KPIOutputDataPoints = "output_datapoints"
	KPICriticalIn       = "critical_in"
	KPICriticalOut      = "critical_out"
	KPICollectorCPU     = "collector_cpu"        // cores (CPU s/s over the interval), per host (variant "")
	KPICollectorMemory  = "collector_memory_rss" // bytes, per host (variant "")
	// KPIProcessingCPU is the CPU of a variant's own processors (cores):
	// its cardinality/in's downstream CPU time minus its cardinality/out's
	// consume CPU time over the interval.
	KPIProcessingCPU     = "processing_cpu"
	metricConsumeCPU     = "phoenix.cardinality.consume.cpu_time"
	metricDownstreamCPU  = "phoenix.cardinality.downstream.cpu_time"
	metricSeries         = "phoenix.cardinality.series"
	metricDataPoints     = "phoenix.cardinality.datapoints"
	metricProcesses      = "phoenix.cardinality.processes"
	metricCritical       = "phoenix.cardinality.critical_processes"
	stageIn, stageOut    = "input", "output"
	leaseFor             = 15 * time.Second
	defaultTickFraction  = 4
	collectorCPUNames    = "otelcol_process_cpu_seconds|otelcol.process.cpu.time|otelcol_process_cpu_seconds_total"
	collectorMemoryNames = "otelcol_process_memory_rss|otelcol.process.memory.rss|otelcol_process_memory_rss_bytes"
)

// Run advances and analyses the active experiments this replica holds the
// lease of, and follows the store's changes (other replicas' writes) until
// ctx ends. The tick is a quarter of the shortest active interval.
func (m *Manager) Run(ctx context.Context, changes <-chan store.Change) {
	if hosts, err := m.Reload(ctx); err == nil && len(hosts) > 0 {
		m.cfg.HostsChanged(ctx, hosts)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			if c.Kind != store.ChangeExperiment && c.Kind != store.ChangeResync {
				continue
			}
			hosts, err := m.Reload(ctx)
			if err == nil && len(hosts) > 0 {
				m.cfg.HostsChanged(ctx, hosts)
			}
			if c.Kind == store.ChangeExperiment {
				if e, err := m.Get(ctx, c.Key); err == nil {
					m.cfg.Publish(e)
				} else if c.Deleted {
					m.cfg.Publish(api.Experiment{Name: c.Key, Status: "deleted"})
				}
			}
			// A start, stop or new experiment is news for the tick, which
			// sleeps while nothing is active.
			t.Reset(0)
		case <-t.C:
			t.Reset(m.Tick(ctx))
		}
	}
}

// idleTick is the safety net while no experiment is active: a start or a
// new experiment reaches Run as a store change and wakes the tick at once.
const idleTick = time.Minute

// Tick advances every active experiment once and returns when to tick again:
// a quarter of the shortest active interval (at most a second), or idleTick
// when nothing is active.
func (m *Manager) Tick(ctx context.Context) time.Duration {
	next, active := time.Second, false
	recs, err := m.cfg.Store.ListExperiments(ctx, true)
	if err != nil {
		m.log.Warn("experiments: list", "err", err)
		return next
	}
	now := m.now()
	for _, rec := range recs {
		var iv time.Duration
		if r, err := m.load(ctx, rec.Name); err == nil {
			iv, _ = time.ParseDuration(r.Interval)
			if r.Status == api.ExperimentPending {
				continue
			}
		}
		active = true
		if iv > 0 && iv/defaultTickFraction < next {
			next = max(iv/defaultTickFraction, 50*time.Millisecond)
		}
		ok, err := m.cfg.Store.LeaseExperiment(ctx, rec.Name, m.cfg.Holder, now, now.Add(leaseFor))
		if err != nil || !ok {
			continue // another replica analyses it
		}
		if err := m.advance(ctx, rec.Name); err != nil {
			m.log.Warn("experiment: advance", "experiment", rec.Name, "err", err)
		}
	}
	if !active {
		return idleTick
	}
	return next
}

// advance moves one experiment along its lifecycle.
func (m *Manager) advance(ctx context.Context, name string) error {
	r, err := m.load(ctx, name)
	if err != nil || !deploysConfig(r.Status) {
		return err
	}
	agents, err := m.cfg.Store.ListAgentRecords(ctx) // no effective configs: nothing here reads them
	if err != nil {
		return err
	}
	latest := deployment.LatestPerHost(agents)
	now := m.now()
	warm, _ := time.ParseDuration(r.Warmup)
	dur, _ := time.ParseDuration(r.Duration)
	iv, _ := time.ParseDuration(r.Interval)

	// Guardrail 1: a collector failing on the experiment's config.
	for _, h := range r.Hosts {
		a := latest[h.Host]
		want := m.cfg.Deployments.Desired(h.Host, a.Labels)
		if want.Experiment != r.Name {
			continue
		}
		// A config that cannot render (its deployment deleted under it)
		// has no hash: checked first, or the experiment would wait for
		// ever in "deploying".
		if want.Err != "" {
			return m.fail(ctx, name, want.Err)
		}
		if want.Hash == "" {
			continue
		}
		if f, bad := a.FailedConfigs[want.Hash]; bad {
			return m.fail(ctx, name, fmt.Sprintf("host %s: the collector failed on the experiment's config: %s", h.Host, f.Error))
		}
	}
	switch r.Status {
	case api.ExperimentDeploying:
		applied, hashes := 0, map[string]string{}
		for _, h := range r.Hosts {
			a := latest[h.Host]
			want := m.cfg.Deployments.Desired(h.Host, a.Labels)
			hashes[h.Host] = want.Hash
			if want.Experiment == r.Name && a.RemoteHash == want.Hash && a.RemoteStatus == store.RemoteApplied {
				applied++
			}
		}
		if applied < len(r.Hosts) {
			return nil
		}
		_, err := m.update(ctx, name, func(r *record) error {
			if r.Status != api.ExperimentDeploying {
				return nil
			}
			for i := range r.Hosts {
				r.Hosts[i].ExperimentHash = hashes[r.Hosts[i].Host]
				r.Hosts[i].Status = api.StatusApplied
			}
			r.WarmingSince = now
			m.transition(r, api.ExperimentWarmingUp, fmt.Sprintf("all %d host(s) applied the experiment's config", len(r.Hosts)))
			return nil
		})
		return err
	case api.ExperimentWarmingUp:
		if now.Sub(r.WarmingSince) < warm {
			return nil
		}
		// The measured phase starts once every host has reported a
		// window of every variant (a collector's processors report
		// nothing before their first window closes, a window after the
		// config applied), at the next bucket boundary, so that interval
		// k is buckets [start, end) and each of them holds a push with
		// a finished window. A host that reports none within
		// reportWait is not waited for longer: the reason names it.
		step := m.step()
		missing, err := m.unreported(ctx, r, latest, r.WarmingSince.Truncate(step))
		if err != nil {
			return err
		}
		waited := now.Sub(r.WarmingSince) - warm
		if len(missing) > 0 && waited < reportWait(iv) {
			return nil
		}
		since := ceilTo(now, step)
		reason := "measured from " + since.Format(time.RFC3339) + ", the first " + step.String() + " boundary after every host reported a window of every variant"
		if len(missing) > 0 {
			reason = fmt.Sprintf("measured from %s; no window reported within %s of the warm-up by %s: their first intervals may hold no samples", since.Format(time.RFC3339), waited.Round(time.Second), strings.Join(missing, ", "))
		}
		_, err = m.update(ctx, name, func(r *record) error {
			if r.Status != api.ExperimentWarmingUp {
				return nil
			}
			r.RunningSince = since
			m.transition(r, api.ExperimentRunning, reason)
			return nil
		})
		return err
	case api.ExperimentRunning:
		// Collect every interval that has ended, one interval late: the
		// collectors' telemetry export and the ingest may lag (a loaded
		// host's figures arrived after half an interval in an e2e run).
		total := int(dur / iv)
		if !r.BeforeCollected {
			before, err := m.collectBefore(ctx, r, latest, iv)
			if err != nil {
				return err
			}
			if err := m.cfg.Store.AddExperimentSamples(ctx, name, before); err != nil {
				return err
			}
			if r, err = m.update(ctx, name, func(x *record) error { x.BeforeCollected = true; return nil }); err != nil {
				return err
			}
		}
		for r.NextInterval < total {
			k := r.NextInterval
			start := r.RunningSince.Add(time.Duration(k) * iv)
			end := start.Add(iv)
			if now.Before(end.Add(iv)) {
				break
			}
			samples, err := m.collect(ctx, r, latest, k, start, end)
			if err != nil {
				return err
			}
			if err := m.cfg.Store.AddExperimentSamples(ctx, name, samples); err != nil {
				return err
			}
			if reason := criticalLost(r, samples); reason != "" {
				return m.fail(ctx, name, fmt.Sprintf("guardrail: %s in interval %d", reason, k))
			}
			r2, err := m.update(ctx, name, func(x *record) error {
				if x.NextInterval == k {
					x.NextInterval = k + 1
				}
				return nil
			})
			if err != nil {
				return err
			}
			r = r2
		}
		if r.NextInterval >= total || now.Sub(r.RunningSince) > dur+3*iv {
			return m.complete(ctx, name)
		}
	}
	return nil
}

// step is the own-metric bucket the samples are read from.
func (m *Manager) step() time.Duration {
	if m.cfg.MinInterval <= 0 {
		return time.Minute
	}
	return m.cfg.MinInterval
}

// ceilTo is t rounded up to a multiple of step.
func ceilTo(t time.Time, step time.Duration) time.Time {
	if c := t.Truncate(step); !c.Equal(t) {
		return c.Add(step)
	}
	return t
}

// reportWait bounds the wait for the first windows after the warm-up: the
// processors' window is the interval, at most a minute (ExperimentSpec),
// and the first one closes a window after the config applied; three
// windows leave room for a loaded host's late export.
func reportWait(iv time.Duration) time.Duration {
	return 3 * min(iv, time.Minute)
}

// unreported names the host/variant pairs with no input series figure in
// the buckets since since.
func (m *Manager) unreported(ctx context.Context, r *record, latest map[string]store.Agent, since time.Time) ([]string, error) {
	var missing []string
	for _, h := range r.Hosts {
		uid := latest[h.Host].InstanceUID
		if uid == "" {
			uid = h.AgentUID
		}
		bs, err := m.cfg.Store.QueryMetrics(ctx, store.MetricQuery{AgentUID: uid, Name: metricSeries, Stage: stageIn, Step: m.step(), Since: since, Limit: 100000})
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, b := range bs {
			seen[b.Variant] = true
		}
		for i := range r.Variants {
			if !seen[configVariant(r, i)] {
				missing = append(missing, h.Host+"/"+r.Variants[i].Name)
			}
		}
	}
	return missing, nil
}

// collect reads interval k of every host from the own-metric buckets: the
// last value of each figure per variant, per stage, and for the cumulative
// CPU counters their increase over the interval (from the last value before
// the interval to the last in it) per second.
func (m *Manager) collect(ctx context.Context, r *record, latest map[string]store.Agent, k int, start, end time.Time) ([]store.ExperimentSample, error) {
	return m.collectFigures(ctx, r, latest, k, start, end, true)
}

// collectFigures is collect; with variants false it reads only the
// collector's CPU and memory (the intervals before the experiment).
func (m *Manager) collectFigures(ctx context.Context, r *record, latest map[string]store.Agent, k int, start, end time.Time, variants bool) ([]store.ExperimentSample, error) {
	var out []store.ExperimentSample
	step := m.step()
	iv := end.Sub(start)
	for _, h := range r.Hosts {
		uid := latest[h.Host].InstanceUID
		if uid == "" {
			uid = h.AgentUID
		}
		// The buckets of [from, to) make the interval, aligned to the
		// buckets so that a counter's increase spans exactly to - from.
		from, to := start.Truncate(step), end.Truncate(step)
		if !to.After(from) {
			to = from.Add(step)
		}
		bs, err := m.cfg.Store.QueryMetrics(ctx, store.MetricQuery{AgentUID: uid, Step: step, Since: from.Add(-iv), Limit: 100000})
		if err != nil {
			return nil, err
		}
		type key struct{ name, stage, variant string }
		// last: in the interval; prev: the latest before it (counters).
		last, prev := map[key]store.MetricBucket{}, map[key]store.MetricBucket{}
		for _, b := range bs {
			if !b.Start.Before(to) {
				continue
			}
			kk := key{b.Name, b.Stage, b.Variant}
			into := last
			if b.Start.Before(from) {
				into = prev
			}
			if cur, ok := into[kk]; !ok || b.Start.After(cur.Start) {
				into[kk] = b
			}
		}
		// rate is a counter's increase over the interval per second; false
		// when a value is missing or the counter went back (a restart).
		rate := func(kk key) (float64, bool) {
			a, ok1 := prev[kk]
			b, ok2 := last[kk]
			if !ok1 || !ok2 || b.Last < a.Last {
				return 0, false
			}
			return (b.Last - a.Last) / to.Sub(from).Seconds(), true
		}
		add := func(variant, kpi string, v float64) {
			out = append(out, store.ExperimentSample{Interval: k, Time: start, Host: h.Host, Variant: variant, KPI: kpi, Value: v})
		}
		for i := range r.Variants {
			if !variants {
				break
			}
			cv := configVariant(r, i)
			for _, f := range []struct{ metric, stage, kpi string }{
				{metricSeries, stageIn, KPIInputSeries}, {metricProcesses, stageIn, KPIInputProcesses},
				{metricSeries, stageOut, KPIOutputSeries}, {metricDataPoints, stageOut, KPIOutputDataPoints},
				{metricCritical, stageIn, KPICriticalIn}, {metricCritical, stageOut, KPICriticalOut},
			} {
				if b, ok := last[key{f.metric, f.stage, cv}]; ok {
					add(r.Variants[i].Name, f.kpi, b.Last)
				}
			}
			// A raw variant's processors are the user's and may hand data
			// to another goroutine (a batch processor): its processing
			// time is not measured, so the CPU criterion does not decide.
			down, ok1 := rate(key{metricDownstreamCPU, stageIn, cv})
			cons, ok2 := rate(key{metricConsumeCPU, stageOut, cv})
			if ok1 && ok2 && r.Variants[i].Config == "" {
				add(r.Variants[i].Name, KPIProcessingCPU, max(down-cons, 0))
			}
		}
		for _, n := range strings.Split(collectorCPUNames, "|") {
			if v, ok := rate(key{n, "", ""}); ok {
				add("", KPICollectorCPU, v)
				break
			}
		}
		for _, n := range strings.Split(collectorMemoryNames, "|") {
			if b, ok := last[key{n, "", ""}]; ok {
				add("", KPICollectorMemory, b.Last)
				break
			}
		}
	}
	return out, nil
}

// beforeIntervals is how many intervals before the experiment deployed
// are read for the collector's before figures.
const beforeIntervals = 10

// collectBefore reads the collector figures of up to beforeIntervals
// intervals before the experiment deployed (stored as intervals -n..-1).
func (m *Manager) collectBefore(ctx context.Context, r *record, latest map[string]store.Agent, iv time.Duration) ([]store.ExperimentSample, error) {
	var deployed time.Time
	for _, t := range r.Transitions {
		if t.Status == api.ExperimentDeploying {
			deployed = t.At
		}
	}
	if deployed.IsZero() {
		return nil, nil
	}
	var out []store.ExperimentSample
	for j := beforeIntervals; j >= 1; j-- {
		start := deployed.Add(-time.Duration(j) * iv)
		ss, err := m.collectFigures(ctx, r, latest, -j, start, start.Add(iv), false)
		if err != nil {
			return nil, err
		}
		out = append(out, ss...)
	}
	return out, nil
}

// criticalLost is the guardrail on critical processes: a candidate whose
// output kept fewer critical processes than the baseline's input had (the
// baseline's list is the reference: a candidate with a narrower list, or
// one that drops them, loses the processes the team counts on), or than
// its own input had.
func criticalLost(r *record, samples []store.ExperimentSample) string {
	type hv struct{ host, variant string }
	in, outv := map[hv]float64{}, map[hv]float64{}
	for _, s := range samples {
		switch s.KPI {
		case KPICriticalIn:
			in[hv{s.Host, s.Variant}] = s.Value
		case KPICriticalOut:
			outv[hv{s.Host, s.Variant}] = s.Value
		}
	}
	base := r.Variants[0].Name
	for k, o := range outv {
		if k.variant == base {
			continue
		}
		ref, ok := in[hv{k.host, base}]
		if own, ok2 := in[k]; ok2 && (!ok || own > ref) {
			ref, ok = own, true
		}
		if ok && o < ref {
			return fmt.Sprintf("candidate %s lost critical processes on host %s: kept %.0f of %.0f", k.variant, k.host, o, ref)
		}
	}
	return ""
}

func (m *Manager) fail(ctx context.Context, name, reason string) error {
	r, err := m.update(ctx, name, func(r *record) error {
		if !r.Active() {
			return nil
		}
		m.transition(r, api.ExperimentFailed, reason)
		return nil
	})
	if err == nil {
		m.log.Warn("experiment failed", "experiment", name, "reason", reason)
		m.stopLoad(ctx, r)
		m.cfg.HostsChanged(ctx, hostNames(r))
	}
	return err
}

func (m *Manager) complete(ctx context.Context, name string) error {
	ss, err := m.cfg.Store.ListExperimentSamples(ctx, name)
	if err != nil {
		return err
	}
	r, err := m.update(ctx, name, func(r *record) error {
		if r.Status != api.ExperimentRunning {
			return nil
		}
		r.Verdicts = Analyze(r.Experiment, ss)
		var parts []string
		for _, v := range r.Verdicts {
			parts = append(parts, v.Variant+": "+v.Verdict+" ("+v.Criterion+")")
		}
		m.transition(r, api.ExperimentCompleted, strings.Join(parts, "; "))
		return nil
	})
	if err == nil {
		m.stopLoad(ctx, r)
		m.cfg.HostsChanged(ctx, hostNames(r))
	}
	return err
}

// Compare is the comparison of an experiment: its verdicts (computed on
// the samples so far while it runs) and its KPIs over time.
func (m *Manager) Compare(ctx context.Context, name string) (api.Comparison, error) {
	r, err := m.load(ctx, name)
	if err != nil {
		return api.Comparison{}, err
	}
	ss, err := m.cfg.Store.ListExperimentSamples(ctx, name)
	if err != nil {
		return api.Comparison{}, err
	}
	e := r.Experiment
	e.Samples = countIntervals(ss)
	res := r.Verdicts
	if r.Status != api.ExperimentCompleted && r.Status != api.ExperimentPromoted {
		res = Analyze(e, ss)
	}
	return api.Comparison{Experiment: e, Results: res, Series: Series(e, ss), Collector: Collector(ss)}, nil
}
