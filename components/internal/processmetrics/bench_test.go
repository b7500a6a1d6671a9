package processmetrics

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// batch builds n process resources (7 data points each, as the scraper).
func batch(n int, now pcommon.Timestamp, cpuScale float64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for i := 0; i < n; i++ {
		appendProc(md, proc{
			host: "host-1", pid: int64(1000 + i), name: fmt.Sprintf("proc-%d", i%50),
			cmdline: fmt.Sprintf("/usr/bin/proc-%d --worker %d", i%50, i), start: at(0),
			cpu: [3]float64{cpuScale * float64(i%17), cpuScale * float64(i%5), 0}, mem: int64(i) << 20,
		}, now)
	}
	return md
}

// observeBatch is the per-batch loop every processor runs: Read each
// resource, Observe it, End the interval.
func observeBatch(tr *Tracker[int], md pmetric.Metrics, r *Resource) {
	tr.Begin()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		if Read(rms.At(i), r) {
			tr.Observe(r.ID, &r.Sample)
		}
	}
	tr.End(nil)
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	tr, _ := NewTracker[int](TrackerConfig{Smoothing: SmoothingMax, Window: 4, PruneAfter: 3, MaxTracked: 10000})
	a, b := batch(1000, at(10), 1), batch(1000, at(20), 2)
	var r Resource
	observeBatch(tr, a, &r)
	observeBatch(tr, b, &r)
	allocs := testing.AllocsPerRun(20, func() {
		observeBatch(tr, a, &r)
		observeBatch(tr, b, &r)
	})
	if allocs != 0 {
		t.Fatalf("steady state allocates %.1f times per two batches of 1000 processes", allocs)
	}
}

func BenchmarkReadObserve(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		for _, sm := range []Smoothing{SmoothingEWMA, SmoothingMax} {
			b.Run(fmt.Sprintf("processes=%d/smoothing=%s", n, sm), func(b *testing.B) {
				tr, _ := NewTracker[int](TrackerConfig{Smoothing: sm, Window: 5, PruneAfter: 3, MaxTracked: 2 * n})
				batches := []pmetric.Metrics{batch(n, at(10), 1), batch(n, at(20), 2)}
				var r Resource
				observeBatch(tr, batches[0], &r)
				observeBatch(tr, batches[1], &r)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					observeBatch(tr, batches[i&1], &r)
				}
				dps := float64(b.N) * float64(n) * 7
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/dps, "ns/datapoint")
				b.ReportMetric(float64(testing.AllocsPerRun(1, func() { observeBatch(tr, batches[0], &r) }))/(float64(n)*7), "allocs/datapoint")
			})
		}
	}
}
