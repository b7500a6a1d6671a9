package cardinalityprocessor

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkProcess measures the processor on hostmetrics-shaped scrapes of
// 100, 1,000 and 10,000 processes (7 data points each), reporting ns and
// allocations per data point:
//   - warm: the series were already seen in this window (5 of 6 scrapes with
//     the default 1m window and a 10s scrape interval);
//   - cold: every scrape opens a new window (all series new, offender keys
//     recorded, the window closed and published every time).
func BenchmarkProcess(b *testing.B) {
	for _, procs := range []int{100, 1_000, 10_000} {
		md := processBatch(procs, 1, defaultNames)
		points := md.DataPointCount()
		cfg := testConfig()
		cfg.CriticalProcesses = []string{"^nginx$", "^postgres$", "^redis-server$", "^kubelet$", "^containerd$", "^dockerd$", "kafka\\.Kafka"}
		for _, mode := range []string{"warm", "cold"} {
			b.Run(fmt.Sprintf("processes=%d/%s", procs, mode), func(b *testing.B) {
				p := newTestProcessor(b, cfg)
				ctx := context.Background()
				_, _ = p.processMetrics(ctx, md)
				now := time.Now()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if mode == "cold" {
						p.rotate(now)
					}
					_, _ = p.processMetrics(ctx, md)
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				dps := float64(b.N) * float64(points)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/dps, "ns/datapoint")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/dps, "allocs/datapoint")
			})
		}
	}
}

// stateBytes feeds one window of `series` hostmetrics-shaped series (7 per
// process) through a processor and returns the heap the processor holds
// afterwards (its window state, before the window closes).
func stateBytes(tb testing.TB, series, exactLimit int) uint64 {
	cfg := testConfig()
	cfg.ExactLimit = exactLimit
	cfg.CriticalProcesses = []string{"^nginx$", "^postgres$"}
	require.NoError(tb, cfg.Validate())

	var base, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	p, err := newProcessor(noopSettings(), cfg)
	require.NoError(tb, err)
	procs := series / 7
	for start := 0; start < procs; start += 10_000 {
		md := processBatch(min(10_000, procs-start), start+1, defaultNames)
		_, _ = p.processMetrics(context.Background(), md)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(p)
	if after.HeapAlloc < base.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - base.HeapAlloc
}

func BenchmarkWindowMemory(b *testing.B) {
	for _, series := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("series=%d", series), func(b *testing.B) {
			var bytes uint64
			for i := 0; i < b.N; i++ {
				bytes = stateBytes(b, series, defaultExactLimit)
			}
			b.ReportMetric(float64(bytes), "state-bytes")
		})
	}
}
