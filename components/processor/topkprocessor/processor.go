package topkprocessor

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
	"github.com/phoenix-otel/phoenix/internal/buildinfo"
)

const scopeName = "github.com/phoenix-otel/phoenix/components/processor/topkprocessor"

// Names on the other resource.
const (
	metricProcessCount = "process.count"
	metricUptime       = "process.uptime" // a sum of uptimes means nothing: not aggregated
)

// decision for one resource of a batch.
type decision uint8

const (
	decisionPass decision = iota // not a process: untouched
	decisionKeep
	decisionRemove
)

type topkProcessor struct {
	cfg      *Config
	logger   *zap.Logger
	critical *processmetrics.CriticalMatcher
	tcfg     processmetrics.TrackerConfig
	tel      *telemetry
	drop     bool
	// probation is Config.Probation in pdata time.
	probation pcommon.Timestamp

	mu        sync.Mutex
	groups    map[string]*group
	tracked   int // over all groups, bounded by MaxTrackedProcesses
	batch     uint64
	capWarned bool
	// rollupWarned: maxRollups was reached once (logged once per processor).
	rollupWarned bool

	// Reused per batch.
	res       processmetrics.Resource
	decisions []decision
	active    []*group
	last      *group // the group of the previous process resource
	onPrune   func(*entry)
}

