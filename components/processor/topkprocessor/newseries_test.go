package topkprocessor

import (
	"testing"

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
