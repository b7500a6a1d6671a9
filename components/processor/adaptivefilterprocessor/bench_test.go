package adaptivefilterprocessor

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// BenchmarkProcessor measures one batch (one scrape of one host) through the
// processor in steady state, after the controller has converged, with a
// budget of 200 processes. The batches are generated with the timer stopped;
// ns/datapoint and allocs/datapoint are per input data point (7 per process).
func BenchmarkProcessor(b *testing.B) {
	for _, n := range []int{100, 1_000, 10_000} {
		for _, unit := range []string{UnitProcesses, UnitSeries} {
			b.Run(fmt.Sprintf("processes=%d/unit=%s", n, unit), func(b *testing.B) {
				benchmarkProcessor(b, n, unit)
			})
		}
	}
}

func benchmarkProcessor(b *testing.B, n int, unit string) {
	cfg := testConfig()
	cfg.CriticalProcesses = criticalPatterns
	cfg.MaxCardinality = 200
	if unit == UnitSeries {
		cfg.MaxCardinality = 1400
	}
	cfg.BudgetUnit = unit
	h := newHarness(b, cfg)
	host := newFakeHost("bench")
	rng := rand.New(rand.NewPCG(9, 9))
	addCritical(host)
	pop := addPopulation(host, rng, n-8)
	base := cpus(pop)
	for range 30 { // converge, fill the tracker
		jitter(rng, pop, base)
		h.run(host.tick())
	}

	var points, mallocs uint64
	var ms runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		jitter(rng, pop, base)
		md := host.tick()
		points += uint64(md.DataPointCount())
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		b.StartTimer()

		out, _ := h.p.processMetrics(b.Context(), md)

		b.StopTimer()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - before
		if out.ResourceMetrics().Len() == 0 {
			b.Fatal("everything dropped")
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(points), "ns/datapoint")
	b.ReportMetric(float64(mallocs)/float64(points), "allocs/datapoint")
	b.ReportMetric(float64(points)/float64(b.N), "datapoints/batch")
}

// BenchmarkEphemeralName is the per-process cost of the ephemeral-name rule.
func BenchmarkEphemeralName(b *testing.B) {
	names := []string{"nginx", "python3", "job-1700000000123", "tmp_3f9a8c7e2b1d", "containerd-shim-runc-v2"}
	b.ReportAllocs()
	for i := range b.N {
		ephemeralName(names[i%len(names)], 6, 12)
	}
}

var _ = pmetric.NewMetrics