func newProcessor(set processor.Settings, cfg *Config) (*topkProcessor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	critical, err := processmetrics.NewCriticalMatcher(cfg.CriticalProcesses)
	if err != nil {
		return nil, err
	}
	p := &topkProcessor{
		cfg:      cfg,
		logger:   set.Logger,
		critical: critical,
		tcfg:     cfg.trackerConfig(),
		drop:     cfg.Others == OthersDrop,
		groups:   map[string]*group{},
	}
	p.probation = pcommon.Timestamp(cfg.Probation.Nanoseconds())
	p.onPrune = func(*entry) { p.tracked-- }
	if p.tel, err = newTelemetry(set.TelemetrySettings.MeterProvider, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *topkProcessor) shutdown(context.Context) error {
	if p.tel != nil {
		return p.tel.shutdown()
	}
	return nil
}

// processMetrics treats each batch as one scrape interval of the hosts it
// carries: it ranks each host's processes, keeps the top K, the critical and
// those held by hysteresis, and replaces the rest with one other resource per
// host.
func (p *topkProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batch++
	rms := md.ResourceMetrics()
	n := rms.Len()
	p.decisions = slices.Grow(p.decisions[:0], n)[:n]
	p.active = p.active[:0]

	// Pass 1: recognise, identify and measure every process.
	for i := 0; i < n; i++ {
		p.decisions[i] = decisionPass
		rm := rms.At(i)
		if !processmetrics.Read(rm, &p.res) || p.isOtherResource(rm) {
			continue
		}
		p.decisions[i] = decisionKeep
		g := p.groupFor(p.res.Host)
		g.stats.in++
		if ts := p.res.Sample.Timestamp; ts > g.maxTS {
			g.maxTS = ts
		}
		if st := p.res.Sample.StartTime; st != 0 && (g.minStart == 0 || st < g.minStart) {
			g.minStart = st
		}
		var e *entry
		if p.tracked < p.cfg.MaxTrackedProcesses || g.tracker.Get(p.res.ID) != nil {
			var isNew bool
			e, isNew = g.tracker.Observe(p.res.ID, &p.res.Sample)
			if isNew {
				e.Ext.reset()
				e.Ext.born = p.res.Sample.StartTime
				if e.Ext.born == 0 || e.Ext.born > p.res.Sample.Timestamp {
					e.Ext.born = p.res.Sample.Timestamp
				}
				p.tracked++
			}
			e.Ext.young = p.probation > 0 && !e.Ext.kept && p.res.Sample.Timestamp < e.Ext.born+p.probation
			p.record(g, &e.Ext, rm)
		}
		m := member{rm: i, e: e}
		if p.cfg.OthersGroupBy != "" {
			// Read now, while the resource's attributes are in cache.
			m.groupBy, m.hasGroupBy = rm.Resource().Attributes().Get(p.cfg.OthersGroupBy)
		}
		if e != nil {
			if e.Ext.critical == 0 {
				e.Ext.critical = -1
				if p.critical.MatchResource(&p.res) >= 0 {
					e.Ext.critical = 1
				}
			}
			m.critical = e.Ext.critical > 0
		} else {
			g.stats.untracked++
			m.critical = p.critical.MatchResource(&p.res) >= 0
		}
		g.members = append(g.members, m)
	}

	// Rank each group, then decide and account every process.
	for _, g := range p.active {
		p.rank(g)
		for _, m := range g.members {
			keep := m.critical || (m.e != nil && m.e.Ext.kept)
			switch {
			case keep:
				g.stats.kept++
				if m.critical {
					g.stats.criticalKept++
				}
			case p.drop:
				p.decisions[m.rm] = decisionRemove
				g.stats.dropped++
			default:
				p.decisions[m.rm] = decisionRemove
				g.stats.aggregated++
				r := p.rollupFor(g, &m)
				g.rollups[r].count++
				if m.e != nil {
					m.e.Ext.moveTo(r)
					p.rollUp(g, &m.e.Ext, rms.At(m.rm), g.rollups[r])
				} else {
					p.rollUpUntracked(g, rms.At(m.rm), g.rollups[r])
				}
			}
		}
	}

	if len(p.active) > 0 {
		i := 0
		rms.RemoveIf(func(pmetric.ResourceMetrics) bool {
			d := p.decisions[i]
			i++
			return d == decisionRemove
		})
	}

	for _, g := range p.active {
		// A roll-up, once it appeared, is emitted every interval of its
		// group: its cumulative series continue, its levels read 0.
		for _, r := range g.rollups {
			p.emitOther(g, r, rms.AppendEmpty())
		}
		g.tracker.End(p.onPrune)
		p.tel.record(ctx, g)
		g.members = g.members[:0]
		g.stats = stats{}
		g.maxTS, g.minStart = 0, 0
	}
	p.pruneGroups()
	p.warnCap()
	return md, nil
}

// isOtherResource recognises an other resource (from an upstream topk):
// it passes through rather than being ranked as a process.
func (p *topkProcessor) isOtherResource(rm pmetric.ResourceMetrics) bool {
	return !p.res.HasPID && p.cfg.OtherName != "" && p.res.Name == p.cfg.OtherName
}

// rollupFor returns the index of the roll-up a process not kept goes into:
// the one of its others_group_by value, else (no attribute, an empty value,
// or past maxRollups) the plain other. m.e, when not nil, caches the last one.
func (p *topkProcessor) rollupFor(g *group, m *member) int32 {
	if !m.hasGroupBy {
		return g.plainRollup()
	}
	v, e := m.groupBy, m.e
	var key string
	if v.Type() == pcommon.ValueTypeStr {
		key = v.Str()
	} else {
		key = v.AsString() // rare: allocates
	}
	if key == "" {
		return g.plainRollup()
	}
	if e != nil && e.Ext.rollup >= 0 {
		if r := g.rollups[e.Ext.rollup]; r.hasValue && r.key == key {
			return e.Ext.rollup
		}
	}
	if idx, ok := g.rollupIndex[key]; ok {
		return idx
	}
	if len(g.rollupIndex) >= maxRollups {
		if !p.rollupWarned {
			p.rollupWarned = true
			p.logger.Warn("topk: more distinct others_group_by values on one host than the limit; further values go into the plain other resource",
				zap.String("others_group_by", p.cfg.OthersGroupBy), zap.Int("limit", maxRollups), zap.String("host", g.name))
		}
		return g.plainRollup()
	}
	return g.newRollup(key, v, true)
}

func (p *topkProcessor) groupFor(host string) *group {
	// A batch normally carries one host: skip the map for the same one.
	g, ok := p.last, p.last != nil && p.last.name == host
	if !ok {
		g, ok = p.groups[host]
	}
	if !ok {
		tr, err := processmetrics.NewTracker[procState](p.tcfg)
		if err != nil {
			panic(err) // validated in newProcessor
		}
		host = strings.Clone(host)
		g = newGroup(host, tr, p.tel.groupAttrs(host))
		p.groups[host] = g
	}
	p.last = g
	if g.lastBatch != p.batch {
		if ok {
			g.gap = max(g.gap, p.batch-g.lastBatch)
		}
		g.lastBatch = p.batch
		g.tracker.Begin()
		p.active = append(p.active, g)
	}
	return g
}

// pruneGroups forgets hosts that stopped sending. A group normally appears
// once per interval; with G groups sending separately an interval spans
// about G batches, and a group that scrapes less often than the others (or
// whose scrape was late) spans more: the widest gap seen between two of its
// batches. A group absent for prune_after times that many batches is gone.
// Pruning a live group would reset its ranking and hysteresis.
func (p *topkProcessor) pruneGroups() {
	groups := uint64(max(len(p.groups), 1))
	for name, g := range p.groups {
		if p.batch-g.lastBatch > uint64(p.cfg.PruneAfter)*max(groups, g.gap) {
			p.tracked -= g.tracker.Len()
			delete(p.groups, name)
			if g == p.last {
				p.last = nil
			}
		}
	}
}

func (p *topkProcessor) warnCap() {
	if p.tracked < p.cfg.MaxTrackedProcesses {
		p.capWarned = false
		return
	}
	if !p.capWarned {
		p.capWarned = true
		p.logger.Warn("topk: max_tracked_processes reached; new processes are aggregated without state (their cumulative increments are not counted in other) until tracked ones are pruned",
			zap.Int("max_tracked_processes", p.cfg.MaxTrackedProcesses))
	}
}

// rank orders the group's non-critical processes seen in this batch and
// applies the keep rule: probation, then hysteresis on rank and score.
func (p *topkProcessor) rank(g *group) {
	if p.cfg.TopK == 0 {
		return // roll-up mode: nothing is ranked, only critical processes are kept
	}
	interval := g.tracker.Interval()
	cands := g.candidates[:0]
	var maxCPU, maxMem float64
	for _, m := range g.members {
		e := m.e
		if e == nil || m.critical || e.Ext.rankedAt == int64(interval) {
			continue
		}
		e.Ext.rankedAt = int64(interval)
		if e.Ext.young {
			// On probation: rolled up, and not ranked, so that a burst of
			// new processes does not push the kept ones down.
			g.stats.probation++
			continue
		}
		cands = append(cands, e)
		maxCPU = max(maxCPU, e.CPUScore)
		maxMem = max(maxMem, e.MemoryScore)
	}
	keptNow := 0
	for _, e := range cands {
		switch p.cfg.Ranking {
		case RankingCPU:
			e.Ext.score = e.CPUScore
		case RankingMemory:
			e.Ext.score = e.MemoryScore
		default:
			s := 0.0
			if maxCPU > 0 {
				s += p.cfg.Weights.CPU * e.CPUScore / maxCPU
			}
			if maxMem > 0 {
				s += p.cfg.Weights.Memory * e.MemoryScore / maxMem
			}
			e.Ext.score = s
		}
		if e.Ext.kept {
			keptNow++
		}
	}
	// Only the ranks below top_k+margin matter: select them with a bounded
	// heap (O(n log(top_k+margin)) instead of sorting every process).
	k, hold := p.cfg.TopK, p.cfg.TopK+p.cfg.Hysteresis.Margin
	top := selectTop(g.top[:0], cands, hold)
	g.top = top
	// The K-th's score: a kept process is clearly below it under
	// (1-band) x that. With fewer than K candidates every one fits.
	floor := math.Inf(-1)
	if len(top) >= k {
		floor = top[k-1].Ext.score * (1 - p.cfg.Hysteresis.Band)
	}
	for r, e := range top {
		e.Ext.rankedAt = -int64(r) - 1 // rank r, marked for the loop below
	}
	// Evictions first, so that a place they free is filled at once.
	need := p.cfg.Hysteresis.Intervals
	over := keptNow > hold
	weakest := math.Inf(1) // lowest score of a process that stays kept
	for _, e := range cands {
		st := &e.Ext
		r := hold // not in the selection: ranked at or below top_k+margin
		if st.rankedAt < 0 {
			r = int(-st.rankedAt - 1)
		}
		st.rankedAt = int64(interval)
		if !st.kept {
			continue
		}
		// Within the margin, or not clearly below the K-th while the set
		// is within top_k+margin: it stays (near-equal processes at the
		// cut keep their places; past the bound the margin rules).
		if r < hold || (st.score >= floor && !over) {
			st.below = 0
		} else if st.below++; st.below >= need {
			st.kept, st.below = false, 0
			keptNow--
			g.stats.evicted++
			continue
		}
		weakest = min(weakest, st.score)
	}
	// A newcomer enters a free place, or a full set when it is clearly
	// better than the weakest kept process: near-equal processes at the
	// cut do not take turns (each turn would be new series for a backend).
	entry := weakest * (1 + p.cfg.Hysteresis.Band)
	for _, e := range top[:min(k, len(top))] {
		if st := &e.Ext; !st.kept && (keptNow < k || st.score > entry) {
			st.kept, st.below = true, 0
			keptNow++
			g.stats.admitted++
		}
	}
	g.candidates = cands
}

// byScore orders by score, highest first; ties by identity, so that the
// ranking is deterministic.
func byScore(a, b *entry) int {
	if c := cmp.Compare(b.Ext.score, a.Ext.score); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// selectTop returns the n best of cands in rank order (byScore), using dst's
// storage. It keeps a min-heap of the best n seen (its root the worst of
// them), so most candidates cost one comparison.
func selectTop(dst, cands []*entry, n int) []*entry {
	h := dst[:0]
	for _, e := range cands {
		if len(h) < n {
			h = append(h, e)
			// sift up
			for i := len(h) - 1; i > 0; {
				parent := (i - 1) / 2
				if byScore(h[i], h[parent]) <= 0 {
					break
				}
				h[i], h[parent] = h[parent], h[i]
				i = parent
			}
			continue
		}
		if byScore(e, h[0]) >= 0 {
			continue // not better than the worst kept
		}
		h[0] = e
		// sift down: the root must be the worst (largest by byScore)
		for i := 0; ; {
			l, r, worst := 2*i+1, 2*i+2, i
			if l < len(h) && byScore(h[l], h[worst]) > 0 {
				worst = l
			}
			if r < len(h) && byScore(h[r], h[worst]) > 0 {
				worst = r
			}
			if worst == i {
				break
			}
			h[i], h[worst] = h[worst], h[i]
			i = worst
		}
	}
	slices.SortFunc(h, byScore)
	return h
}

// record reads one tracked process's data points once, in pass 1 while
// they are in cache: it carries the last value of each cumulative series
// (needed whatever the decision, for when the process leaves the kept set)
// and notes what each series brought in this batch (procSeries.pending), so
// that rolling the process up (rollUp) does not walk its points again.
func (p *topkProcessor) record(g *group, st *procState, rm pmetric.ResourceMetrics) {
	st.skipped = 0
	hint := 0 // a process's series come in the same order every scrape
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			dps, kind, ok := numberSeries(m)
			if !ok {
				st.skipped += int64(dataPointCount(m))
				continue
			}
			name := m.Name()
			if name == metricUptime {
				continue // never aggregated, needs no state
			}
			var nameHash uint64
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				attrs := dp.Attributes()
				var ps *procSeries
				// Fast path: the series the process had at this position.
				if hint < len(st.series) {
					if c := &st.series[hint]; c.desc >= 0 && g.descs[c.desc].matches(name, attrs) {
						ps = c
					}
				}
				if ps == nil {
					if nameHash == 0 {
						nameHash = hashStr(name)
					}
					key := seriesKey(nameHash, attrs)
					ps = st.find(key, hint)
					if ps.desc < 0 {
						ps.desc = g.descFor(key, name, attrs)
					}
				}
				hint++
				v := value(dp)
				start, ts := dp.StartTimestamp(), dp.Timestamp()
				if ps.batch != p.batch {
					ps.batch, ps.kind, ps.npts, ps.pending = p.batch, kind, 0, 0
					ps.pstart, ps.pts = start, ts
					ps.sm, ps.m, ps.dp = int32(i), int32(j), int32(k)
				} else {
					ps.pstart, ps.pts = min(ps.pstart, start), max(ps.pts, ts)
				}
				ps.npts++
				if kind != kindCumulative {
					ps.pending += v
					continue
				}
				inc := v
				if ps.seen && v >= ps.last && (start == ps.start || start == 0 || ps.start == 0) {
					inc = v - ps.last
				}
				ps.last, ps.start, ps.seen = v, start, true
				ps.pending += inc
			}
		}
	}
}

