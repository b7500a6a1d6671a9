package experiment

import (
	"math"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// TestCollectFigures: one interval of 2 minutes read from the 1-minute
// buckets: each figure is its last bucket in the interval (not a later
// one), a counter's rate runs from the latest bucket before the interval
// to the last in it, a variant's processing CPU is its downstream minus
// its consume rate (never below 0, not for a raw variant), a counter that
// went back (a restart) gives nothing, and the collector's CPU and memory
// are read under any of their names. (Named to sort first: see
// a_manager_test.go.)
func TestCollectFigures(t *testing.T) {
	f := newFixture(t, 3)
	start := time.Date(2026, 12, 2, 6, 10, 0, 0, time.UTC)
	at := func(min int) time.Time { return start.Add(time.Duration(min)*time.Minute + 5*time.Second) }
	var pts []store.MetricPoint
	put := func(uid, name, stage, variant string, min int, v float64) {
		pts = append(pts, store.MetricPoint{AgentUID: uid, Name: name, Pipeline: "p", Stage: stage, Variant: variant, Time: at(min), Value: v})
	}
	// agent-0: baseline, candidate and a raw candidate2.
	for _, v := range []string{"baseline", "candidate", "candidate2"} {
		put("agent-0", metricSeries, stageIn, v, -1, 1)   // before the interval
		put("agent-0", metricSeries, stageIn, v, 0, 900)  // in it, not the last
		put("agent-0", metricSeries, stageIn, v, 1, 1000) // the last in it
		put("agent-0", metricSeries, stageIn, v, 2, 5)    // after it
		put("agent-0", metricSeries, stageOut, v, 1, 250)
		put("agent-0", metricDataPoints, stageOut, v, 1, 7000)
		put("agent-0", metricProcesses, stageIn, v, 1, 50)
		put("agent-0", metricCritical, stageIn, v, 1, 5)
		put("agent-0", metricCritical, stageOut, v, 1, 4)
	}
	// Counters: the older bucket before the interval must not count.
	put("agent-0", metricDownstreamCPU, stageIn, "baseline", -2, 0)
	put("agent-0", metricDownstreamCPU, stageIn, "baseline", -1, 10)
	put("agent-0", metricDownstreamCPU, stageIn, "baseline", 1, 22) // 12 s over 120 s
	put("agent-0", metricConsumeCPU, stageOut, "baseline", -1, 4)
	put("agent-0", metricConsumeCPU, stageOut, "baseline", 1, 10) // 6 s: processing 0.05
	put("agent-0", metricDownstreamCPU, stageIn, "candidate", -1, 10)
	put("agent-0", metricDownstreamCPU, stageIn, "candidate", 1, 12)
	put("agent-0", metricConsumeCPU, stageOut, "candidate", -1, 4)
	put("agent-0", metricConsumeCPU, stageOut, "candidate", 1, 10) // more consumed than downstream: 0
	put("agent-0", metricDownstreamCPU, stageIn, "candidate2", -1, 10)
	put("agent-0", metricDownstreamCPU, stageIn, "candidate2", 1, 22)
	put("agent-0", metricConsumeCPU, stageOut, "candidate2", -1, 4)
	put("agent-0", metricConsumeCPU, stageOut, "candidate2", 1, 10)
	put("agent-0", "otelcol_process_cpu_seconds", "", "", -1, 100)
	put("agent-0", "otelcol_process_cpu_seconds", "", "", 1, 160) // 0.5 cores
	put("agent-0", "otelcol.process.memory.rss", "", "", 1, 5e8)
	put("agent-0", "otelcol.process.memory.rss", "", "", 2, 9e9) // after the interval
	// agent-1: its first CPU name went back (a restart), its third is
	// fine; its downstream counter went back too.
	put("agent-1", "otelcol.process.cpu.time", "", "", -1, 50)
	put("agent-1", "otelcol.process.cpu.time", "", "", 1, 20)
	put("agent-1", "otelcol_process_cpu_seconds_total", "", "", -1, 1)
	put("agent-1", "otelcol_process_cpu_seconds_total", "", "", 1, 121) // 1 core
	put("agent-1", "otelcol_process_memory_rss_bytes", "", "", 1, 3e8)
	put("agent-1", metricDownstreamCPU, stageIn, "baseline", -1, 10)
	put("agent-1", metricDownstreamCPU, stageIn, "baseline", 1, 5)
	put("agent-1", metricConsumeCPU, stageOut, "baseline", -1, 1)
	put("agent-1", metricConsumeCPU, stageOut, "baseline", 1, 2)
	// agent-2: an idle collector, its CPU counter unchanged: 0 cores.
	put("agent-2", "otelcol_process_cpu_seconds", "", "", -1, 7)
	put("agent-2", "otelcol_process_cpu_seconds", "", "", 1, 7)
	if err := f.st.WriteMetrics(f.ctx, pts, []store.Resolution{{Step: time.Minute, Retention: 24 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	r := &record{Experiment: api.Experiment{Name: "c", Interval: "2m",
		Variants: []api.Variant{{Name: "baseline", Template: topk}, {Name: "fast", Template: topk}, {Name: "candidate2", Config: rawVariant}},
		Hosts:    []api.ExperimentHost{{Host: "host-0", AgentUID: "agent-0"}, {Host: "host-1", AgentUID: "gone"}, {Host: "host-2", AgentUID: "agent-2"}}}}
	// host-1's current agent is agent-1 (the record's uid is stale).
	latest := map[string]store.Agent{"host-1": {InstanceUID: "agent-1", HostName: "host-1"}}
	ss, err := f.m.collect(f.ctx, r, latest, 3, start, start.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ host, variant, kpi string }
	got := map[key]float64{}
	for _, s := range ss {
		if s.Interval != 3 || !s.Time.Equal(start) {
			t.Errorf("sample %+v: want interval 3 at %s", s, start)
		}
		k := key{s.Host, s.Variant, s.KPI}
		if _, dup := got[k]; dup {
			t.Errorf("%v twice", k)
		}
		got[k] = s.Value
	}
	want := map[key]float64{
		{"host-0", "", KPICollectorCPU}: 0.5, {"host-0", "", KPICollectorMemory}: 5e8,
		{"host-0", "baseline", KPIProcessingCPU}: 0.05, {"host-0", "fast", KPIProcessingCPU}: 0,
		{"host-1", "", KPICollectorCPU}: 1, {"host-1", "", KPICollectorMemory}: 3e8,
		{"host-2", "", KPICollectorCPU}: 0,
	}
	// The reported variant "candidate" is the first candidate, "fast" here.
	for _, v := range []string{"baseline", "fast", "candidate2"} {
		for kpi, x := range map[string]float64{KPIInputSeries: 1000, KPIOutputSeries: 250, KPIOutputDataPoints: 7000, KPIInputProcesses: 50, KPICriticalIn: 5, KPICriticalOut: 4} {
			want[key{"host-0", v, kpi}] = x
		}
	}
	for k, x := range want {
		if g, ok := got[k]; !ok || math.Abs(g-x) > 1e-9 {
			t.Errorf("%v = %v (%v), want %v", k, g, ok, x)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %v = %v", k, g)
		}
	}
	// An interval shorter than a bucket reads the bucket it lies in.
	short, err := f.m.collect(f.ctx, r, latest, 0, start.Add(61*time.Second), start.Add(91*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var in float64
	for _, s := range short {
		if s.Host == "host-0" && s.Variant == "baseline" && s.KPI == KPIInputSeries {
			in = s.Value
		}
	}
	if in != 1000 {
		t.Errorf("30 s interval inside the 06:11 bucket: input series %v, want 1000", in)
	}
	// The bucket: the finest resolution, a minute when none is set.
	if f.m.step() != time.Minute {
		t.Errorf("step %s", f.m.step())
	}
	f.m.cfg.MinInterval = 0
	if f.m.step() != time.Minute {
		t.Errorf("step %s without a finest resolution, want 1m", f.m.step())
	}
	f.m.cfg.MinInterval = 10 * time.Second
	if f.m.step() != 10*time.Second {
		t.Errorf("step %s, want 10s", f.m.step())
	}
}

// TestCollectBefore: the collector figures of the intervals before the
// experiment deployed, stored as intervals -10..-1 (no variant figures);
// nothing before a deployment.
func TestCollectBefore(t *testing.T) {
	f := newFixture(t, 1)
	deployed := time.Date(2026, 12, 2, 6, 20, 0, 0, time.UTC)
	var pts []store.MetricPoint
	for min := -12; min < 0; min++ {
		pts = append(pts,
			store.MetricPoint{AgentUID: "agent-0", Name: "otelcol_process_memory_rss", Time: deployed.Add(time.Duration(min)*time.Minute + time.Second), Value: float64(100 + min)},
			store.MetricPoint{AgentUID: "agent-0", Name: metricSeries, Pipeline: "p", Stage: stageIn, Variant: "baseline", Time: deployed.Add(time.Duration(min)*time.Minute + time.Second), Value: 1})
	}
	if err := f.st.WriteMetrics(f.ctx, pts, []store.Resolution{{Step: time.Minute, Retention: 24 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	r := &record{Experiment: api.Experiment{Name: "b", Interval: "1m",
		Variants:    []api.Variant{{Name: "baseline", Template: topk}, {Name: "candidate", Template: topk}},
		Hosts:       []api.ExperimentHost{{Host: "host-0", AgentUID: "agent-0"}},
		Transitions: []api.Transition{{Status: api.ExperimentPending, At: deployed.Add(-time.Hour)}}}}
	if ss, err := f.m.collectBefore(f.ctx, r, nil, time.Minute); err != nil || len(ss) != 0 {
		t.Fatalf("not deployed: %d samples, %v", len(ss), err)
	}
	r.Transitions = append(r.Transitions, api.Transition{Status: api.ExperimentDeploying, At: deployed})
	ss, err := f.m.collectBefore(f.ctx, r, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 10 {
		t.Fatalf("%d samples, want 10: %+v", len(ss), ss)
	}
	for i, s := range ss {
		j := i - 10 // -10 .. -1, in order
		if s.Interval != j || s.KPI != KPICollectorMemory || s.Variant != "" || s.Value != float64(100+j) || !s.Time.Equal(deployed.Add(time.Duration(j)*time.Minute)) {
			t.Errorf("sample %d: %+v, want interval %d memory %d", i, s, j, 100+j)
		}
	}
}
