package cardinalityprocessor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Pipeline = "processes"
	cfg.Stage = StageInput
	return cfg
}

func newTestProcessor(t testing.TB, cfg *Config) *cardinalityProcessor {
	t.Helper()
	require.NoError(t, cfg.Validate())
	p, err := newProcessor(noopSettings(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.shutdown(context.Background()) })
	return p
}

func noopSettings() processor.Settings { return processortest.NewNopSettings(componentType) }

// The window state is bounded by exact_limit: past it, a million series cost
// little more than the exact set at the limit.
func TestMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 series: skipped in -short")
	}
	small := stateBytes(t, 10_000, defaultExactLimit, 1)
	large := stateBytes(t, 1_000_000, defaultExactLimit, 1)
	t.Logf("window state: %d bytes at 10,000 series, %d bytes at 1,000,000 series", small, large)
	assert.Less(t, large, uint64(16<<20), "1,000,000 series must not cost more than 16 MiB")
	assert.Less(t, small, uint64(2<<20), "10,000 series must not cost more than 2 MiB")

	// With the carry: the last window's 10,000 series (none seen again yet)
	// beside this window's 10,000; an estimated window carries nothing.
	carried := stateBytes(t, 10_000, defaultExactLimit, 2)
	largeCarried := stateBytes(t, 1_000_000, defaultExactLimit, 2)
	t.Logf("with the last window carried: %d bytes at 10,000 series, %d bytes at 1,000,000 series", carried, largeCarried)
	assert.Less(t, carried, uint64(4<<20), "two windows of 10,000 series must not cost more than 4 MiB")
	assert.Less(t, largeCarried, uint64(16<<20), "an estimated window must not carry")
}

func TestExactCountsEqualBruteForce(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		cfg := testConfig()
		cfg.TopOffenders = maxOffenders // report every key, to compare all
		p := newTestProcessor(t, cfg)
		g := &randomGen{r: rand.New(rand.NewPCG(seed, seed*7919))}

		// Two windows, each with several batches that repeat series.
		for window := 0; window < 2; window++ {
			bf := newBruteForce()
			for b := 0; b < 5; b++ {
				md := g.batch(20)
				bf.observe(md)
				_, err := p.processMetrics(context.Background(), md)
				require.NoError(t, err)
			}
			snap := p.rotate(time.Now())

			require.False(t, snap.seriesEstimated, "seed %d", seed)
			require.Equal(t, uint64(len(bf.series)), snap.series, "series, seed %d window %d", seed, window)
			require.Equal(t, uint64(bf.datapoints), snap.datapoints, "datapoints, seed %d", seed)

			perMetric := map[string]uint64{}
			for _, nc := range snap.seriesByMetric {
				perMetric[nc.name] = nc.count
			}
			wantPerMetric := map[string]uint64{}
			for name, set := range bf.perMetric {
				wantPerMetric[name] = uint64(len(set))
			}
			require.Equal(t, wantPerMetric, perMetric, "series per metric, seed %d", seed)

			gotKeys := map[string]uint64{}
			for _, o := range snap.offenders {
				gotKeys[o.scope+"/"+o.key] = o.values
			}
			wantKeys := map[string]uint64{}
			for id, set := range bf.keyValues {
				wantKeys[id] = uint64(len(set))
			}
			require.Equal(t, wantKeys, gotKeys, "distinct values per attribute key, seed %d", seed)
			require.False(t, snap.offendersEstimated)
		}
	}
}

func TestAttributeOrderDoesNotMakeNewSeries(t *testing.T) {
	p := newTestProcessor(t, testConfig())
	md := pmetric.NewMetrics()
	orders := [][]string{{"a", "b", "c"}, {"c", "a", "b"}, {"b", "c", "a"}}
	for _, order := range orders {
		rm := md.ResourceMetrics().AppendEmpty()
		for _, k := range order {
			rm.Resource().Attributes().PutStr("r."+k, k)
		}
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("m")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		for _, k := range order {
			dp.Attributes().PutStr("p."+k, k)
		}
	}
	_, err := p.processMetrics(context.Background(), md)
	require.NoError(t, err)
	snap := p.rotate(time.Now())
	assert.Equal(t, uint64(1), snap.series, "the same attributes in three orders are one series")
	assert.Equal(t, uint64(3), snap.datapoints)
}

