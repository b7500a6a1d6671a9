package adaptivefilterprocessor

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/phoenix-otel/phoenix/components/processor/adaptivefilterprocessor"

// Names of the processor's own metrics.
const (
	metricProcessesInput   = "phoenix.adaptive_filter.processes.input"
	metricProcessesKept    = "phoenix.adaptive_filter.processes.kept"
	metricProcessesDropped = "phoenix.adaptive_filter.processes.dropped"
	metricSeriesInput      = "phoenix.adaptive_filter.series.input"
	metricSeriesKept       = "phoenix.adaptive_filter.series.kept"
	metricUntracked        = "phoenix.adaptive_filter.processes.untracked"

	metricThresholdCPU    = "phoenix.adaptive_filter.threshold.cpu"
	metricThresholdMemory = "phoenix.adaptive_filter.threshold.memory"
	metricMultiplier      = "phoenix.adaptive_filter.multiplier"
	metricLoadMultiplier  = "phoenix.adaptive_filter.load_multiplier"
	metricHostLoad        = "phoenix.adaptive_filter.host_load"
	metricBudget          = "phoenix.adaptive_filter.budget"
	metricBudgetEffective = "phoenix.adaptive_filter.budget.effective"
	metricOutput          = "phoenix.adaptive_filter.output"
	metricState           = "phoenix.adaptive_filter.controller.state"
	metricReversals       = "phoenix.adaptive_filter.controller.direction_changes"
)

// Labels.
const (
	labelHost   = "host.name"
	labelReason = "reason"
	labelState  = "state"
	labelUnit   = "unit"
)

// groupTelemetry holds one host's precomputed attribute options, so that
// recording a batch does not allocate.
type groupTelemetry struct {
	base    metric.MeasurementOption
	kept    [numKeepReasons]metric.MeasurementOption
	dropped [numDropReasons]metric.MeasurementOption
	unit    metric.MeasurementOption
	states  [len(ctrlStateNames)]metric.MeasurementOption
}

type telemetry struct {
	unit string

	processesIn, processesKept, processesDropped metric.Int64Counter
	seriesIn, seriesKept, untracked              metric.Int64Counter

	reg metric.Registration
}

var errNilMeterProvider = errors.New("adaptive_filter processor: telemetry settings carry no MeterProvider")

func newTelemetry(mp metric.MeterProvider, p *adaptiveFilter) (*telemetry, error) {
	if mp == nil {
		return nil, errNilMeterProvider
	}
	meter := mp.Meter(scopeName)
	t := &telemetry{unit: p.cfg.BudgetUnit}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, unit, desc string) metric.Float64ObservableGauge {
		g, err := meter.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	t.processesIn = counter(metricProcessesInput, "{processes}", "Process resources received, per host and batch.")
	t.processesKept = counter(metricProcessesKept, "{processes}", "Process resources passed on, by reason (critical, threshold, retention).")
	t.processesDropped = counter(metricProcessesDropped, "{processes}", "Process resources dropped, by reason (threshold, idle, short_lived, ephemeral_name, budget).")
	t.seriesIn = counter(metricSeriesInput, "{series}", "Series (data points per scrape) of the process resources received.")
	t.seriesKept = counter(metricSeriesKept, "{series}", "Series (data points per scrape) of the process resources passed on.")
	t.untracked = counter(metricUntracked, "{processes}", "New processes judged without history because max_tracked_processes was reached.")

	thrCPU := gauge(metricThresholdCPU, "{cores}", "Current CPU threshold: thresholds.cpu times the multiplier.")
	thrMem := gauge(metricThresholdMemory, "By", "Current memory threshold: thresholds.memory times the multiplier.")
	mult := gauge(metricMultiplier, "1", "Current threshold multiplier set by the controller (the score threshold in score mode).")
	loadMult := gauge(metricLoadMultiplier, "1", "Current host-load multiplier; the controller's budget is max_cardinality divided by it.")
	hostLoad := gauge(metricHostLoad, "1", "Host load, fraction of all cores busy.")
	budget := gauge(metricBudget, "1", "max_cardinality, in the unit of the unit label.")
	effective := gauge(metricBudgetEffective, "1", "The budget after the host-load multiplier, in the unit of the unit label.")
	output := gauge(metricOutput, "1", "Output of the last batch after the budget cap, in the unit of the unit label.")
	state := gauge(metricState, "1", "1 for the controller's current state (label state: holding, tightening, relaxing, saturated_high, saturated_low).")
	reversals := gauge(metricReversals, "{changes}", "Times the multiplier changed direction since start.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	thr := p.cfg.Thresholds
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, g := range p.groups {
			f := g.last
			if !f.decided {
				continue
			}
			gt := &g.tel
			o.ObserveFloat64(thrCPU, thr.CPU*f.multiplier, gt.base)
			o.ObserveFloat64(thrMem, thr.Memory*f.multiplier, gt.base)
			o.ObserveFloat64(mult, f.multiplier, gt.base)
			o.ObserveFloat64(loadMult, f.loadMultiplier, gt.base)
			o.ObserveFloat64(hostLoad, f.load, gt.base)
			o.ObserveFloat64(budget, f.budget, gt.unit)
			o.ObserveFloat64(effective, f.effectiveBudget, gt.unit)
			o.ObserveFloat64(output, f.output, gt.unit)
			o.ObserveFloat64(state, 1, gt.states[f.state])
			o.ObserveFloat64(reversals, float64(f.reversals), gt.base)
		}
		return nil
	}, thrCPU, thrMem, mult, loadMult, hostLoad, budget, effective, output, state, reversals)
	if err != nil {
		return nil, err
	}
	t.reg = reg
	return t, nil
}

