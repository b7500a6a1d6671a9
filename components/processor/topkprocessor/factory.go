// Package topkprocessor keeps the top K processes per host by CPU, memory or
// a weighted score, always keeps critical processes, and folds the rest into
// one `other` resource per host that preserves the totals.
package topkprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const stability = component.StabilityLevelAlpha

var componentType = component.MustNewType("topk")

// NewFactory returns the factory of the topk processor.
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
func newMetricsProcessor(ctx context.Context, set processor.Settings, cfg *Config, next consumer.Metrics) (processor.Metrics, *topkProcessor, error) {
	p, err := newProcessor(set, cfg)
	if err != nil {
		return nil, nil, err
	}
	proc, err := processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithShutdown(p.shutdown),
	)
	if err != nil {
		_ = p.shutdown(ctx)
		return nil, nil, err
	}
	return proc, p, nil
}