func TestHashSeparatesWhatShouldDiffer(t *testing.T) {
	mk := func(fill func(res, dp pcommon.Map), name string) uint64 {
		res, dp := pcommon.NewMap(), pcommon.NewMap()
		fill(res, dp)
		return seriesHash(resourcePrefix(hashString(name), hashMap(res)), hashMap(dp))
	}
	cases := map[string]uint64{
		"str":         mk(func(r, _ pcommon.Map) { r.PutStr("k", "1") }, "m"),
		"int":         mk(func(r, _ pcommon.Map) { r.PutInt("k", 1) }, "m"),
		"double":      mk(func(r, _ pcommon.Map) { r.PutDouble("k", 1) }, "m"),
		"bool":        mk(func(r, _ pcommon.Map) { r.PutBool("k", true) }, "m"),
		"in point":    mk(func(_, d pcommon.Map) { d.PutStr("k", "1") }, "m"),
		"other name":  mk(func(r, _ pcommon.Map) { r.PutStr("k", "1") }, "n"),
		"swapped k/v": mk(func(r, _ pcommon.Map) { r.PutStr("1", "k") }, "m"),
		"empty":       mk(func(_, _ pcommon.Map) {}, "m"),
		"nested": mk(func(r, _ pcommon.Map) {
			r.PutEmptyMap("k").PutStr("1", "")
		}, "m"),
		"slice": mk(func(r, _ pcommon.Map) {
			s := r.PutEmptySlice("k")
			s.AppendEmpty().SetStr("1")
		}, "m"),
		"two pairs": mk(func(r, _ pcommon.Map) { r.PutStr("k", "1"); r.PutStr("j", "2") }, "m"),
		"pairs swapped": mk(func(r, _ pcommon.Map) {
			r.PutStr("k", "2")
			r.PutStr("j", "1")
		}, "m"),
	}
	seen := map[uint64]string{}
	for name, h := range cases {
		if other, dup := seen[h]; dup {
			t.Errorf("%q and %q hash the same", name, other)
		}
		seen[h] = name
	}
}

func TestPassThroughLeavesDataUnchanged(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := testConfig()
	cfg.CriticalProcesses = []string{"^nginx$"}
	proc, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(componentType), cfg, sink)
	require.NoError(t, err)
	assert.False(t, proc.Capabilities().MutatesData)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()

	g := &randomGen{r: rand.New(rand.NewPCG(3, 4))}
	for _, md := range []pmetric.Metrics{processBatch(50, 100, defaultNames), g.batch(30)} {
		want := pmetric.NewMetrics()
		md.CopyTo(want)
		wantBytes := mustProto(t, want)
		require.NoError(t, proc.ConsumeMetrics(context.Background(), md))
		got := sink.AllMetrics()[len(sink.AllMetrics())-1]
		assert.Equal(t, wantBytes, mustProto(t, got), "output differs from input")
		assert.Equal(t, wantBytes, mustProto(t, md), "input was modified")
	}
}

func mustProto(t testing.TB, md pmetric.Metrics) []byte {
	b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	require.NoError(t, err)
	return b
}