// rollUp adds what a process brought in this batch to roll-up r, once: a
// process that came twice in the batch (two resources, one entry) was
// recorded twice and is added on its first resource.
func (p *topkProcessor) rollUp(g *group, st *procState, rm pmetric.ResourceMetrics, r *rollup) {
	g.stats.droppedPoints += st.skipped
	st.skipped = 0
	for i := range st.series {
		ps := &st.series[i]
		if ps.batch != p.batch {
			continue // not in this batch, or already added
		}
		ps.batch = 0
		if ps.other < 0 {
			// First time in this roll-up: its other series is found (or
			// created) from the point itself.
			m := rm.ScopeMetrics().At(int(ps.sm)).Metrics().At(int(ps.m))
			dps, _, _ := numberSeries(m)
			idx := g.otherFor(r, ps.key, m, dps.At(int(ps.dp)), ps.kind)
			if idx < 0 {
				g.stats.droppedPoints += int64(ps.npts)
				continue
			}
			ps.other = idx
		}
		o := &r.others[ps.other]
		if ps.kind == kindCumulative {
			o.cum += ps.pending
			o.touched = true
			continue
		}
		o.addLevel(ps.pending, ps.pstart, ps.pts)
	}
}

// rollUpUntracked adds a process past max_tracked_processes to roll-up r:
// its levels are summed; its counters' increments are unknown without state.
func (p *topkProcessor) rollUpUntracked(g *group, rm pmetric.ResourceMetrics, r *rollup) {
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			dps, kind, ok := numberSeries(m)
			if !ok {
				g.stats.droppedPoints += int64(dataPointCount(m))
				continue
			}
			if m.Name() == metricUptime {
				continue
			}
			nameHash := hashStr(m.Name())
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				idx := g.otherFor(r, seriesKey(nameHash, dp.Attributes()), m, dp, kind)
				if idx < 0 {
					g.stats.droppedPoints++
					continue
				}
				o := &r.others[idx]
				if kind == kindCumulative {
					o.touched = true
					continue
				}
				o.addLevel(value(dp), dp.StartTimestamp(), dp.Timestamp())
			}
		}
	}
}

