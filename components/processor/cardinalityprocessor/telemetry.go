package cardinalityprocessor

import (
	"context"
	"errors"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/phoenix-otel/phoenix/components/processor/cardinalityprocessor"

// Names of the figures, shared by the telemetry and emit_metrics.
const (
	metricSeries          = "phoenix.cardinality.series"
	metricDataPoints      = "phoenix.cardinality.datapoints"
	metricProcesses       = "phoenix.cardinality.processes"
	metricCritical        = "phoenix.cardinality.critical_processes"
	metricCriticalPresent = "phoenix.cardinality.critical_process.present"
	metricMetricSeries    = "phoenix.cardinality.metric.series"
	metricAttrValues      = "phoenix.cardinality.attribute.values"
)

// Labels of the figures.
const (
	labelPipeline     = "phoenix.pipeline"
	labelStage        = "phoenix.stage"
	labelVariant      = "phoenix.variant"
	labelExperimentID = "phoenix.experiment.id"
	labelEstimated    = "phoenix.estimated"
	labelProcessName  = "process.executable.name"
	labelMetricName   = "metric.name"
	labelAttrKey      = "phoenix.attribute.key"
	labelAttrScope    = "phoenix.attribute.scope"
)

// Figure indexes into figures.
const (
	figSeries = iota
	figDataPoints
	figProcesses
	figCritical
	figCriticalPresent
	figMetricSeries
	figAttrValues
)

type figure struct {
	name, unit, description string
}

var figures = []figure{
	{metricSeries, "{series}", "Unique series (metric name + resource attributes + data-point attributes) in the last complete window."},
	{metricDataPoints, "{datapoints}", "Data points in the last complete window."},
	{metricProcesses, "{processes}", "Unique processes (process resources) in the last complete window."},
	{metricCritical, "{processes}", "Unique processes matching critical_processes in the last complete window."},
	{metricCriticalPresent, "{processes}", "Processes present per critical executable name in the last complete window."},
	{metricMetricSeries, "{series}", "Unique series per metric name in the last complete window."},
	{metricAttrValues, "{values}", "Distinct values of the top-N attribute keys (the series offenders) in the last complete window."},
}

// configLabels are the configured labels every figure carries.
func configLabels(cfg *Config) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attribute.String(labelPipeline, cfg.Pipeline),
		attribute.String(labelStage, cfg.Stage),
	}
	if cfg.Variant != "" {
		kv = append(kv, attribute.String(labelVariant, cfg.Variant))
	}
	if cfg.ExperimentID != "" {
		kv = append(kv, attribute.String(labelExperimentID, cfg.ExperimentID))
	}
	return kv
}

// telemetry publishes the last finished window through the component's
// MeterProvider as observable gauges, so the figures go wherever the
// collector's own telemetry goes.
type telemetry struct {
	reg metric.Registration
}

func newTelemetry(mp metric.MeterProvider, labels []attribute.KeyValue, last func() *snapshot) (*telemetry, error) {
	meter := mp.Meter(scopeName)
	gauges := make([]metric.Int64ObservableGauge, len(figures))
	insts := make([]metric.Observable, len(figures))
	for i, f := range figures {
		g, err := meter.Int64ObservableGauge(f.name, metric.WithUnit(f.unit), metric.WithDescription(f.description))
		if err != nil {
			return nil, err
		}
		gauges[i], insts[i] = g, g
	}
	with := func(extra ...attribute.KeyValue) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(slices.Clip(labels), extra...)...))
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		snap := last()
		if snap == nil {
			return nil // no window finished yet: nothing honest to say
		}
		forEachFigure(snap, func(fig int, value uint64, extra ...attribute.KeyValue) {
			o.ObserveInt64(gauges[fig], int64(value), with(extra...))
		})
		return nil
	}, insts...)
	if err != nil {
		return nil, err
	}
	return &telemetry{reg: reg}, nil
}

func (t *telemetry) shutdown() error {
	if t == nil || t.reg == nil {
		return nil
	}
	reg := t.reg
	t.reg = nil // Shutdown may be called more than once
	return reg.Unregister()
}

// forEachFigure walks every figure of a snapshot with its extra labels (the
// configured labels come on top). The index refers to figures.
func forEachFigure(snap *snapshot, fn func(fig int, value uint64, extra ...attribute.KeyValue)) {
	fn(figSeries, snap.series, attribute.Bool(labelEstimated, snap.seriesEstimated))
	fn(figDataPoints, snap.datapoints)
	fn(figProcesses, snap.processes, attribute.Bool(labelEstimated, snap.processesEstimated))
	fn(figCritical, snap.criticalProcesses)
	for _, c := range snap.criticalByName {
		fn(figCriticalPresent, c.count, attribute.String(labelProcessName, c.name))
	}
	for _, c := range snap.seriesByMetric {
		fn(figMetricSeries, c.count, attribute.String(labelMetricName, c.name), attribute.Bool(labelEstimated, snap.seriesEstimated))
	}
	for _, o := range snap.offenders {
		fn(figAttrValues, o.values,
			attribute.String(labelAttrKey, o.key),
			attribute.String(labelAttrScope, o.scope),
			attribute.Bool(labelEstimated, snap.offendersEstimated))
	}
}

var errNilMeterProvider = errors.New("cardinality processor: telemetry settings carry no MeterProvider")