func TestProcessesAndCriticalProcesses(t *testing.T) {
	cfg := testConfig()
	cfg.CriticalProcesses = []string{"^nginx$", "^postgres", "^kubelet$"}
	p := newTestProcessor(t, cfg)

	// 20 processes over 10 names: nginx and postgres twice each.
	_, _ = p.processMetrics(context.Background(), processBatch(20, 1000, defaultNames))
	// The same processes again, plus 5 new ones: 25 unique.
	_, _ = p.processMetrics(context.Background(), processBatch(25, 1000, defaultNames))
	snap := p.rotate(time.Now())

	assert.Equal(t, uint64(25), snap.processes)
	assert.False(t, snap.processesEstimated)
	// 25 processes: names cycle every 10, nginx at 0,10,20 and postgres at 1,11,21.
	assert.Equal(t, uint64(6), snap.criticalProcesses)
	assert.Equal(t, []nameCount{{"nginx", 3}, {"postgres", 3}}, snap.criticalByName, "kubelet is absent and must not be reported")
	assert.Equal(t, uint64(25*7), snap.series)
	assert.Equal(t, uint64((20+25)*7), snap.datapoints)

	// The same PIDs and names, started later: new processes (PID reuse). The
	// series are the same (start time is not an attribute), the processes not.
	_, _ = p.processMetrics(context.Background(), processBatch(10, 1000, defaultNames))
	_, _ = p.processMetrics(context.Background(), processBatchStarted(10, 1000, defaultNames, time.Hour))
	snap = p.rotate(time.Now())
	assert.Equal(t, uint64(20), snap.processes, "a reused PID is a new process")
	assert.Equal(t, uint64(70), snap.series)
	assert.Equal(t, []nameCount{{"nginx", 2}, {"postgres", 2}}, snap.criticalByName)

	// Not process resources: no processes, still series.
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	_, _ = p.processMetrics(context.Background(), md)
	snap = p.rotate(time.Now())
	assert.Equal(t, uint64(0), snap.processes)
	assert.Equal(t, uint64(1), snap.series)
}

func TestCriticalMatchesCommandLineAndNamesByExecutable(t *testing.T) {
	cfg := testConfig()
	cfg.CriticalProcesses = []string{"kafka\\.Kafka"} // java running kafka
	p := newTestProcessor(t, cfg)
	md := processBatch(2, 1, []string{"java"})
	md.ResourceMetrics().At(0).Resource().Attributes().PutStr("process.command_line", "java -cp /opt/kafka kafka.Kafka server.properties")
	_, _ = p.processMetrics(context.Background(), md)
	snap := p.rotate(time.Now())
	assert.Equal(t, uint64(1), snap.criticalProcesses)
	assert.Equal(t, []nameCount{{"java", 1}}, snap.criticalByName)
}

func TestNamesAndKeysAreBounded(t *testing.T) {
	cfg := testConfig()
	cfg.TopOffenders = maxOffenders
	p := newTestProcessor(t, cfg)
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	const names = maxMetricNames + 500
	for i := 0; i < names; i++ {
		m := ms.AppendEmpty()
		m.SetName(fmt.Sprintf("metric.%d", i))
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.Attributes().PutInt(fmt.Sprintf("key.%d", i), 1)
	}
	_, _ = p.processMetrics(context.Background(), md)
	snap := p.rotate(time.Now())
	assert.Equal(t, uint64(names), snap.series, "every series counts, also past the name cap")
	require.Len(t, snap.seriesByMetric, maxMetricNames+1)
	other := snap.seriesByMetric[0] // "_other" sorts first
	assert.Equal(t, nameCount{overflowMetricName, 500}, other)
	assert.LessOrEqual(t, len(p.state.pointKeys)+len(p.state.resourceKeys), maxAttributeKeys)
	assert.Len(t, snap.offenders, maxOffenders)
}

func TestWindowResetsState(t *testing.T) {
	p := newTestProcessor(t, testConfig())
	_, _ = p.processMetrics(context.Background(), processBatch(10, 1, defaultNames))
	first := p.rotate(time.Now())
	require.Equal(t, uint64(70), first.series)

	second := p.rotate(time.Now())
	assert.Equal(t, uint64(0), second.series, "an empty window reports zero")
	assert.Equal(t, uint64(0), second.datapoints)
	assert.Equal(t, uint64(0), second.processes)
	assert.Empty(t, second.seriesByMetric, "metric names of an old window linger")

	_, _ = p.processMetrics(context.Background(), processBatch(3, 500, defaultNames))
	third := p.rotate(time.Now())
	assert.Equal(t, uint64(21), third.series)
	// Idle members were dropped, so the state does not keep old names or keys.
	third2 := p.rotate(time.Now())
	assert.Empty(t, third2.offenders)
	assert.Empty(t, p.state.names)
	assert.Empty(t, p.state.resourceKeys)
}

