package cardinalityprocessor

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"
	"golang.org/x/sys/unix"

	"github.com/phoenix-otel/phoenix/components/processor/topkprocessor"
)

// The benchmarks below consume, in every iteration, a fresh copy of a
// hostmetrics-shaped scrape (7 data points per process) with timestamps and
// CPU times advanced, as a pipeline would see successive scrapes. The copy is
// made outside the timed section and the GC is held off during it, so that the
// figures are the processor's own cost and not the GC's of the copies.
// Processors are built by their factories (processorhelper included).

var benchCritical = []string{"^nginx$", "^postgres$", "^redis-server$", "^kubelet$", "^containerd$", "^dockerd$", `kafka\.Kafka`}

// benchConsume times proc.ConsumeMetrics and reports ns and allocations per
// data point. before, when set, runs with the timer stopped (the cold
// benchmark closes the window there, as the processor's timer does off the
// data path; BenchmarkRotate times the close itself).
func benchConsume(b *testing.B, proc processor.Metrics, procs int, before func()) {
	ctx := context.Background()
	require.NoError(b, proc.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(b, proc.Shutdown(ctx)) }()
	template := processBatch(procs, 1, defaultNames)
	points := float64(template.DataPointCount())
	next := func(i int) pmetric.Metrics {
		md := pmetric.NewMetrics()
		template.CopyTo(md)
		advance(md, i)
		return md
	}
	for i := 0; i < 3; i++ { // warm up: state for every process
		require.NoError(b, proc.ConsumeMetrics(ctx, next(i)))
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// The machine is shared: besides wall time, count the CPU time of this
	// (locked) thread, which other processes' load does not inflate.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ms runtime.MemStats
	var mallocs uint64
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if before != nil {
			before()
		}
		md := next(3 + i)
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > 512<<20 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
		}
		start := ms.Mallocs
		b.StartTimer()
		// The thread's CPU clock is read inside the timed section: Start-
		// and StopTimer read the runtime's memory statistics (a stop of the
		// world), which must count neither in wall nor in CPU time. (With
		// the clock read outside them, CPU time exceeded wall time.)
		cpuStart := threadCPU()
		if err := proc.ConsumeMetrics(ctx, md); err != nil {
			b.Fatal(err)
		}
		cpu += threadCPU() - cpuStart
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - start
		b.StartTimer()
	}
	b.StopTimer()
	// One thread's CPU time cannot exceed the wall time it ran in: if it
	// does, the CPU window covers more than the timed section.
	if cpu > b.Elapsed()+b.Elapsed()/50 {
		b.Errorf("CPU time %s exceeds wall time %s: the CPU clock is read outside the timed section", cpu, b.Elapsed())
	}
	dps := float64(b.N) * points
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/dps, "ns/datapoint")
	b.ReportMetric(float64(cpu.Nanoseconds())/dps, "cpu-ns/datapoint")
	b.ReportMetric(float64(mallocs)/dps, "allocs/datapoint")
}

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// advance moves a copied scrape i intervals of 10 s forward: timestamps and
// CPU time grow, as in successive real scrapes.
func advance(md pmetric.Metrics, i int) {
	shift := pcommon.Timestamp(int64(i) * int64(10*time.Second))
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				for j, dp := range m.Sum().DataPoints().All() {
					dp.SetTimestamp(dp.Timestamp() + shift)
					if m.Name() == "process.cpu.time" {
						dp.SetDoubleValue(dp.DoubleValue() + float64(i*(j+1))*0.01)
					}
				}
			}
		}
	}
}

// BenchmarkProcess: the cardinality processor at 100, 1,000 and 10,000
// processes:
//   - warm: the series were already seen in this window (5 of 6 scrapes with
//     the default 1m window and a 10s scrape interval);
//   - cold: every scrape opens a new window (all series new, offender keys
//     recorded, the window closed and published every time).
func BenchmarkProcess(b *testing.B) {
	for _, procs := range []int{100, 1_000, 10_000} {
		for _, mode := range []string{"warm", "cold"} {
			b.Run(fmt.Sprintf("processes=%d/%s", procs, mode), func(b *testing.B) {
				cfg := testConfig()
				cfg.Window = time.Hour
				cfg.CriticalProcesses = benchCritical
				proc, p, err := newMetricsProcessor(context.Background(), noopSettings(), cfg, consumertest.NewNop())
				require.NoError(b, err)
				var before func()
				if mode == "cold" {
					now := time.Now()
					before = func() { p.rotate(now) }
				}
				benchConsume(b, proc, procs, before)
			})
		}
	}
}

