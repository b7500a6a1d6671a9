package topkprocessor

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/metric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// seriesKind says how the other resource aggregates a series.
type seriesKind uint8

const (
	// kindCumulative: a monotonic cumulative sum. The other series is a
	// running total that grows by the increments of the processes not kept.
	kindCumulative seriesKind = iota
	// kindLevel: a non-monotonic cumulative sum or a gauge (memory, threads,
	// utilisation). The other series is this interval's sum.
	kindLevel
	// kindDelta: a delta sum. The other series is this interval's sum.
	kindDelta
)

// maxOtherSeries bounds the series of one group's other resources together
// (process metrics have a handful per roll-up; this only guards against
// unbounded data-point attributes).
const maxOtherSeries = 4096

// maxRollups bounds the roll-ups of one group that carry an others_group_by
// value; processes with a further value go into the plain other.
const maxRollups = 256

// procSeries is what topk remembers of one series of one process: its last
// cumulative value (to turn it into an increment when the process is not
// kept) and where it goes in the group's other resource.
type procSeries struct {
	key   uint64
	last  float64
	start pcommon.Timestamp
	other int32 // index in group.others, -1 until resolved
	desc  int32 // index in group.descs, -1 when not interned
	seen  bool

	// What the series brought in batch `batch`, read while its points were
	// in cache, so that rolling the process up does not read them again.
	batch uint64
	kind  seriesKind
	npts  int32
	// pending: the increment (cumulative) or the sum of values (levels,
	// deltas); pstart, pts: the earliest StartTimestamp and latest
	// Timestamp of its points (levels, deltas).
	pending   float64
	pstart    pcommon.Timestamp
	pts       pcommon.Timestamp
	sm, m, dp int32 // where its first point is, to create its other series
}

// procState is topk's per-process state, kept in the shared tracker.
type procState struct {
	critical int8 // 0 unknown, 1 critical, -1 not
	kept     bool
	// young: on probation in this interval (younger than Probation).
	young bool
	// born is the process start time, or when topk first saw it.
	born     pcommon.Timestamp
	below    int   // consecutive intervals clearly below the K-th
	rankedAt int64 // interval last ranked; negative while rank is being assigned
	score    float64
	series   []procSeries
	// skipped: points of this batch other cannot carry (histograms,
	// summaries), counted as dropped when the process is rolled up.
	skipped int64
	// rollup is the group's roll-up the series' other indexes point into
	// (-1 none): when the process is rolled up elsewhere they are reset.
	rollup int32
}

func (s *procState) reset() {
	*s = procState{series: s.series[:0], rollup: -1}
}

// moveTo points the process's series at roll-up r, forgetting their other
// indexes when it changes (a process can change category; its increments
// then go to the new roll-up, and the old one simply stops growing by it).
func (s *procState) moveTo(r int32) {
	if s.rollup == r {
		return
	}
	s.rollup = r
	for i := range s.series {
		s.series[i].other = -1
	}
}

// find returns the series with key, trying position hint first (a process's
// series come in the same order every scrape), and appends it when new.
func (s *procState) find(key uint64, hint int) *procSeries {
	if hint < len(s.series) && s.series[hint].key == key {
		return &s.series[hint]
	}
	for i := range s.series {
		if s.series[i].key == key {
			return &s.series[i]
		}
	}
	s.series = append(s.series, procSeries{key: key, other: -1, desc: -1})
	return &s.series[len(s.series)-1]
}

type entry = processmetrics.Entry[procState]

// otherMetric describes one metric of the other resource, copied from the
// first process metric of that name.
type otherMetric struct {
	name, description, unit string
	typ                     pmetric.MetricType
	temporality             pmetric.AggregationTemporality
	monotonic               bool
}

// otherSeries is one data-point series of one of a group's other resources.
type otherSeries struct {
	key    uint64
	metric int32
	attrs  pcommon.Map
	kind   seriesKind
	isInt  bool

	cum     float64 // kindCumulative: running total
	sum     float64 // kindLevel, kindDelta: this interval
	touched bool    // contributed to this interval
	start   pcommon.Timestamp
	ts      pcommon.Timestamp
}

// member is one process resource of the current batch.
type member struct {
	rm       int // index in the batch's ResourceMetrics
	e        *entry
	critical bool
	// groupBy is the resource's others_group_by attribute, if any.
	groupBy    pcommon.Value
	hasGroupBy bool
}

// rollup is one other resource of a group: the plain other, or the one of
// one value of others_group_by.
type rollup struct {
	// key is the others_group_by value as a string; hasValue is false for
	// the plain other.
	key      string
	value    pcommon.Value
	hasValue bool

	others      []otherSeries
	otherIndex  map[uint64]int32
	metrics     []otherMetric
	metricIndex map[string]int32
	// startTS is the StartTimestamp of its cumulative series: the earliest
	// process start of the group in the batch in which the roll-up first
	// appeared, fixed for the group's life so that backends see one
	// uninterrupted cumulative series.
	startTS pcommon.Timestamp

	count int64 // processes rolled up in this interval
}

// group is the state of one host (host.name) or of the resources without one.
type group struct {
	name    string
	tracker *processmetrics.Tracker[procState]

	// rollups are the group's other resources, in order of appearance;
	// plain is the index of the one without an others_group_by value (-1
	// until needed), rollupIndex finds the others by value.
	rollups     []*rollup
	plain       int32
	rollupIndex map[string]int32
	otherSeries int // over all roll-ups, bounded by maxOtherSeries

	lastBatch uint64
	gap       uint64 // the widest gap seen between two of its batches
	// Telemetry options: the group's attribute set, and with the change.
	addOpts, admittedOpts, evictedOpts []metric.AddOption

	// descs intern the (metric name, attributes) of the series seen in the
	// group, so that a process's series at its usual position is recognised
	// by comparing strings instead of hashing its attributes.
	descs     []seriesDesc
	descIndex map[uint64]int32

	// Per batch.
	members    []member
	candidates []*entry
	top        []*entry
	maxTS      pcommon.Timestamp
	minStart   pcommon.Timestamp
	stats      stats
}

