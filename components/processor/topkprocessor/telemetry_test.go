package topkprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func counterFor(t *testing.T, h *harness, name, host string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
	}
	var total int64
	for _, dp := range sum.DataPoints {
		if v, ok := dp.Attributes.Value(labelGroup); ok && v.AsString() == host {
			total += dp.Value
		}
	}
	return total
}

func counterSum(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	return total
}

func gaugeValue(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	if !ok || len(g.DataPoints) != 1 {
		t.Fatalf("%s: %#v", name, m.Data)
	}
	return g.DataPoints[0].Value
}

// Shutdown unregisters the gauges' callback: a processor that was shut down
// (a collector reload) no longer reports its tracked processes and groups,
// nor is it kept alive by the meter.
func TestShutdownUnregistersGauges(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	h.run(scrape(10, pr{pid: 1, name: "a"}, pr{pid: 2, name: "b"}))
	if v := gaugeValue(t, h, telTracked); v != 2 {
		t.Fatalf("%s = %d before shutdown, want 2", telTracked, v)
	}
	if err := h.p.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{telTracked, telGroups} {
		if m, err := h.tel.GetMetric(name); err == nil {
			if g, ok := m.Data.(metricdata.Gauge[int64]); !ok || len(g.DataPoints) > 0 {
				t.Errorf("%s still reported after shutdown: %#v", name, m.Data)
			}
		}
	}
}

// Counters of events that did not happen get no series: in roll-up mode
// (nothing ranked, so no keep-set change), with nothing untracked, no
// probation and no dropped point, those counters are not reported at all
// (a zero series per host and change would be series for nothing).
func TestNoSeriesForEventsThatDidNotHappen(t *testing.T) {
	h := newHarness(t, rollUpConfig(nil))
	w := &world{}
	w.add(pr{pid: 1, name: "a", category: "x"}, 1)
	w.add(pr{pid: 2, name: "b"}, 0.5)
	h.run(w.step())
	h.run(w.step())
	if v := counterSum(t, h, telProcessesAggr); v != 4 {
		t.Fatalf("%s = %d, want 4", telProcessesAggr, v)
	}
	for _, name := range []string{telUntracked, telProbation, telDroppedDataPoints, telKeptSetChanges} {
		if m, err := h.tel.GetMetric(name); err == nil {
			t.Errorf("%s reported with nothing to count: %#v", name, m.Data)
		}
	}
}
