package adaptivefilterprocessor

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.uber.org/zap"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// Metric the system scraper reports host CPU utilisation in.
const (
	metricSystemCPUUtilization = "system.cpu.utilization"
	attrCPUState               = "state"
)

// keepReason says why a process is in the output.
type keepReason uint8

const (
	keptNot keepReason = iota
	keptCritical
	keptThreshold
	keptRetention
	numKeepReasons
)

var keepReasonNames = [numKeepReasons]string{"", "critical", "threshold", "retention"}

// procState is what the processor remembers per process identity (the
// tracker's extension).
type procState struct {
	// firstTS is the data time the process was first seen (its age when the
	// scraper gives no start time).
	firstTS pcommon.Timestamp
	// lastPassed is the data time it last passed the thresholds (0 = never).
	lastPassed pcommon.Timestamp
	// The name-based verdicts, worked out once per identity: regexes are
	// the most expensive step per process.
	classified, critical, ephemeral bool
}

type entry = processmetrics.Entry[procState]

// proc is one process resource of the current batch.
type proc struct {
	entry    *entry // nil when the tracker is full
	ts       pcommon.Timestamp
	cpu, mem float64 // smoothed cores and bytes
	pass     float64 // the largest multiplier at which it passes
	weight   float64 // cost against the budget: 1, or its series
	series   int
	critical bool
	retained bool
	drop     dropReason
	kept     keepReason
}

// hostGroup is the state of one host (one host.name; "" when absent): its
// controller and, for the current batch, its processes and load.
type hostGroup struct {
	host    string
	hasHost bool
	ctrl    *controller
	plant   plant
	tel     groupTelemetry

	lastBatch uint64
	procs     []int32
	cpuSum    float64
	sysBusy   float64
	sysCPUs   int
	hasSys    bool

	// Figures of the last decided batch, for the gauges.
	last groupFigures
}

type groupFigures struct {
	decided                    bool
	multiplier, loadMultiplier float64
	load                       float64
	budget, effectiveBudget    float64
	output                     float64 // after the cap, in the budget unit
	full                       float64 // what the rules kept before the cap
	state                      ctrlState
	reversals                  int64
}

type adaptiveFilter struct {
	cfg      *Config
	logger   *zap.Logger
	critical *processmetrics.CriticalMatcher
	rules    rules
	tracker  *processmetrics.Tracker[procState]
	now      func() time.Time
	cpus     int
	series   bool

	mu      sync.Mutex
	batch   uint64
	groups  map[string]*hostGroup
	touched []*hostGroup
	procs   []proc
	rmProc  []int32 // per resource of the batch: index into procs, or -1
	capBuf  []candidate
	res     processmetrics.Resource

	tel *telemetry
}

func newAdaptiveFilter(set processor.Settings, cfg *Config) (*adaptiveFilter, error) {
	critical, err := processmetrics.NewCriticalMatcher(cfg.CriticalProcesses)
	if err != nil {
		return nil, err
	}
	tracker, err := processmetrics.NewTracker[procState](processmetrics.TrackerConfig{
		Smoothing:  processmetrics.Smoothing(cfg.Smoothing),
		Window:     cfg.SmoothingWindow,
		PruneAfter: cfg.PruneAfter,
		MaxTracked: cfg.MaxTrackedProcesses,
	})
	if err != nil {
		return nil, err
	}
	cpus := cfg.HostLoad.CPUCount
	if cpus == 0 {
		cpus = runtime.NumCPU()
	}
	p := &adaptiveFilter{
		cfg:      cfg,
		logger:   set.Logger,
		critical: critical,
		rules:    rules{cfg: cfg.DropRules},
		tracker:  tracker,
		now:      time.Now,
		cpus:     cpus,
		series:   cfg.BudgetUnit == UnitSeries,
		groups:   map[string]*hostGroup{},
	}
	p.tel, err = newTelemetry(set.MeterProvider, p)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *adaptiveFilter) shutdown(context.Context) error { return p.tel.shutdown() }