// stats are the per-batch figures of one group.
type stats struct {
	in, kept, aggregated, dropped, criticalKept, untracked int64
	admitted, evicted, droppedPoints                       int64
	probation                                              int64
}

func newGroup(name string, tr *processmetrics.Tracker[procState], attrs metric.MeasurementOption) *group {
	return &group{
		name:         name,
		tracker:      tr,
		plain:        -1,
		rollupIndex:  map[string]int32{},
		descIndex:    map[uint64]int32{},
		addOpts:      []metric.AddOption{attrs},
		admittedOpts: []metric.AddOption{attrs, metric.WithAttributes(admittedAttrs)},
		evictedOpts:  []metric.AddOption{attrs, metric.WithAttributes(evictedAttrs)},
	}
}

// newRollup appends a roll-up to the group; value is copied.
func (g *group) newRollup(key string, value pcommon.Value, hasValue bool) int32 {
	r := &rollup{otherIndex: map[uint64]int32{}, metricIndex: map[string]int32{}, hasValue: hasValue}
	if hasValue {
		r.key = strings.Clone(key)
		r.value = pcommon.NewValueEmpty()
		value.CopyTo(r.value)
		g.rollupIndex[r.key] = int32(len(g.rollups))
	}
	g.rollups = append(g.rollups, r)
	return int32(len(g.rollups) - 1)
}

// plainRollup returns the index of the plain other, creating it.
func (g *group) plainRollup() int32 {
	if g.plain < 0 {
		g.plain = g.newRollup("", pcommon.Value{}, false)
	}
	return g.plain
}

// otherFor returns the index in r.others of the other series for a data
// point, creating it (and its metric) on first use; -1 when the group is at
// maxOtherSeries.
func (g *group) otherFor(r *rollup, key uint64, m pmetric.Metric, dp pmetric.NumberDataPoint, kind seriesKind) int32 {
	if idx, ok := r.otherIndex[key]; ok {
		return idx
	}
	if g.otherSeries >= maxOtherSeries {
		return -1
	}
	g.otherSeries++
	mi, ok := r.metricIndex[m.Name()]
	if !ok {
		// Cloned: pdata strings may alias a request buffer we must not pin.
		om := otherMetric{name: strings.Clone(m.Name()), description: strings.Clone(m.Description()), unit: strings.Clone(m.Unit()), typ: m.Type()}
		if m.Type() == pmetric.MetricTypeSum {
			om.temporality = m.Sum().AggregationTemporality()
			om.monotonic = m.Sum().IsMonotonic()
		}
		mi = int32(len(r.metrics))
		r.metrics = append(r.metrics, om)
		r.metricIndex[om.name] = mi
	}
	attrs := pcommon.NewMap()
	dp.Attributes().CopyTo(attrs)
	idx := int32(len(r.others))
	r.others = append(r.others, otherSeries{
		key: key, metric: mi, attrs: attrs, kind: kind,
		isInt: dp.ValueType() == pmetric.NumberDataPointValueTypeInt,
	})
	r.otherIndex[key] = idx
	return idx
}

// seriesDesc is an interned series shape. Only shapes with no attribute or
// one string attribute (all the process scraper emits) get the fast path.
type seriesDesc struct {
	key    uint64
	name   string
	nattrs int // 0 or 1; -1: no fast path
	k, v   string
}

const maxDescs = 4096

// descFor interns the shape of a series, or returns -1 past maxDescs.
func (g *group) descFor(key uint64, name string, attrs pcommon.Map) int32 {
	if idx, ok := g.descIndex[key]; ok {
		return idx
	}
	if len(g.descs) >= maxDescs {
		return -1
	}
	d := seriesDesc{key: key, name: strings.Clone(name), nattrs: -1}
	switch attrs.Len() {
	case 0:
		d.nattrs = 0
	case 1:
		for k, v := range attrs.All() {
			if v.Type() == pcommon.ValueTypeStr {
				d.nattrs, d.k, d.v = 1, strings.Clone(k), strings.Clone(v.Str())
			}
		}
	}
	idx := int32(len(g.descs))
	g.descs = append(g.descs, d)
	g.descIndex[key] = idx
	return idx
}

// matches reports whether a data point of metric name with attrs has this
// shape, without hashing.
func (d *seriesDesc) matches(name string, attrs pcommon.Map) bool {
	if d.name != name {
		return false
	}
	switch d.nattrs {
	case 0:
		return attrs.Len() == 0
	case 1:
		if attrs.Len() != 1 {
			return false
		}
		v, ok := attrs.Get(d.k)
		return ok && v.Type() == pcommon.ValueTypeStr && v.Str() == d.v
	}
	return false
}

// addLevel adds a level or delta contribution (a sum of values, their
// earliest StartTimestamp and latest Timestamp) to the interval.
func (o *otherSeries) addLevel(v float64, start, ts pcommon.Timestamp) {
	o.sum += v
	if !o.touched || start < o.start {
		o.start = start
	}
	o.ts = max(o.ts, ts)
	o.touched = true
}

// emitted reports whether the series is written this interval: every
// series but a delta no process contributed to.
func (o *otherSeries) emitted() bool { return o.kind != kindDelta || o.touched }

// emits reports whether metric mi of the roll-up has a series to write.
func (r *rollup) emits(mi int32) bool {
	for i := range r.others {
		if r.others[i].metric == mi && r.others[i].emitted() {
			return true
		}
	}
	return false
}
