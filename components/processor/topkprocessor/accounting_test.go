package topkprocessor

import (
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// With others: drop every process not kept is counted as dropped (and none
// as aggregated), per interval.
func TestOthersDropCounted(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.Others = OthersDrop }))
	w := &world{}
	w.add(pr{pid: 1, name: "a"}, 1)
	w.add(pr{pid: 2, name: "b"}, 0.5)
	w.add(pr{pid: 3, name: "c"}, 0.2)
	h.run(w.step())
	h.run(w.step())
	for _, c := range []struct {
		name string
		want int64
	}{{telProcessesDropped, 4}, {telProcessesAggr, 0}, {telProcessesKept, 2}, {telProcessesIn, 6}} {
		if got := counterFor(t, h, c.name, ""); got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
}

// topk behind topk: the first's other resource (no pid, other_name) passes
// through the second untouched; it is not ranked as a process. A resource
// without a pid under another name is still a process.
func TestUpstreamOtherPassesThrough(t *testing.T) {
	cfg := func(c *Config) { c.TopK = 1 }
	first, second := newHarness(t, testConfig(cfg)), newHarness(t, testConfig(cfg))
	w := &world{}
	w.add(pr{pid: 1, name: "a"}, 1)
	w.add(pr{pid: 2, name: "b"}, 0.5)
	w.add(pr{pid: 3, name: "c"}, 0.2)
	mid := first.run(w.step())
	if _, ok := otherOf(mid, "", "_other"); !ok {
		t.Fatal("the first topk wrote no other resource")
	}
	n := mid.ResourceMetrics().Len()
	out := second.run(mid)
	if got := out.ResourceMetrics().Len(); got != n {
		t.Fatalf("the second topk turned %d resources into %d", n, got)
	}
	if v := counterFor(t, second, telProcessesIn, ""); v != 1 {
		t.Fatalf("the second topk counted %d processes in, want 1 (the other resource is not one)", v)
	}
	if v := otherValue(t, out, "", metricProcessCount, "", ""); v != 2 {
		t.Fatalf("process.count of the passed-through other = %v, want the first topk's 2", v)
	}

	// No pid, another name: a process (ranked, counted).
	third := newHarness(t, testConfig(cfg))
	md := scrape(10, pr{pid: 1, name: "a"})
	md.ResourceMetrics().At(0).Resource().Attributes().Remove(processmetrics.AttrPID)
	third.run(md)
	if v := counterFor(t, third, telProcessesIn, ""); v != 1 {
		t.Fatalf("a process without a pid: processes.in = %d, want 1", v)
	}
}

// Past max_tracked_processes a process is rolled up without state, still
// into the roll-up of its category: its levels count there.
func TestUntrackedProcessRolledUpByCategory(t *testing.T) {
	h := newHarness(t, rollUpConfig(func(c *Config) { c.MaxTrackedProcesses = 1 }))
	w := &world{}
	w.add(pr{pid: 1, name: "chrome", mem: 10, category: "browsers"}, 1)
	w.add(pr{pid: 2, name: "firefox", mem: 20, category: "browsers"}, 1) // untracked
	w.add(pr{pid: 3, name: "bash", mem: 40, category: "system"}, 1)      // untracked
	for step := 0; step < 2; step++ {
		out := h.run(w.step())
		for cat, want := range map[string]float64{"browsers": 30, "system": 40} {
			rm, ok := rollupOf(out, "", "_other", cat)
			if !ok {
				t.Fatalf("step %d: no roll-up for %s", step, cat)
			}
			dp, ok := point(rm, "process.memory.usage", "", "")
			if !ok || num(dp) != want {
				t.Fatalf("step %d: %s memory %v (found %v), want %v", step, cat, num(dp), ok, want)
			}
		}
	}
	if v := counterSum(t, h, telUntracked); v != 4 {
		t.Fatalf("%s = %d, want 4 (2 processes x 2 intervals)", telUntracked, v)
	}
	// Every point found its other series: none dropped (bash's are the
	// first series of its roll-up).
	if _, err := h.tel.GetMetric(telDroppedDataPoints); err == nil {
		t.Fatalf("%s = %d, want none", telDroppedDataPoints, counterSum(t, h, telDroppedDataPoints))
	}
}

// Weighted ranking when every process has 0 CPU (or 0 memory): that part
// adds nothing (not 0/0), and the other part still ranks them.
func TestWeightedRankingWithAZeroPart(t *testing.T) {
	for _, c := range []struct {
		name string
		ps   []pr
		rate float64
		want int64
	}{
		{"no CPU", []pr{{pid: 1, name: "a", mem: 10}, {pid: 2, name: "b", mem: 400}, {pid: 3, name: "c", mem: 100}}, 0, 2},
		{"no memory", []pr{{pid: 1, name: "a"}, {pid: 2, name: "b"}, {pid: 3, name: "c"}}, -1, 3},
	} {
		h := newHarness(t, testConfig(func(cfg *Config) {
			cfg.TopK = 1
			cfg.Ranking = RankingWeighted
			cfg.Weights = Weights{CPU: 0.5, Memory: 0.5}
		}))
		w := &world{}
		for i, p := range c.ps {
			rate := c.rate
			if rate < 0 {
				rate = float64(i + 1) // 1, 2, 3 cores
			}
			w.add(p, rate)
		}
		if got := keptPIDs(h.run(w.step()))[""]; len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: kept %v, want [%d]", c.name, got, c.want)
		}
		for _, e := range h.p.groups[""].candidates {
			if s := e.Ext.score; s != s || s < 0 || s > 0.5 {
				t.Errorf("%s: score %v, want within [0, 0.5] (one part of weight 0.5)", c.name, s)
			}
		}
	}
}

// Past maxOtherSeries (and maxDescs) series in a group, a rolled-up
// process's further points are counted as dropped, each interval, and the
// series past maxDescs still work without the interned fast path.
func TestSeriesPastTheGroupLimits(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "top"}, 4)
	w.add(pr{pid: 2, name: "wide"}, 1)
	const extra = 10
	step := func() pmetric.Metrics {
		md := w.step()
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			if pid, _ := rms.At(i).Resource().Attributes().Get(processmetrics.AttrPID); pid.Int() != 2 {
				continue
			}
			dps := rms.At(i).ScopeMetrics().At(0).Metrics().AppendEmpty()
			dps.SetName("process.custom.gauge")
			g := dps.SetEmptyGauge().DataPoints()
			for k := 0; k < maxOtherSeries+extra; k++ {
				dp := g.AppendEmpty()
				dp.SetTimestamp(at(w.now))
				dp.SetIntValue(1)
				dp.Attributes().PutStr("k", strconv.Itoa(k))
			}
		}
		return md
	}
	// The wide process has 7 usual series and maxOtherSeries+10 gauge points.
	dropped := int64(7 + extra)
	for i := int64(1); i <= 2; i++ {
		h.run(step())
		if v := counterSum(t, h, telDroppedDataPoints); v != i*dropped {
			t.Fatalf("interval %d: %s = %d, want %d", i, telDroppedDataPoints, v, i*dropped)
		}
	}
}
