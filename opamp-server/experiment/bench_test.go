package experiment

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// samples100x24h is a day of 1-minute samples on 100 hosts for a baseline
// and one candidate: 1,440 intervals x 100 hosts x (2 variants x 7 KPIs +
// the collector's CPU).
func samples100x24h() []store.ExperimentSample {
	rng := rand.New(rand.NewPCG(1, 1))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]store.ExperimentSample, 0, 1440*100*(2*7+1))
	for k := range 1440 {
		at := t0.Add(time.Duration(k) * time.Minute)
		for h := range 100 {
			host := fmt.Sprintf("host-%03d", h)
			in := 700 + rng.NormFloat64()*30
			for _, v := range []struct {
				name  string
				share float64
			}{{"baseline", 1}, {"candidate", 0.22}} {
				o := in * v.share
				for _, kv := range []struct {
					kpi string
					val float64
				}{{KPIInputSeries, in}, {KPIInputProcesses, 100}, {KPIOutputSeries, o}, {KPIOutputDataPoints, o * 7}, {KPICriticalIn, 5}, {KPICriticalOut, 5},
					{KPIProcessingCPU, 0.001 * v.share * (1 + rng.NormFloat64()*0.05)}} {
					out = append(out, store.ExperimentSample{Interval: k, Time: at, Host: host, Variant: v.name, KPI: kv.kpi, Value: kv.val})
				}
			}
			out = append(out, store.ExperimentSample{Interval: k, Time: at, Host: host, KPI: KPICollectorCPU, Value: 0.02 + rng.NormFloat64()*0.001})
		}
	}
	return out
}

// The KPIs and the verdict of 100 hosts x 24 h of 1-minute samples, with
// and without the CPU figures (side by side: what the CPU KPIs cost).
func BenchmarkAnalyze100Hosts24h(b *testing.B) {
	all := samples100x24h()
	var noCPU []store.ExperimentSample
	for _, s := range all {
		if s.KPI != KPIProcessingCPU && s.KPI != KPICollectorCPU {
			noCPU = append(noCPU, s)
		}
	}
	e := api.Experiment{Interval: "1m", Variants: []api.Variant{{Name: "baseline"}, {Name: "candidate", Template: "process-aggregated-v1"}},
		Criteria: api.Criteria{MinReductionPct: 20, MaxCPUIncreasePct: 50, Alpha: 0.05, MinSamples: 10, CriticalRetentionPct: 100},
		Prices:   api.Prices{PerMillionDataPoints: DefaultPricePerMillionDataPoints, PerActiveSeries: DefaultPricePerActiveSeries}}
	for _, c := range []struct {
		name string
		ss   []store.ExperimentSample
		cpu  bool
	}{{"without-cpu", noCPU, false}, {"with-cpu", all, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportMetric(float64(len(c.ss)), "samples")
			b.ReportAllocs()
			for b.Loop() {
				r := Analyze(e, c.ss)
				if len(r) != 1 || r[0].Verdict != api.VerdictPromote || r[0].Intervals != 1440 || r[0].CPUMeasured != c.cpu {
					b.Fatalf("%+v", r)
				}
			}
		})
	}
}
