package topkprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"golang.org/x/sys/unix"
)

// The critical services every profile runs, as an allowlist.
var benchCritical = []string{"^nginx$", "^postgres$", "^redis-server$", "^kubelet$", "^containerd$", "^dockerd$", `kafka\.Kafka`}

// The upstream way to cut process series: drop every process resource that
// is not on a static allowlist, with an OTTL resource condition.
const benchFilterCondition = `not IsMatch(resource.attributes["process.executable.name"], "^(nginx|postgres|redis-server|kubelet|containerd|dockerd)$") and not IsMatch(resource.attributes["process.command_line"], "kafka\\.Kafka")`

// benchFeed produces successive scrapes of n processes (7 data points each,
// as the process scraper): a template copied per batch, with timestamps and
// cumulative values advanced, so topk sees a steady state.
type benchFeed struct {
	template pmetric.Metrics
	rates    []float64
	now      float64
}

func newBenchFeed(n int) *benchFeed {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"nginx", "postgres", "redis-server", "kubelet", "containerd", "dockerd", "java", "python3", "node", "bash", "sshd", "chrome", "worker", "gunicorn", "sidekiq"}
	var ps []pr
	f := &benchFeed{}
	for i := 0; i < n; i++ {
		// The critical core once, then ordinary processes.
		name := names[7+rng.IntN(len(names)-7)]
		if i < 7 {
			name = names[i]
		}
		cmd := fmt.Sprintf("/usr/bin/%s --id %d", name, i)
		if name == "java" && i < 7 {
			cmd = "java -cp /opt/kafka/libs/* kafka.Kafka config/server.properties"
		}
		ps = append(ps, pr{host: "bench-host", pid: int64(100 + i), name: name,
			cmdline: cmd, mem: int64(rng.IntN(1 << 30))})
		f.rates = append(f.rates, rng.ExpFloat64()*0.2)
	}
	// The processes started an hour before the first scrape: past topk's
	// probation, as a host's services are.
	f.now = 3600 + interval
	f.template = scrape(f.now, ps...)
	return f
}

// benchCategories classifies the bench processes as the aggregated catalog
// template does (transform before topk); the rest get no category.
var benchCategories = map[string]string{"java": "runtimes", "python3": "runtimes", "node": "runtimes", "bash": "system", "sshd": "system", "chrome": "browsers"}

// withCategories puts catKey on the feed's processes (roll-up benchmarks).
func (f *benchFeed) withCategories() *benchFeed {
	rms := f.template.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		a := rms.At(i).Resource().Attributes()
		name, _ := a.Get("process.executable.name")
		if c, ok := benchCategories[name.Str()]; ok {
			a.PutStr(catKey, c)
		}
	}
	return f
}

// next writes the next scrape into md (reusing nothing from earlier batches).
func (f *benchFeed) next() pmetric.Metrics {
	f.now += interval
	ts := at(f.now)
	rms := f.template.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			dps := m.Sum().DataPoints()
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				dp.SetTimestamp(ts)
				if m.Sum().IsMonotonic() {
					if dp.ValueType() == pmetric.NumberDataPointValueTypeDouble {
						dp.SetDoubleValue(dp.DoubleValue() + f.rates[i]*interval/3)
					} else {
						dp.SetIntValue(dp.IntValue() + int64(f.rates[i]*1e6))
					}
				}
			}
		}
	}
	md := pmetric.NewMetrics()
	f.template.CopyTo(md)
	return md
}

func newBenchTopK(b *testing.B) processor.Metrics {
	cfg := createDefaultConfig().(*Config)
	cfg.TopK = 20
	cfg.CriticalProcesses = benchCritical
	p, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// newBenchRollUp is topk in roll-up mode, as the aggregated template runs it.
func newBenchRollUp(b *testing.B) processor.Metrics {
	cfg := createDefaultConfig().(*Config)
	cfg.TopK = 0
	cfg.OthersGroupBy = catKey
	cfg.CriticalProcesses = benchCritical
	p, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func newBenchFilter(b *testing.B) processor.Metrics {
	f := filterprocessor.NewFactory()
	cfg := f.CreateDefaultConfig()
	cm := confmap.NewFromStringMap(map[string]any{
		"error_mode": "ignore",
		"metrics":    map[string]any{"resource": []any{benchFilterCondition}},
	})
	if err := cm.Unmarshal(cfg); err != nil {
		b.Fatal(err)
	}
	p, err := f.CreateMetrics(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchProcessor times ConsumeMetrics only (batch preparation is untimed)
// and reports ns and allocations per input data point.
func benchProcessor(b *testing.B, n int, mk func(*testing.B) processor.Metrics) {
	benchProcessorOn(b, newBenchFeed(n), mk)
}

func benchProcessorOn(b *testing.B, feed *benchFeed, mk func(*testing.B) processor.Metrics) {
	ctx := context.Background()
	p := mk(b)
	if err := p.Start(ctx, nopHost{}); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Shutdown(ctx) }()
	n := feed.template.ResourceMetrics().Len()
	// Warm up: state for every process, other series created.
	for i := 0; i < 3; i++ {
		if err := p.ConsumeMetrics(ctx, feed.next()); err != nil {
			b.Fatal(err)
		}
	}
	dpsPerBatch := float64(feed.template.DataPointCount())
	var ms runtime.MemStats
	var mallocs uint64
	// Collect garbage only in the untimed part, so that the collection of
	// the prepared batches does not run inside the timed part (and, on a
	// shared 2-core machine, does not depend on what else runs).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	gcEvery := max(1, 20000/n)
	// The machine is shared: besides wall time, measure the CPU time of the
	// thread running the (synchronous) processor, which waiting for a core
	// does not inflate.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpuNs int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if i%gcEvery == 0 {
			runtime.GC()
		}
		md := feed.next()
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		b.StartTimer()
		c0 := threadCPU()
		if err := p.ConsumeMetrics(ctx, md); err != nil {
			b.Fatal(err)
		}
		cpuNs += threadCPU() - c0
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - before
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*dpsPerBatch), "ns/datapoint")
	b.ReportMetric(float64(cpuNs)/(float64(b.N)*dpsPerBatch), "cpu-ns/datapoint")
	b.ReportMetric(float64(mallocs)/(float64(b.N)*dpsPerBatch), "allocs/datapoint")
}