// numberSeries returns a metric's number points and how other aggregates
// them; ok is false for histograms and summaries.
func numberSeries(m pmetric.Metric) (dps pmetric.NumberDataPointSlice, kind seriesKind, ok bool) {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		s := m.Sum()
		switch {
		case s.AggregationTemporality() == pmetric.AggregationTemporalityDelta:
			kind = kindDelta
		case s.IsMonotonic():
			kind = kindCumulative
		default:
			kind = kindLevel
		}
		return s.DataPoints(), kind, true
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints(), kindLevel, true
	}
	return pmetric.NumberDataPointSlice{}, kindLevel, false
}

func value(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	v := dp.DoubleValue()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func dataPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// emitOther writes one other resource of the group (roll-up r) for this
// interval and resets its per-interval sums. Cumulative series are emitted
// every interval with a StartTimestamp fixed for the group's life; level
// series carry this interval's sum (0 when no process contributed); delta
// series only when some process contributed. Its identity is host.name (when
// the group has one), process.executable.name = other_name and, for a value
// of others_group_by, that attribute.
func (p *topkProcessor) emitOther(g *group, r *rollup, rm pmetric.ResourceMetrics) {
	if r.startTS == 0 {
		r.startTS = g.minStart
		if r.startTS == 0 || r.startTS > g.maxTS {
			r.startTS = g.maxTS
		}
	}
	attrs := rm.Resource().Attributes()
	attrs.EnsureCapacity(3)
	attrs.PutStr(processmetrics.AttrExecutableName, p.cfg.OtherName)
	if g.name != "" {
		attrs.PutStr(processmetrics.AttrHostName, g.name)
	}
	if r.hasValue {
		r.value.CopyTo(attrs.PutEmpty(p.cfg.OthersGroupBy))
	}
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	sm.Scope().SetVersion(buildinfo.Version)
	ms := sm.Metrics()
	ms.EnsureCapacity(len(r.metrics) + 1)
	ts := g.maxTS
	for mi, om := range r.metrics {
		if !r.emits(int32(mi)) {
			continue // a delta metric no process contributed to
		}
		var dps pmetric.NumberDataPointSlice
		m := ms.AppendEmpty()
		m.SetName(om.name)
		m.SetDescription(om.description)
		m.SetUnit(om.unit)
		if om.typ == pmetric.MetricTypeSum {
			s := m.SetEmptySum()
			s.SetAggregationTemporality(om.temporality)
			s.SetIsMonotonic(om.monotonic)
			dps = s.DataPoints()
		} else {
			dps = m.SetEmptyGauge().DataPoints()
		}
		for i := range r.others {
			o := &r.others[i]
			if o.metric != int32(mi) || !o.emitted() {
				continue
			}
			dp := dps.AppendEmpty()
			o.attrs.CopyTo(dp.Attributes())
			dp.SetTimestamp(ts)
			v := o.sum
			switch o.kind {
			case kindCumulative:
				v = o.cum
				dp.SetStartTimestamp(r.startTS)
			case kindDelta:
				dp.SetStartTimestamp(o.start)
				dp.SetTimestamp(max(o.ts, o.start))
			default:
				if om.typ == pmetric.MetricTypeSum {
					dp.SetStartTimestamp(r.startTS)
				}
			}
			if o.isInt {
				dp.SetIntValue(int64(math.Round(v)))
			} else {
				dp.SetDoubleValue(v)
			}
			o.sum, o.touched, o.start, o.ts = 0, false, 0, 0
		}
	}
	count := ms.AppendEmpty()
	count.SetName(metricProcessCount)
	count.SetDescription("Number of processes aggregated into this other resource in the interval.")
	count.SetUnit("{processes}")
	dp := count.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetIntValue(r.count)
	r.count = 0
}