func TestTopOffenders(t *testing.T) {
	cfg := testConfig()
	cfg.TopOffenders = 3
	p := newTestProcessor(t, cfg)
	_, _ = p.processMetrics(context.Background(), processBatch(40, 1, defaultNames))
	snap := p.rotate(time.Now())
	require.Len(t, snap.offenders, 3)
	// pid and command_line have one value per process (40); names have 10.
	assert.Equal(t, keyCount{key: "process.command_line", scope: scopeResource, values: 40}, snap.offenders[0])
	assert.Equal(t, keyCount{key: "process.pid", scope: scopeResource, values: 40}, snap.offenders[1])
	assert.Equal(t, uint64(10), snap.offenders[2].values)

	cfg.TopOffenders = 0
	p = newTestProcessor(t, cfg)
	_, _ = p.processMetrics(context.Background(), processBatch(40, 1, defaultNames))
	assert.Empty(t, p.rotate(time.Now()).offenders)
}

func TestSwitchesToEstimateAboveExactLimit(t *testing.T) {
	cfg := testConfig()
	cfg.ExactLimit = 1000
	p := newTestProcessor(t, cfg)
	_, _ = p.processMetrics(context.Background(), processBatch(1000/7, 1, defaultNames)) // 994 series
	snap := p.rotate(time.Now())
	require.False(t, snap.seriesEstimated)
	require.Equal(t, uint64(994), snap.series)

	_, _ = p.processMetrics(context.Background(), processBatch(2000, 1, defaultNames)) // 14,000 series
	_, _ = p.processMetrics(context.Background(), processBatch(2000, 1, defaultNames)) // the same again
	snap = p.rotate(time.Now())
	require.True(t, snap.seriesEstimated)
	require.True(t, snap.processesEstimated)
	assertWithin(t, 14000, snap.series, 0.02, "series")
	assertWithin(t, 2000, snap.processes, 0.03, "processes")
	for _, nc := range snap.seriesByMetric {
		want := 2000.0
		if nc.name == "process.cpu.time" {
			want = 6000
		} else if nc.name == "process.disk.io" {
			want = 4000
		}
		assertWithin(t, want, nc.count, 0.03, nc.name)
	}

	// The next window is exact again.
	_, _ = p.processMetrics(context.Background(), processBatch(10, 1, defaultNames))
	snap = p.rotate(time.Now())
	assert.False(t, snap.seriesEstimated)
	assert.Equal(t, uint64(70), snap.series)
}

func assertWithin(t *testing.T, want float64, got uint64, tol float64, what string) {
	t.Helper()
	if rel := math.Abs(float64(got)-want) / want; rel > tol {
		t.Errorf("%s: estimate %d is %.2f%% off %v (tolerance %.1f%%)", what, got, 100*rel, want, 100*tol)
	} else {
		t.Logf("%s: estimate %d vs %v (%.3f%% off)", what, got, want, 100*rel)
	}
}

func TestHyperLogLogWithin2PercentAtOneMillionSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 series: skipped in -short")
	}
	cfg := testConfig()
	p := newTestProcessor(t, cfg) // default exact_limit 100,000
	const procs = 1_000_000 / 7
	const chunk = 10_000
	for base := 0; base < procs; base += chunk {
		n := min(chunk, procs-base)
		_, _ = p.processMetrics(context.Background(), processBatch(n, base+1, defaultNames))
	}
	snap := p.rotate(time.Now())
	require.True(t, snap.seriesEstimated)
	assertWithin(t, float64(procs*7), snap.series, 0.02, "series")
	assertWithin(t, float64(procs), snap.processes, 0.02, "processes")
	assert.Equal(t, uint64(procs*7), snap.datapoints, "data points are always exact")
}