// processMetrics decides, per host, which process resources go on, and drops
// the others. Non-process resources pass through untouched.
func (p *adaptiveFilter) processMetrics(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.batch++
	p.tracker.Begin()
	p.procs = p.procs[:0]
	p.touched = p.touched[:0]
	nowTS := pcommon.NewTimestampFromTime(p.now())

	rms := md.ResourceMetrics()
	p.rmProc = slices.Grow(p.rmProc[:0], rms.Len())[:rms.Len()]
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		p.rmProc[i] = -1
		if !processmetrics.Read(rm, &p.res) {
			if p.cfg.HostLoad.Enabled && p.cfg.HostLoad.Source != LoadProcesses {
				p.readSystemLoad(rm)
			}
			continue
		}
		p.rmProc[i] = int32(len(p.procs))
		p.procs = append(p.procs, proc{})
		p.observe(&p.procs[len(p.procs)-1], &p.res, nowTS)
	}

	for _, g := range p.touched {
		if len(g.procs) > 0 {
			p.decide(g)
		}
	}

	if len(p.procs) > 0 {
		i := 0
		rms.RemoveIf(func(pmetric.ResourceMetrics) bool {
			pi := p.rmProc[i]
			i++
			return pi >= 0 && p.procs[pi].kept == keptNot
		})
	}
	p.tracker.End(nil)
	p.pruneGroups()
	p.tel.record(p)

	if rms.Len() == 0 {
		return md, processorhelper.ErrSkipProcessingData
	}
	return md, nil
}

// group returns the host group of a resource, creating it on first sight,
// and marks it touched in this batch.
func (p *adaptiveFilter) group(host string, hasHost bool) *hostGroup {
	g := p.groups[host]
	if g == nil {
		host = strings.Clone(host) // the key aliased pdata memory
		g = &hostGroup{host: host, hasHost: hasHost, ctrl: newController(p.cfg.Controller)}
		g.tel = p.tel.newGroup(host, hasHost)
		p.groups[host] = g
	}
	if g.lastBatch != p.batch {
		g.lastBatch = p.batch
		g.procs = g.procs[:0]
		g.cpuSum, g.sysBusy, g.sysCPUs, g.hasSys = 0, 0, 0, false
		p.touched = append(p.touched, g)
	}
	return g
}

// observe measures one process resource and applies the rules that do not
// depend on the rest of its host.
func (p *adaptiveFilter) observe(pr *proc, r *processmetrics.Resource, nowTS pcommon.Timestamp) {
	g := p.group(r.Host, r.HasHost)
	g.procs = append(g.procs, int32(len(p.procs)-1))

	pr.ts = r.Sample.Timestamp
	if pr.ts == 0 {
		pr.ts = nowTS
	}
	pr.series = dataPoints(r.Resource)
	pr.weight = 1
	if p.series {
		pr.weight = float64(pr.series)
	}

	e, isNew := p.tracker.Observe(r.ID, &r.Sample)
	pr.entry = e
	age := time.Duration(-1)
	if e != nil {
		if isNew {
			e.Ext = procState{firstTS: pr.ts}
		}
		pr.cpu, pr.mem = e.CPUScore, e.MemoryScore
		if p.cfg.Retention > 0 && e.Ext.lastPassed != 0 && pr.ts-e.Ext.lastPassed <= pcommon.Timestamp(p.cfg.Retention) {
			pr.retained = true
		}
		age = time.Duration(pr.ts - e.Ext.firstTS)
	} else {
		// Past max_tracked_processes: judged on this sample alone.
		if r.Sample.HasCPUUtilization {
			pr.cpu = r.Sample.CPUUtilization
		}
		pr.mem = r.Sample.Memory
	}
	if st := r.Sample.StartTime; st != 0 && st <= pr.ts {
		age = time.Duration(pr.ts - st)
	}
	g.cpuSum += pr.cpu

	t := p.cfg.Thresholds
	if t.Mode == ModeScore {
		pr.pass = t.CPUWeight*pr.cpu/t.CPU + t.MemoryWeight*pr.mem/t.Memory
	} else {
		pr.pass = max(pr.cpu/t.CPU, pr.mem/t.Memory)
	}

	var critical, ephemeral bool
	if e != nil && e.Ext.classified {
		critical, ephemeral = e.Ext.critical, e.Ext.ephemeral
	} else {
		critical, ephemeral = p.classify(r)
		if e != nil {
			e.Ext.classified, e.Ext.critical, e.Ext.ephemeral = true, critical, ephemeral
		}
	}
	if critical {
		pr.critical = true
		return
	}
	pr.drop = p.rules.apply(pr.cpu, pr.mem, age, ephemeral)
	if pr.drop == keepNone && p.cfg.Probation > 0 && age >= 0 && age <= p.cfg.Probation && !pr.retained {
		// Too young to tell whether it will outlive the billing window: a
		// series that appears for a minute costs as much as one that stays.
		pr.drop = dropProbation
	}
	if pr.retained && (pr.drop == dropIdle || pr.drop == dropShortLived) {
		// Retention beats the quiet-process rules: a process that passed a
		// moment ago must not flap out because it is quiet for a scrape.
		pr.drop = keepNone
	}
}

