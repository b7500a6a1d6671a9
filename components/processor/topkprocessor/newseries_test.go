package topkprocessor

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// A rolled-up process that gains a series (a metric the scraper starts
// sending, here ahead of the others) gets its own other series for it; its
// existing series keep theirs. Level sums carry the other's start time,
// gauges none.
func TestRolledUpProcessGainsASeries(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "top"}, 4)
	w.add(pr{pid: 2, name: "rolled", mem: 100}, 1)
	h.run(w.step())

	md := w.step()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		if pid, _ := rms.At(i).Resource().Attributes().Get(processmetrics.AttrPID); pid.Int() != 2 {
			continue
		}
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		front := pmetric.NewMetricSlice()
		m := front.AppendEmpty()
		m.SetName("process.threads")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(at(w.now))
		dp.SetIntValue(7)
		ms.MoveAndAppendTo(front)
		front.MoveAndAppendTo(ms)
	}
	out := h.run(md)
	for _, c := range []struct {
		name, key, val string
		want           float64
	}{
		{"process.threads", "", "", 7},
		{"process.memory.usage", "", "", 100},
		{"process.cpu.time", "state", "user", 16},  // 8 s per interval
		{"process.cpu.time", "state", "system", 4}, // 2 s per interval
	} {
		if v := otherValue(t, out, "", c.name, c.key, c.val); v != c.want {
			t.Errorf("other %s{%s=%s} = %v, want %v", c.name, c.key, c.val, v, c.want)
		}
	}
	rm := mustOther(t, out)
	if dp, _ := point(rm, "process.memory.usage", "", ""); dp.StartTimestamp() != at(0) {
		t.Errorf("other memory (a level sum) StartTimestamp %v, want the processes' start %v", dp.StartTimestamp(), at(0))
	}
	if dp, _ := point(rm, "process.threads", "", ""); dp.StartTimestamp() != 0 {
		t.Errorf("other threads (a gauge) StartTimestamp %v, want none", dp.StartTimestamp())
	}
}

// The interned fast path recognises a series at its usual position only
// when name and attributes match: a rolled-up process whose points change
// shape in place (another metric with the same attribute, a point with an
// extra attribute, an attribute on a point that had none) gets new other
// series for them rather than adding them to the old ones.
func TestRolledUpSeriesChangeShape(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(ms pmetric.MetricSlice, now pcommon.Timestamp)
		metric string
		points int // other's points of metric after the change
	}{
		{"another metric, same attribute", func(ms pmetric.MetricSlice, now pcommon.Timestamp) {
			front := pmetric.NewMetricSlice()
			g := front.AppendEmpty()
			g.SetName("process.cpu.utilization")
			dps := g.SetEmptyGauge().DataPoints()
			for _, st := range []string{"user", "system", "wait"} {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(now)
				dp.SetDoubleValue(0.5)
				dp.Attributes().PutStr("state", st)
			}
			ms.MoveAndAppendTo(front)
			front.MoveAndAppendTo(ms)
		}, "process.cpu.utilization", 3},
		{"an extra attribute", func(ms pmetric.MetricSlice, _ pcommon.Timestamp) {
			dps := metricIn(ms, "process.cpu.time").Sum().DataPoints()
			for k := 0; k < dps.Len(); k++ {
				dps.At(k).Attributes().PutStr("cpu", "cpu0")
			}
		}, "process.cpu.time", 6},
		{"the same points in another order", func(ms pmetric.MetricSlice, _ pcommon.Timestamp) {
			dps := metricIn(ms, "process.cpu.time").Sum().DataPoints()
			moved := pmetric.NewNumberDataPointSlice()
			dps.MoveAndAppendTo(moved)
			for k := moved.Len() - 1; k >= 0; k-- { // wait, system, user
				moved.At(k).CopyTo(dps.AppendEmpty())
			}
		}, "process.cpu.time", 3},
		{"an attribute where there was none", func(ms pmetric.MetricSlice, _ pcommon.Timestamp) {
			metricIn(ms, "process.memory.usage").Sum().DataPoints().At(0).Attributes().PutStr("kind", "rss")
		}, "process.memory.usage", 2},
	} {
		h := newHarness(t, testConfig(func(cfg *Config) {
			cfg.TopK = 1
			cfg.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
		}))
		w := &world{}
		w.add(pr{pid: 1, name: "top"}, 4)
		w.add(pr{pid: 2, name: "rolled", mem: 100}, 1)
		h.run(w.step())
		md := w.step()
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			if pid, _ := rms.At(i).Resource().Attributes().Get(processmetrics.AttrPID); pid.Int() == 2 {
				c.change(rms.At(i).ScopeMetrics().At(0).Metrics(), at(w.now))
			}
		}
		out := h.run(md)
		rm := mustOther(t, out)
		if n := dataPoints(metricOf(rm, c.metric)); n != c.points {
			t.Errorf("%s: other has %d %s points, want %d", c.name, n, c.metric, c.points)
		}
		if v := otherValue(t, out, "", "process.cpu.time", "state", "user"); v != 16 && c.points != 6 {
			t.Errorf("%s: other cpu user %v, want 16", c.name, v)
		}
	}
}

func metricIn(ms pmetric.MetricSlice, name string) pmetric.Metric {
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i)
		}
	}
	return pmetric.NewMetric()
}

func dataPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	}
	return 0
}

// Delta series on other: a point starts at the earliest start of the
// processes that contributed, and a delta metric no process contributed to
// in an interval is left out (not written empty).
func TestOtherDeltaSeries(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	now := 100.0
	md := scrape(now,
		pr{pid: 1, name: "top", delta: true, cpu: [3]float64{50, 0, 0}},
		pr{pid: 2, name: "b", delta: true, cpu: [3]float64{2, 0, 0}},
		pr{pid: 3, name: "c", delta: true, cpu: [3]float64{1, 0, 0}},
	)
	// c's points cover a longer window (a late scrape): from now-2*interval.
	rm := md.ResourceMetrics().At(2)
	dps := metricOf(rm, "process.cpu.time").Sum().DataPoints()
	for k := 0; k < dps.Len(); k++ {
		dps.At(k).SetStartTimestamp(at(now - 2*interval))
	}
	out := h.run(md)
	dp, ok := point(mustOther(t, out), "process.cpu.time", "state", "user")
	if !ok || num(dp) != 3 {
		t.Fatalf("other delta cpu user %v (found %v), want 3", num(dp), ok)
	}
	if dp.StartTimestamp() != at(now-2*interval) {
		t.Fatalf("other delta StartTimestamp %v, want the earliest %v", dp.StartTimestamp(), at(now-2*interval))
	}

	// Next interval only the kept process: other has no delta cpu metric.
	out = h.run(scrape(now+interval, pr{pid: 1, name: "top", delta: true, cpu: [3]float64{50, 0, 0}}))
	if m := metricOf(mustOther(t, out), "process.cpu.time"); m.Name() != "" {
		t.Fatalf("other carries %s (%d points) with no contributor", m.Name(), dataPoints(m))
	}
}
