// Package adaptivefilterprocessor keeps a host's process cardinality under a
// budget. Each process gets a score from its smoothed CPU rate and memory; it
// is kept when it is critical, when its score passes the current thresholds,
// or for a retention period after it last passed. A feedback controller moves
// the threshold multiplier so that the output sits in a dead band under
// max_cardinality, with a bounded step per interval, and host load shrinks
// the budget. Drop rules remove idle, short-lived and ephemeral-named
// processes. Non-process resources pass through untouched.
package adaptivefilterprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const stability = component.StabilityLevelAlpha

var componentType = component.MustNewType("adaptive_filter")

// NewFactory returns the factory of the adaptive-filter processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		createDefaultConfig,
		processor.WithMetrics(createMetricsProcessor, stability),
	)
}

func createMetricsProcessor(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	p, err := newAdaptiveFilter(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithShutdown(p.shutdown),
	)
}
