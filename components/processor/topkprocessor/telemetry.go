package topkprocessor

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the processor's own telemetry.
const (
	telProcessesIn       = "phoenix.topk.processes.in"
	telProcessesKept     = "phoenix.topk.processes.kept"
	telProcessesAggr     = "phoenix.topk.processes.aggregated"
	telProcessesDropped  = "phoenix.topk.processes.dropped"
	telCriticalKept      = "phoenix.topk.processes.critical_kept"
	telUntracked         = "phoenix.topk.processes.untracked"
	telProbation         = "phoenix.topk.processes.probation"
	telKeptSetChanges    = "phoenix.topk.keep_set.changes"
	telDroppedDataPoints = "phoenix.topk.datapoints.dropped"
	telTracked           = "phoenix.topk.tracked_processes"
	telGroups            = "phoenix.topk.groups"

	// labelGroup is the group (host.name; "" for resources without one).
	labelGroup = "host.name"
	// labelChange tells admissions from evictions on keep_set.changes.
	labelChange = "change"
)

type telemetry struct {
	in, kept, aggregated, dropped, criticalKept, untracked, changes, droppedPoints metric.Int64Counter
	probation                                                                      metric.Int64Counter
	reg                                                                            metric.Registration
}

func newTelemetry(mp metric.MeterProvider, p *topkProcessor) (*telemetry, error) {
	meter := mp.Meter(scopeName)
	t := &telemetry{}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	t.in = counter(telProcessesIn, "{processes}", "Process resources received, per group (host.name), summed over batches.")
	t.kept = counter(telProcessesKept, "{processes}", "Process resources passed on unchanged (top K, hysteresis and critical).")
	t.aggregated = counter(telProcessesAggr, "{processes}", "Process resources folded into the group's other resource.")
	t.dropped = counter(telProcessesDropped, "{processes}", "Process resources dropped (others: drop).")
	t.criticalKept = counter(telCriticalKept, "{processes}", "Critical process resources passed on.")
	t.untracked = counter(telUntracked, "{processes}", "Process resources seen while max_tracked_processes was reached (handled without state).")
	t.probation = counter(telProbation, "{processes}", "Non-critical process resources younger than probation: rolled up, not ranked.")
	t.changes = counter(telKeptSetChanges, "{changes}", "Processes entering (change=admitted) or leaving (change=evicted) the ranked keep set.")
	t.droppedPoints = counter(telDroppedDataPoints, "{datapoints}", "Data points of aggregated processes that other cannot carry (histograms, summaries, series past the per-group limit).")
	tracked, err := meter.Int64ObservableGauge(telTracked, metric.WithUnit("{processes}"),
		metric.WithDescription("Processes whose state the processor keeps (bounded by max_tracked_processes)."))
	errs = append(errs, err)
	groups, err := meter.Int64ObservableGauge(telGroups, metric.WithUnit("{groups}"),
		metric.WithDescription("Groups (hosts) the processor keeps state for."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.reg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p.mu.Lock()
		n, g := p.tracked, len(p.groups)
		p.mu.Unlock()
		o.ObserveInt64(tracked, int64(n))
		o.ObserveInt64(groups, int64(g))
		return nil
	}, tracked, groups)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) groupAttrs(name string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String(labelGroup, name)))
}

var (
	admittedAttrs = attribute.String(labelChange, "admitted")
	evictedAttrs  = attribute.String(labelChange, "evicted")
)

// record adds one group's batch figures (the option slices are the
// group's, so that a batch allocates none).
func (t *telemetry) record(ctx context.Context, g *group) {
	s := &g.stats
	t.in.Add(ctx, s.in, g.addOpts...)
	t.kept.Add(ctx, s.kept, g.addOpts...)
	t.aggregated.Add(ctx, s.aggregated, g.addOpts...)
	t.dropped.Add(ctx, s.dropped, g.addOpts...)
	t.criticalKept.Add(ctx, s.criticalKept, g.addOpts...)
	if s.untracked > 0 {
		t.untracked.Add(ctx, s.untracked, g.addOpts...)
	}
	if s.probation > 0 {
		t.probation.Add(ctx, s.probation, g.addOpts...)
	}
	if s.droppedPoints > 0 {
		t.droppedPoints.Add(ctx, s.droppedPoints, g.addOpts...)
	}
	if s.admitted > 0 {
		t.changes.Add(ctx, s.admitted, g.admittedOpts...)
	}
	if s.evicted > 0 {
		t.changes.Add(ctx, s.evicted, g.evictedOpts...)
	}
}

func (t *telemetry) shutdown() error {
	if t.reg != nil {
		return t.reg.Unregister()
	}
	return nil
}
