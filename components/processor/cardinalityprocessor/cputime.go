package cardinalityprocessor

import (
	"context"
	"runtime"
	"sync/atomic"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the CPU-time counters: the processor's whole call (itself and
// everything downstream of it) and the call of the next consumer only. In a
// pipeline whose processors are synchronous between two cardinality
// processors, input's downstream time minus output's consume time is the
// CPU time of the processors between them (the variant's own chain).
const (
	metricConsumeCPU    = "phoenix.cardinality.consume.cpu_time"
	metricDownstreamCPU = "phoenix.cardinality.downstream.cpu_time"
)

// cpuClock accumulates the thread CPU time of synchronous calls. The
// goroutine is locked to its thread for the call, so the thread's clock
// counts only this call's work (a blocked call adds nothing while it waits).
type cpuClock struct{ nanos atomic.Int64 }

func (c *cpuClock) time(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok := threadCPUNanos()
	err := f()
	if t1, ok1 := threadCPUNanos(); ok && ok1 && t1 >= t0 {
		c.nanos.Add(t1 - t0)
	}
	return err
}

func (c *cpuClock) seconds() float64 { return float64(c.nanos.Load()) / 1e9 }

// timedConsumer times the next consumer (downstream of this processor).
type timedConsumer struct {
	consumer.Metrics
	clock *cpuClock
}

func (t timedConsumer) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return t.clock.time(func() error { return t.Metrics.ConsumeMetrics(ctx, md) })
}

// timedProcessor times the whole processor (itself and downstream).
type timedProcessor struct {
	processor.Metrics
	clock *cpuClock
}

func (t timedProcessor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return t.clock.time(func() error { return t.Metrics.ConsumeMetrics(ctx, md) })
}

// registerCPUTime publishes both clocks as cumulative counters (seconds)
// with the processor's labels; nothing where the platform has no thread
// CPU clock.
func registerCPUTime(mp metric.MeterProvider, labels []attribute.KeyValue, consume, downstream *cpuClock) (metric.Registration, error) {
	if _, ok := threadCPUNanos(); !ok {
		return nil, nil
	}
	meter := mp.Meter(scopeName)
	c, err := meter.Float64ObservableCounter(metricConsumeCPU, metric.WithUnit("s"),
		metric.WithDescription("Thread CPU time of this processor's calls, with everything downstream of it."))
	if err != nil {
		return nil, err
	}
	d, err := meter.Float64ObservableCounter(metricDownstreamCPU, metric.WithUnit("s"),
		metric.WithDescription("Thread CPU time of the next consumer's calls (everything downstream of this processor)."))
	if err != nil {
		return nil, err
	}
	set := metric.WithAttributeSet(attribute.NewSet(labels...))
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveFloat64(c, consume.seconds(), set)
		o.ObserveFloat64(d, downstream.seconds(), set)
		return nil
	}, c, d)
}