// BenchmarkRotate times closing a window that saw one scrape of 100, 1,000
// and 10,000 processes (publishing its figures, keeping the carry), per data
// point of that scrape. The processor's timer does this once per window.
func BenchmarkRotate(b *testing.B) {
	for _, procs := range []int{100, 1_000, 10_000} {
		b.Run(fmt.Sprintf("processes=%d", procs), func(b *testing.B) {
			cfg := testConfig()
			cfg.Window = time.Hour
			cfg.CriticalProcesses = benchCritical
			p, err := newProcessor(noopSettings(), cfg)
			require.NoError(b, err)
			template := processBatch(procs, 1, defaultNames)
			points := float64(template.DataPointCount())
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				md := pmetric.NewMetrics()
				template.CopyTo(md)
				_, _ = p.processMetrics(context.Background(), md)
				b.StartTimer()
				p.rotate(now)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*points), "ns/datapoint")
		})
	}
}

// BenchmarkReadFloor is the floor for any processor that must look at every
// attribute of every data point (as identifying series requires): a
// processor that only reads the batch, on the same harness.
func BenchmarkReadFloor(b *testing.B) {
	for _, procs := range []int{100, 1_000, 10_000} {
		b.Run(fmt.Sprintf("processes=%d", procs), func(b *testing.B) {
			var n int
			read := func(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
				for _, rm := range md.ResourceMetrics().All() {
					for k, v := range rm.Resource().Attributes().All() {
						n += len(k) + len(v.AsString())
					}
					for _, sm := range rm.ScopeMetrics().All() {
						for _, m := range sm.Metrics().All() {
							n += len(m.Name())
							for _, dp := range m.Sum().DataPoints().All() {
								n += int(dp.StartTimestamp() & 1)
								for k, v := range dp.Attributes().All() {
									n += len(k) + len(v.Str())
								}
							}
						}
					}
				}
				return md, nil
			}
			proc, err := processorhelper.NewMetrics(context.Background(), noopSettings(), testConfig(), consumertest.NewNop(), read)
			require.NoError(b, err)
			benchConsume(b, proc, procs, nil)
		})
	}
}

// BenchmarkTopKReference runs the topk processor (top 20, the same critical
// list) on the same scrapes and harness, as the yardstick the cardinality
// processor's cost is compared with.
func BenchmarkTopKReference(b *testing.B) {
	for _, procs := range []int{100, 1_000, 10_000} {
		b.Run(fmt.Sprintf("processes=%d", procs), func(b *testing.B) {
			f := topkprocessor.NewFactory()
			cfg := f.CreateDefaultConfig()
			crit := make([]any, len(benchCritical))
			for i, c := range benchCritical {
				crit[i] = c
			}
			require.NoError(b, confmap.NewFromStringMap(map[string]any{"top_k": 20, "critical_processes": crit}).Unmarshal(cfg))
			proc, err := f.CreateMetrics(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
			require.NoError(b, err)
			benchConsume(b, proc, procs, nil)
		})
	}
}

// stateBytes feeds one window of `series` hostmetrics-shaped series (7 per
// process) through a processor and returns the heap the processor holds
// afterwards (its window state, before the window closes). With windows 2,
// it first feeds a window of other processes and closes it, so the state
// also carries the last window's hashes (the worst case of the carry: none
// of them seen again yet).
func stateBytes(tb testing.TB, series, exactLimit, windows int) uint64 {
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
	for w := 0; w < windows; w++ {
		if w > 0 {
			p.rotate(time.Now())
		}
		for start := 0; start < procs; start += 10_000 {
			md := processBatch(min(10_000, procs-start), w*procs+start+1, defaultNames)
			_, _ = p.processMetrics(context.Background(), md)
		}
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
	for _, windows := range []int{1, 2} {
		for _, series := range []int{10_000, 1_000_000} {
			b.Run(fmt.Sprintf("windows=%d/series=%d", windows, series), func(b *testing.B) {
				var bytes uint64
				for i := 0; i < b.N; i++ {
					bytes = stateBytes(b, series, defaultExactLimit, windows)
				}
				b.ReportMetric(float64(bytes), "state-bytes")
			})
		}
	}
}