// classify works out the name-based verdicts of a process: critical, and
// ephemeral (when that rule is on).
func (p *adaptiveFilter) classify(r *processmetrics.Resource) (critical, ephemeral bool) {
	if p.critical.MatchResource(r) >= 0 {
		return true, false
	}
	e := p.cfg.DropRules.Ephemeral
	return false, e.Enabled && ephemeralName(r.Name, e.MinDigits, e.MinHex)
}

// decide runs one interval of one host: the keep rule at the current
// multiplier, the budget cap, the controller step and the retention update.
func (p *adaptiveFilter) decide(g *hostGroup) {
	budget := float64(p.cfg.MaxCardinality)
	load, lm := p.hostLoad(g)
	effective := budget / lm
	m := g.ctrl.m

	// Critical and retained processes are kept whatever the multiplier: the
	// plant's fixed weight. The controller sees everything the rules keep, so
	// in steady state the thresholds leave room for the retained processes
	// and the cap has nothing to evict.
	g.plant.reset()
	full := 0.0 // everything the rules keep, before the cap
	for _, pi := range g.procs {
		pr := &p.procs[pi]
		switch {
		case pr.critical:
			pr.kept = keptCritical
			g.plant.fixed += pr.weight
		case pr.drop != keepNone:
			continue
		case pr.retained:
			pr.kept = keptRetention
			if pr.pass >= m {
				pr.kept = keptThreshold
			}
			g.plant.fixed += pr.weight
		default:
			g.plant.cands = append(g.plant.cands, candidate{pass: pr.pass, weight: pr.weight, idx: pi})
			if pr.pass < m {
				pr.drop = dropThreshold
				continue
			}
			pr.kept = keptThreshold
		}
		full += pr.weight
	}

	final := full
	if p.cfg.Controller.EnforceBudget && full > effective {
		final = p.capToBudget(g, full, effective)
	}

	next := g.ctrl.step(full, effective, g.plant.solve)

	// Retention starts (or is renewed) only under settled thresholds: while
	// the controller tightens, what passes now may not pass next time, and a
	// cohort retained in a transient would hold the multiplier up and then
	// expire all at once, dropping the output below the band.
	if p.cfg.Retention > 0 && g.ctrl.state != stateTightening && g.ctrl.state != stateSaturatedHigh {
		for _, pi := range g.procs {
			pr := &p.procs[pi]
			if pr.kept == keptThreshold && pr.entry != nil && pr.pass >= next {
				pr.entry.Ext.lastPassed = pr.ts
			}
		}
	}

	g.last = groupFigures{
		decided:         true,
		multiplier:      next,
		loadMultiplier:  lm,
		load:            load,
		budget:          budget,
		effectiveBudget: effective,
		output:          final,
		full:            full,
		state:           g.ctrl.state,
		reversals:       g.ctrl.reversals,
	}
}

