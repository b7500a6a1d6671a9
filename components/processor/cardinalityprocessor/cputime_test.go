package cardinalityprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// busyThenIdle burns cpu of thread CPU time, then sleeps idle: the work of
// a variant's processors, and a wait that is no CPU.
type busyThenIdle struct {
	consumer.Metrics
	cpu, idle time.Duration
}

func (b busyThenIdle) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	t0, _ := threadCPUNanos()
	for {
		if t, _ := threadCPUNanos(); time.Duration(t-t0) >= b.cpu {
			break
		}
	}
	time.Sleep(b.idle)
	return b.Metrics.ConsumeMetrics(ctx, md)
}

// In a chain input -> (30 ms of CPU, 60 ms asleep) -> output, input's
// downstream CPU time minus output's consume CPU time is the 30 ms of the
// processors between them, not the 90 ms of wall time.
func TestCPUTimeOfTheProcessorsBetween(t *testing.T) {
	if _, ok := threadCPUNanos(); !ok {
		t.Skip("no thread CPU clock on this platform: the counters are not registered")
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()

	outCfg := testConfig()
	outCfg.Stage, outCfg.Variant = StageOutput, "candidate"
	out, _ := startProcessor(t, set, outCfg, new(consumertest.MetricsSink))
	between := busyThenIdle{Metrics: out, cpu: 30 * time.Millisecond, idle: 60 * time.Millisecond}
	inCfg := testConfig()
	inCfg.Variant = "candidate"
	inCfg.Window = time.Hour
	require.NoError(t, inCfg.Validate())
	in, _, err := newMetricsProcessor(context.Background(), set, inCfg, between)
	require.NoError(t, err)
	require.NoError(t, in.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, in.Shutdown(context.Background())) })

	const calls = 3
	wall := time.Now()
	for range calls {
		require.NoError(t, in.ConsumeMetrics(context.Background(), processBatch(200, 1, defaultNames)))
	}
	elapsed := time.Since(wall)

	get := func(name, stage string) float64 {
		t.Helper()
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		s, ok := m.Data.(metricdata.Sum[float64])
		require.True(t, ok, "%s is %T, want a float64 sum", name, m.Data)
		require.True(t, s.IsMonotonic && s.Temporality == metricdata.CumulativeTemporality, "%s: want a cumulative counter", name)
		for _, dp := range s.DataPoints {
			if v, _ := dp.Attributes.Value(attribute.Key(labelStage)); v.AsString() == stage {
				return dp.Value
			}
		}
		t.Fatalf("%s: no point of stage %s", name, stage)
		return 0
	}
	inDown, outConsume := get(metricDownstreamCPU, StageInput), get(metricConsumeCPU, StageOutput)
	outDown, inConsume := get(metricDownstreamCPU, StageOutput), get(metricConsumeCPU, StageInput)
	between2 := time.Duration((inDown - outConsume) * 1e9)
	t.Logf("%d calls in %v wall: input consume %.1f ms, downstream %.1f ms; output consume %.1f ms, downstream %.1f ms; between %v",
		calls, elapsed, inConsume*1e3, inDown*1e3, outConsume*1e3, outDown*1e3, between2)
	want := calls * 30 * time.Millisecond
	// The spin stops at or just past 30 ms each; the clock reads add little.
	require.GreaterOrEqual(t, between2, want, "the processors between burnt %v of CPU", want)
	require.Less(t, between2, want+30*time.Millisecond, "sleeping counted as CPU time, or the output's own time leaked in")
	require.GreaterOrEqual(t, inConsume, inDown, "the whole call includes its downstream")
	require.GreaterOrEqual(t, outConsume, outDown, "the whole call includes its downstream")
}

// The cost of timing one call (lock to the thread, two clock reads), which
// every cardinality processor pays twice per batch.
func BenchmarkCPUClock(b *testing.B) {
	var c cpuClock
	b.ReportAllocs()
	for b.Loop() {
		_ = c.time(func() error { return nil })
	}
}