func TestTelemetryReportsLabelledFigures(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()

	cfg := testConfig()
	cfg.Stage = StageOutput
	cfg.Variant = "candidate"
	cfg.ExperimentID = "exp-42"
	cfg.CriticalProcesses = []string{"^redis"}
	cfg.TopOffenders = 2
	proc, p := startProcessor(t, set, cfg, new(consumertest.MetricsSink))

	// Nothing before the first window ends.
	_, err := tel.GetMetric(metricSeries)
	require.Error(t, err, "a figure was reported before any window finished")

	require.NoError(t, proc.ConsumeMetrics(context.Background(), processBatch(30, 1, defaultNames)))
	p.rotate(time.Now())

	labels := []attribute.KeyValue{
		attribute.String(labelPipeline, "processes"),
		attribute.String(labelStage, "output"),
		attribute.String(labelVariant, "candidate"),
		attribute.String(labelExperimentID, "exp-42"),
	}
	with := func(extra ...attribute.KeyValue) attribute.Set {
		return attribute.NewSet(append(append([]attribute.KeyValue{}, labels...), extra...)...)
	}
	assertGauge(t, tel, metricSeries, map[attribute.Set]int64{with(attribute.Bool(labelEstimated, false)): 210})
	assertGauge(t, tel, metricDataPoints, map[attribute.Set]int64{with(): 210})
	assertGauge(t, tel, metricProcesses, map[attribute.Set]int64{with(attribute.Bool(labelEstimated, false)): 30})
	assertGauge(t, tel, metricCritical, map[attribute.Set]int64{with(): 3})
	assertGauge(t, tel, metricCriticalPresent, map[attribute.Set]int64{with(attribute.String(labelProcessName, "redis-server")): 3})
	assertGauge(t, tel, metricMetricSeries, map[attribute.Set]int64{
		with(attribute.String(labelMetricName, "process.cpu.time"), attribute.Bool(labelEstimated, false)):       90,
		with(attribute.String(labelMetricName, "process.disk.io"), attribute.Bool(labelEstimated, false)):        60,
		with(attribute.String(labelMetricName, "process.memory.usage"), attribute.Bool(labelEstimated, false)):   30,
		with(attribute.String(labelMetricName, "process.memory.virtual"), attribute.Bool(labelEstimated, false)): 30,
	})
	offender := func(key string) attribute.Set {
		return with(attribute.String(labelAttrKey, key), attribute.String(labelAttrScope, scopeResource), attribute.Bool(labelEstimated, false))
	}
	assertGauge(t, tel, metricAttrValues, map[attribute.Set]int64{offender("process.command_line"): 30, offender("process.pid"): 30})

	// A window without redis: its present figure disappears, so the server sees it missing.
	require.NoError(t, proc.ConsumeMetrics(context.Background(), processBatch(2, 1, defaultNames)))
	p.rotate(time.Now())
	assertGauge(t, tel, metricCritical, map[attribute.Set]int64{with(): 0})
	assertGauge(t, tel, metricCriticalPresent, map[attribute.Set]int64{})
}

func assertGauge(t *testing.T, tel *componenttest.Telemetry, name string, want map[attribute.Set]int64) {
	t.Helper()
	m, err := tel.GetMetric(name)
	if len(want) == 0 {
		if err == nil {
			g := m.Data.(metricdata.Gauge[int64])
			assert.Empty(t, g.DataPoints, "%s: expected no points", name)
		}
		return
	}
	require.NoError(t, err, name)
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is %T, want an int64 gauge", name, m.Data)
	got := map[attribute.Set]int64{}
	for _, dp := range g.DataPoints {
		got[dp.Attributes] = dp.Value
	}
	assert.Equal(t, len(want), len(got), "%s: points %v", name, got)
	for set, v := range want {
		gv, ok := got[set]
		if assert.True(t, ok, "%s: no point with %v; have %v", name, set.ToSlice(), got) {
			assert.Equal(t, v, gv, "%s %v", name, set.ToSlice())
		}
	}
}