// capToBudget drops the lowest-scoring kept non-critical processes (retained
// ones that no longer pass come first, as they score lowest) until the
// output fits the budget (max_cardinality over the load multiplier: under
// high load the cap tightens too). It returns the output after the cap.
func (p *adaptiveFilter) capToBudget(g *hostGroup, output, budget float64) float64 {
	buf := p.capBuf[:0]
	for _, pi := range g.procs {
		pr := &p.procs[pi]
		if pr.kept == keptThreshold || pr.kept == keptRetention {
			buf = append(buf, candidate{pass: pr.pass, weight: pr.weight, idx: pi})
		}
	}
	slices.SortFunc(buf, func(a, b candidate) int {
		if c := cmp.Compare(a.pass, b.pass); c != 0 {
			return c
		}
		return cmp.Compare(b.idx, a.idx)
	})
	for _, c := range buf {
		if output <= budget {
			break
		}
		pr := &p.procs[c.idx]
		if pr.entry != nil {
			// Evicted for the budget: its retention ends here, or the
			// retained tail would take turns in and out of the output (and
			// a retained mass left over from a load step would hold the
			// controller saturated for the whole retention).
			pr.entry.Ext.lastPassed = 0
		}
		pr.kept, pr.drop = keptNot, dropBudget
		output -= c.weight
	}
	p.capBuf = buf
	return output
}

// hostLoad returns the host's load (0..1) and the load multiplier.
func (p *adaptiveFilter) hostLoad(g *hostGroup) (float64, float64) {
	h := p.cfg.HostLoad
	if !h.Enabled {
		return 0, 1
	}
	var load float64
	switch {
	case g.hasSys && h.Source != LoadProcesses:
		load = g.sysBusy / float64(g.sysCPUs)
	case h.Source == LoadSystem:
		return 0, 1
	default:
		load = g.cpuSum / float64(p.cpus)
	}
	return load, loadMultiplier(load, h)
}

// readSystemLoad reads system.cpu.utilization (one data point per cpu and
// state) from a host resource: the busy fraction is everything but idle and
// wait, over the number of cpus (the idle points).
func (p *adaptiveFilter) readSystemLoad(rm pmetric.ResourceMetrics) {
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if m.Name() != metricSystemCPUUtilization || m.Type() != pmetric.MetricTypeGauge {
				continue
			}
			host, hasHost := processmetrics.HostName(rm.Resource().Attributes())
			g := p.group(host, hasHost)
			dps := m.Gauge().DataPoints()
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				state, _ := dp.Attributes().Get(attrCPUState)
				switch state.Str() {
				case "idle":
					g.sysCPUs++
				case "wait":
				default:
					g.sysBusy += dp.DoubleValue()
				}
			}
			g.hasSys = g.sysCPUs > 0
		}
	}
}

// pruneGroups forgets hosts not seen for prune_after_intervals batches.
func (p *adaptiveFilter) pruneGroups() {
	for host, g := range p.groups {
		if p.batch-g.lastBatch >= uint64(p.cfg.PruneAfter) {
			delete(p.groups, host)
		}
	}
}

// dataPoints counts a resource's data points: its series in one scrape.
func dataPoints(rm pmetric.ResourceMetrics) int {
	n := 0
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				n += m.Gauge().DataPoints().Len()
			case pmetric.MetricTypeSum:
				n += m.Sum().DataPoints().Len()
			case pmetric.MetricTypeHistogram:
				n += m.Histogram().DataPoints().Len()
			case pmetric.MetricTypeExponentialHistogram:
				n += m.ExponentialHistogram().DataPoints().Len()
			case pmetric.MetricTypeSummary:
				n += m.Summary().DataPoints().Len()
			}
		}
	}
	return n
}