// threadCPU is the CPU time of the calling OS thread, in ns.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

type nopHost struct{}

func (nopHost) GetExtensions() map[component.ID]component.Component { return nil }

// BenchmarkTopK and BenchmarkFilterOTTL run on the same batches; compare
// ns/op (per batch) and the per-data-point figures.
func BenchmarkTopK(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) { benchProcessor(b, n, newBenchTopK) })
	}
}

// BenchmarkTopKRollUp: roll-up mode (top_k 0, others_group_by) on the same
// batches with a category on most processes, as the aggregated template.
func BenchmarkTopKRollUp(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) { benchProcessorOn(b, newBenchFeed(n).withCategories(), newBenchRollUp) })
	}
}

func BenchmarkFilterOTTL(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) { benchProcessor(b, n, newBenchFilter) })
	}
}

// TestBenchFeedIsSteady checks the benchmark measures what it claims: topk
// keeps K + critical and emits one other resource on the bench batches, and
// the filter keeps only the allowlist.
func TestBenchFeedIsSteady(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		mk      func(*testing.B) processor.Metrics
		atLeast int
		atMost  int
	}{
		{"topk", newBenchTopK, 20 + 7 + 1, 20 + 5 + 7 + 1 + 20*3},
		{"filter", newBenchFilter, 7, 7},
	} {
		sink := new(consumertest.MetricsSink)
		var p processor.Metrics
		var err error
		if c.name == "topk" {
			cfg := createDefaultConfig().(*Config)
			cfg.CriticalProcesses = benchCritical
			p, err = NewFactory().CreateMetrics(ctx, processortest.NewNopSettings(componentType), cfg, sink)
		} else {
			f := filterprocessor.NewFactory()
			cfg := f.CreateDefaultConfig()
			_ = confmap.NewFromStringMap(map[string]any{"metrics": map[string]any{"resource": []any{benchFilterCondition}}}).Unmarshal(cfg)
			p, err = f.CreateMetrics(ctx, processortest.NewNopSettings(f.Type()), cfg, sink)
		}
		if err != nil {
			t.Fatal(err)
		}
		feed := newBenchFeed(1000)
		for i := 0; i < 5; i++ {
			if err := p.ConsumeMetrics(ctx, feed.next()); err != nil {
				t.Fatal(err)
			}
		}
		last := sink.AllMetrics()[len(sink.AllMetrics())-1]
		n := last.ResourceMetrics().Len()
		if n < c.atLeast || n > c.atMost || n >= 1000 {
			t.Errorf("%s: %d resources out of 1000, want %d..%d", c.name, n, c.atLeast, c.atMost)
		}
	}
	_ = pcommon.Timestamp(0)
}

// TestAllocationsDoNotGrowWithProcesses: in steady state the allocations of
// a batch (the other resource, telemetry) do not depend on how many
// processes it carries, i.e. nothing is allocated per data point.
func TestAllocationsDoNotGrowWithProcesses(t *testing.T) {
	t.Run("topk", func(t *testing.T) { testAllocations(t, false) })
	t.Run("roll-up", func(t *testing.T) { testAllocations(t, true) })
}

func testAllocations(t *testing.T, rollUp bool) {
	ctx := context.Background()
	allocs := func(n int) uint64 {
		cfg := createDefaultConfig().(*Config)
		cfg.CriticalProcesses = benchCritical
		feed := newBenchFeed(n)
		if rollUp {
			cfg.TopK, cfg.OthersGroupBy = 0, catKey
			feed.withCategories()
		}
		p, err := NewFactory().CreateMetrics(ctx, processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			_ = p.ConsumeMetrics(ctx, feed.next())
		}
		var ms runtime.MemStats
		var total uint64
		for i := 0; i < 5; i++ {
			md := feed.next()
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			if err := p.ConsumeMetrics(ctx, md); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&ms)
			total += ms.Mallocs - before
		}
		return total / 5
	}
	small, large := allocs(100), allocs(3000)
	t.Logf("allocations per batch: %d at 100 processes, %d at 3000", small, large)
	if large > small+10 {
		t.Fatalf("allocations grow with the batch: %d at 100 processes, %d at 3000", small, large)
	}
}