func TestEmitMetricsAppendsFigures(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := testConfig()
	cfg.EmitMetrics = true
	cfg.Variant = "baseline"
	set := processortest.NewNopSettings(componentType)
	proc, p := startProcessor(t, set, cfg, sink)
	assert.True(t, proc.Capabilities().MutatesData, "emit_metrics writes to the data")

	require.NoError(t, proc.ConsumeMetrics(context.Background(), processBatch(5, 1, defaultNames)))
	require.Equal(t, 5, sink.AllMetrics()[0].ResourceMetrics().Len(), "nothing to emit before a window ends")
	p.rotate(time.Now())

	require.NoError(t, proc.ConsumeMetrics(context.Background(), processBatch(5, 1, defaultNames)))
	out := sink.AllMetrics()[1]
	require.Equal(t, 6, out.ResourceMetrics().Len(), "the figures come as one extra resource")
	figs := out.ResourceMetrics().At(5).ScopeMetrics().At(0)
	assert.Equal(t, scopeName, figs.Scope().Name())
	found := map[string]pmetric.NumberDataPoint{}
	for _, m := range figs.Metrics().All() {
		require.Equal(t, pmetric.MetricTypeGauge, m.Type())
		for _, dp := range m.Gauge().DataPoints().All() {
			found[m.Name()] = dp
		}
	}
	series, ok := found[metricSeries]
	require.True(t, ok, "no %s in %v", metricSeries, found)
	assert.Equal(t, int64(35), series.IntValue())
	assert.Equal(t, map[string]any{
		labelPipeline: "processes", labelStage: "input", labelVariant: "baseline", labelEstimated: false,
	}, series.Attributes().AsRaw())
	assert.Equal(t, int64(35), found[metricDataPoints].IntValue())
	assert.Equal(t, int64(5), found[metricProcesses].IntValue())
	assert.Less(t, series.StartTimestamp(), series.Timestamp())
	_, hasCritical := found[metricCriticalPresent]
	assert.False(t, hasCritical, "no critical processes configured, no such points")

	// Emitted once only.
	require.NoError(t, proc.ConsumeMetrics(context.Background(), processBatch(5, 1, defaultNames)))
	assert.Equal(t, 5, sink.AllMetrics()[2].ResourceMetrics().Len())
}

func TestEmitMetricsBoundsPendingFigures(t *testing.T) {
	cfg := testConfig()
	cfg.EmitMetrics = true
	p := newTestProcessor(t, cfg)
	for i := 0; i < 3*maxPendingWindows; i++ {
		p.rotate(time.Now())
	}
	assert.LessOrEqual(t, p.pending.ResourceMetrics().Len(), maxPendingWindows)
}

// startProcessor builds the processor through the factory and starts it; the
// window ticker is set far out so the test closes windows itself.
func startProcessor(t *testing.T, set processor.Settings, cfg *Config, sink *consumertest.MetricsSink) (processor.Metrics, *cardinalityProcessor) {
	t.Helper()
	cfg.Window = time.Hour
	return startWith(t, set, cfg, sink)
}

func startProcessorWindow(t *testing.T, cfg *Config) (processor.Metrics, *cardinalityProcessor) {
	t.Helper()
	return startWith(t, noopSettings(), cfg, new(consumertest.MetricsSink))
}

func startWith(t *testing.T, set processor.Settings, cfg *Config, sink *consumertest.MetricsSink) (processor.Metrics, *cardinalityProcessor) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	proc, p, err := newMetricsProcessor(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })
	return proc, p
}

// Batches may arrive from several goroutines while windows close; every data
// point must be counted in exactly one window.
func TestConcurrentConsumeAndRotate(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	proc, p := startProcessor(t, noopSettings(), testConfig(), sink)
	const workers, batches = 4, 50
	done := make(chan struct{})
	var total uint64
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < batches; i++ {
					assert.NoError(t, proc.ConsumeMetrics(context.Background(), processBatch(5, 1, defaultNames)))
				}
			}()
		}
		wg.Wait()
	}()
	rotating := true
	for rotating {
		select {
		case <-done:
			rotating = false
		default:
		}
		snap := p.rotate(time.Now())
		total += snap.datapoints
		if snap.datapoints > 0 {
			assert.Equal(t, uint64(35), snap.series, "the same 5 processes in every batch")
		}
	}
	assert.Equal(t, uint64(workers*batches*35), total)
}

func TestShutdownWithoutStartAndTwice(t *testing.T) {
	proc, err := NewFactory().CreateMetrics(context.Background(), noopSettings(), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, proc.Shutdown(context.Background()), "shutdown before start")

	proc, err = NewFactory().CreateMetrics(context.Background(), noopSettings(), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, proc.Shutdown(context.Background()))
	require.NoError(t, proc.Shutdown(context.Background()), "second shutdown")
}

// The window closes on its own timer, also when no data flows.
func TestWindowClosesOnItsOwn(t *testing.T) {
	cfg := testConfig()
	cfg.Window = time.Second
	_, p := startProcessorWindow(t, cfg)
	require.Eventually(t, func() bool { return p.last.Load() != nil }, 30*time.Second, 20*time.Millisecond,
		"no window closed within 30s of a 1s window")
	assert.Equal(t, uint64(0), p.last.Load().series)
}
