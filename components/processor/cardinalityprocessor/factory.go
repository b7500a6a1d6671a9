// Package cardinalityprocessor is a pass-through processor that measures what
// a pipeline carries at its point (unique series, data points, processes,
// critical processes, series per metric name, the attribute keys creating the
// most series) and reports it per window through the collector's own
// telemetry, optionally also as phoenix.* metrics in the pipeline.
package cardinalityprocessor

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const stability = component.StabilityLevelAlpha

var componentType = component.MustNewType("cardinality")

// NewFactory returns the factory of the cardinality processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		createDefaultConfig,
		processor.WithMetrics(createMetricsProcessor, stability),
	)
}

func createMetricsProcessor(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	proc, _, err := newMetricsProcessor(ctx, set, cfg.(*Config), next)
	return proc, err
}

// newMetricsProcessor also returns the processor behind the helper, for tests.
func newMetricsProcessor(ctx context.Context, set processor.Settings, pCfg *Config, next consumer.Metrics) (processor.Metrics, *cardinalityProcessor, error) {
	p, err := newProcessor(set, pCfg)
	if err != nil {
		return nil, nil, err
	}
	// CPU time of the whole call and of the downstream call (cputime.go).
	consume, downstream := &cpuClock{}, &cpuClock{}
	reg, err := registerCPUTime(set.MeterProvider, p.labels, consume, downstream)
	if err != nil {
		_ = p.shutdown(ctx)
		return nil, nil, err
	}
	var unregister sync.Once
	shutdown := func(ctx context.Context) error {
		if reg != nil {
			unregister.Do(func() { _ = reg.Unregister() })
		}
		return p.shutdown(ctx)
	}
	proc, err := processorhelper.NewMetrics(ctx, set, pCfg, timedConsumer{next, downstream}, p.processMetrics,
		// Pass-through: it only writes to the data when it appends figures.
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: pCfg.EmitMetrics}),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(shutdown),
	)
	if err != nil {
		_ = shutdown(ctx)
		return nil, nil, err
	}
	return timedProcessor{proc, consume}, p, nil
}
