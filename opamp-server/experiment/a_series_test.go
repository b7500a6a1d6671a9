package experiment

import (
	"fmt"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// TestSeriesAndCollector: Series sums each KPI over the hosts per
// interval and leaves out the intervals without a figure; Collector
// averages per host and interval, before and during, and counts only the
// intervals with figures. (Named to sort first: see a_manager_test.go.)
func TestSeriesAndCollector(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	var ss []store.ExperimentSample
	add := func(k int, host, v, kpi string, x float64) {
		ss = append(ss, store.ExperimentSample{Interval: k, Time: t0.Add(time.Duration(k) * time.Minute), Host: host, Variant: v, KPI: kpi, Value: x})
	}
	for k := range 3 {
		for _, h := range []string{"h1", "h2"} {
			add(k, h, "baseline", KPIOutputSeries, 100)
			add(k, h, "", KPICollectorCPU, 0.5)
			if k != 1 { // interval 1: no memory figure, no candidate output
				add(k, h, "candidate", KPIOutputSeries, 25)
				add(k, h, "", KPICollectorMemory, 1e8)
			}
		}
	}
	// Two intervals before the experiment, one host each.
	add(-2, "h1", "", KPICollectorMemory, 5e7)
	add(-1, "h1", "", KPICollectorMemory, 7e7)
	e := exp2()
	points := func(kpi, variant string) string {
		for _, s := range Series(e, ss) {
			if s.KPI == kpi && s.Variant == variant {
				out := ""
				for _, p := range s.Points {
					out += fmt.Sprintf("%d@%s=%g ", p.Interval, p.Time.Format("15:04"), p.Value)
				}
				return out
			}
		}
		return "none"
	}
	for _, c := range []struct{ kpi, variant, want string }{
		{KPIOutputSeries, "baseline", "0@06:00=200 1@06:01=200 2@06:02=200 "},
		{KPIOutputSeries, "candidate", "0@06:00=50 2@06:02=50 "},
		{KPIInputSeries, "baseline", ""},
		{KPICollectorCPU, "collector", "0@06:00=1 1@06:01=1 2@06:02=1 "},
		{KPICollectorMemory, "collector", "0@06:00=2e+08 2@06:02=2e+08 "},
	} {
		if got := points(c.kpi, c.variant); got != c.want {
			t.Errorf("series %s/%s: %q, want %q", c.kpi, c.variant, got, c.want)
		}
	}
	byKPI := map[string]api.BeforeDuring{}
	for _, b := range Collector(ss) {
		byKPI[b.KPI] = b
	}
	if m := byKPI[KPICollectorMemory]; m.BeforeN != 2 || m.BeforeMean != 6e7 || m.DuringN != 2 || m.DuringMean != 1e8 {
		t.Errorf("memory before/during: %+v", m)
	}
	if c, ok := byKPI[KPICollectorCPU]; !ok || c.BeforeN != 0 || c.DuringN != 3 || c.DuringMean != 0.5 {
		t.Errorf("cpu before/during: %+v %v", c, ok)
	}
	var even []store.ExperimentSample
	for _, s := range ss {
		if s.KPI == KPICollectorMemory {
			even = append(even, s)
		}
	}
	// As many intervals before as during: reported too.
	if got := Collector(even); len(got) != 1 || got[0].BeforeN != 2 || got[0].DuringN != 2 {
		t.Errorf("memory 2 before and 2 during: %+v", got)
	}
}