func (t *telemetry) newGroup(host string, hasHost bool) groupTelemetry {
	var base []attribute.KeyValue
	if hasHost {
		base = []attribute.KeyValue{attribute.String(labelHost, host)}
	}
	with := func(extra ...attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(append(append([]attribute.KeyValue(nil), base...), extra...)...))
	}
	gt := groupTelemetry{base: with(), unit: with(attribute.String(labelUnit, t.unit))}
	for r := keptCritical; r < numKeepReasons; r++ {
		gt.kept[r] = with(attribute.String(labelReason, keepReasonNames[r]))
	}
	for r := dropIdle; r < numDropReasons; r++ {
		gt.dropped[r] = with(attribute.String(labelReason, dropReasonNames[r]))
	}
	for s, name := range ctrlStateNames {
		gt.states[s] = with(attribute.String(labelState, name))
	}
	return gt
}

// record adds the batch's counts, per host touched.
func (t *telemetry) record(p *adaptiveFilter) {
	ctx := context.Background()
	if n := p.tracker.Refused(); n > 0 {
		t.untracked.Add(ctx, int64(n))
	}
	for _, g := range p.touched {
		if len(g.procs) == 0 {
			continue
		}
		var kept [numKeepReasons]int64
		var dropped [numDropReasons]int64
		var seriesIn, seriesKept int64
		for _, pi := range g.procs {
			pr := &p.procs[pi]
			seriesIn += int64(pr.series)
			if pr.kept != keptNot {
				kept[pr.kept]++
				seriesKept += int64(pr.series)
			} else {
				dropped[pr.drop]++
			}
		}
		gt := &g.tel
		t.processesIn.Add(ctx, int64(len(g.procs)), gt.base)
		t.seriesIn.Add(ctx, seriesIn, gt.base)
		t.seriesKept.Add(ctx, seriesKept, gt.base)
		for r := keptCritical; r < numKeepReasons; r++ {
			t.processesKept.Add(ctx, kept[r], gt.kept[r])
		}
		for r := dropIdle; r < numDropReasons; r++ {
			t.processesDropped.Add(ctx, dropped[r], gt.dropped[r])
		}
	}
}

func (t *telemetry) shutdown() error {
	if t == nil || t.reg == nil {
		return nil
	}
	return t.reg.Unregister()
}
