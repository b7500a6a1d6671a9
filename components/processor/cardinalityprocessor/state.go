package cardinalityprocessor

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

const (
	// Bounds on what one window tracks by name, so that a flood of metric
	// names or attribute keys cannot grow memory without limit.
	maxMetricNames     = 1000
	maxAttributeKeys   = 1000
	maxCriticalTracked = 10_000
	overflowMetricName = "_other"
	scopeResource      = "resource"
	scopeDataPoint     = "datapoint"
)

// snapshot holds the figures of one finished window. It is immutable once
// published.
type snapshot struct {
	start, end time.Time

	series          uint64
	seriesEstimated bool
	datapoints      uint64

	processes          uint64
	processesEstimated bool
	criticalProcesses  uint64
	criticalByName     []nameCount // sorted by name

	seriesByMetric []nameCount // sorted by name; estimated with seriesEstimated

	offenders          []keyCount // top N by distinct values, descending
	offendersEstimated bool
}

type nameCount struct {
	name  string
	count uint64
}

type keyCount struct {
	key    string
	scope  string
	values uint64
}

// windowState accumulates one window. It is not safe for concurrent use; the
// processor serialises access.
type windowState struct {
	window uint64 // sequence number of the current window
	start  time.Time

	datapoints uint64

	series  *distinctGroup
	names   map[string]*distinctMember
	overflw *distinctMember

	trackOffenders bool
	topN           int
	keys           *distinctGroup
	resourceKeys   map[string]*distinctMember
	pointKeys      map[string]*distinctMember

	procs     *distinctGroup
	procSet   *distinctMember
	critical  *processmetrics.CriticalMatcher
	criticals map[uint64]string // process identity -> reported name
	critNames map[string]string // interned critical names
	sample    processmetrics.Sample

	// fingerprints of the resources measured in this window and the last
	// one (a cache: capped, and only ever skips work that would change
	// nothing). A resource seen in the last window re-counts its series,
	// process and attribute values by slot (see replay), so the first scrape
	// of a window costs about what a later one does.
	fp           fingerprinter
	fingerprints map[uint64]int32 // fingerprint -> entries index
	// the entry of each resource position of the last batch: a source sends
	// its resources in the same order scrape after scrape, so comparing with
	// the same position spares the map lookup.
	byResource      []int32
	entries         []fpEntry
	freeEntries     []int32
	maxFingerprints int
	carryStopped    bool
	seen            map[uint64]struct{} // fingerprints measured once carry stopped
	points          []pendingPoint
	byPosition      []*distinctMember // series members by metric position in the last resource
	resourceKeyPos  []*distinctMember // key members by attribute position
	pointKeyPos     []*distinctMember

	// critical pattern index (-1: none) by resource hash, this window and the last
	critCur, critPrev map[uint64]int32
}

func newWindowState(cfg *Config, critical *processmetrics.CriticalMatcher, start time.Time) *windowState {
	s := &windowState{
		window:         1,
		start:          start,
		series:         newDistinctGroup(cfg.ExactLimit, true),
		names:          make(map[string]*distinctMember),
		trackOffenders: cfg.TopOffenders > 0,
		topN:           cfg.TopOffenders,
		keys:           newDistinctGroup(cfg.ExactLimit, false),
		resourceKeys:   make(map[string]*distinctMember),
		pointKeys:      make(map[string]*distinctMember),
		procs:          newDistinctGroup(cfg.ExactLimit, false),
		critical:       critical,
		criticals:      make(map[uint64]string),
		critNames:      make(map[string]string),
		fp:             newFingerprinter(),
		fingerprints:   make(map[uint64]int32),
		seen:           make(map[uint64]struct{}),
		critCur:        make(map[uint64]int32),
		critPrev:       make(map[uint64]int32),
		// One per process per window normally; bounded like the sets.
		maxFingerprints: cfg.ExactLimit,
	}
	s.procSet = s.procs.newMember("", "", s.window)
	return s
}

// observe measures one batch. It only reads md.
//
// Each resource first gets a cheap fingerprint (see fingerprint.go). If the
// fingerprint was already seen in this window, every series and the process
// of the resource were counted before, and the resource costs one hash walk
// and one lookup. This is the common case: a scrape repeats the previous
// scrape's series. Otherwise every data point's series hash is computed and
// counted.
func (s *windowState) observe(md pmetric.Metrics) {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		fingerprint, points := s.fp.resource(rm)
		s.datapoints += uint64(points)
		if idx, seen := s.lookup(i, fingerprint); seen {
			e := &s.entries[idx]
			if e.window == s.window {
				continue
			}
			if e.carry {
				s.replay(e)
				if s.anyEstimated() {
					s.stopCarry()
				}
				continue
			}
			s.dropEntry(fingerprint, idx) // cannot replay: measure it again
		}
		var e *fpEntry
		if s.carryStopped {
			// An estimated window carries nothing: only remember that the
			// resource was measured, as cheaply as before the carry.
			if _, seen := s.seen[fingerprint]; seen {
				continue
			}
			if len(s.seen) < s.maxFingerprints {
				s.seen[fingerprint] = struct{}{}
			}
		} else {
			e = s.newEntry(fingerprint)
			if e != nil {
				s.remember(i, s.fingerprints[fingerprint])
			}
		}

		res := rm.Resource().Attributes()
		resHash := hashMap(res)
		s.points = s.points[:0]

		sms := rm.ScopeMetrics()
		pos := 0
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				member := s.seriesMemberAt(pos, m.Name())
				pos++
				prefix := resourcePrefix(member.hash, resHash)
				if member.name == overflowMetricName && m.Name() != overflowMetricName {
					// Names past the cap share one member; keep them apart.
					prefix = resourcePrefix(hashString(m.Name()), resHash)
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					dps := m.Gauge().DataPoints()
					for l := 0; l < dps.Len(); l++ {
						dp := dps.At(l)
						s.collect(member, prefix, dp.Attributes())
					}
				case pmetric.MetricTypeSum:
					dps := m.Sum().DataPoints()
					for l := 0; l < dps.Len(); l++ {
						dp := dps.At(l)
						s.collect(member, prefix, dp.Attributes())
					}
				case pmetric.MetricTypeHistogram:
					dps := m.Histogram().DataPoints()
					for l := 0; l < dps.Len(); l++ {
						dp := dps.At(l)
						s.collect(member, prefix, dp.Attributes())
					}
				case pmetric.MetricTypeExponentialHistogram:
					dps := m.ExponentialHistogram().DataPoints()
					for l := 0; l < dps.Len(); l++ {
						dp := dps.At(l)
						s.collect(member, prefix, dp.Attributes())
					}
				case pmetric.MetricTypeSummary:
					dps := m.Summary().DataPoints()
					for l := 0; l < dps.Len(); l++ {
						dp := dps.At(l)
						s.collect(member, prefix, dp.Attributes())
					}
				}
			}
		}
		s.observeProcess(rm, resHash, e)
		for _, pt := range s.points {
			i, _ := pt.member.insertSlot(pt.hash)
			e.add(pt.member, i)
		}
		if s.trackOffenders && len(s.points) > 0 {
			// Every value, also of series already counted: the entry must
			// hold all of them for the next window.
			s.observeKeys(s.resourceKeys, &s.resourceKeyPos, scopeResource, res, e)
			for _, pt := range s.points {
				s.observeKeys(s.pointKeys, &s.pointKeyPos, scopeDataPoint, pt.attrs, e)
			}
		}
		if s.anyEstimated() {
			s.stopCarry()
		}
	}
	clear(s.points) // drop references to the batch
}

// lookup finds the entry of fingerprint, the resource at position pos of
// the batch: first at the entry the same position had in the last batch.
func (s *windowState) lookup(pos int, fingerprint uint64) (int32, bool) {
	if pos < len(s.byResource) {
		if idx := s.byResource[pos]; idx >= 0 && s.entries[idx].fp == fingerprint && s.entries[idx].live {
			return idx, true
		}
	}
	idx, ok := s.fingerprints[fingerprint]
	if ok {
		s.remember(pos, idx)
	}
	return idx, ok
}

func (s *windowState) remember(pos int, idx int32) {
	for len(s.byResource) <= pos {
		s.byResource = append(s.byResource, -1)
	}
	s.byResource[pos] = idx
}

// add records a counted slot (-1: its group is estimated, the entry cannot
// replay). It is a no-op on a nil entry.
func (e *fpEntry) add(m *distinctMember, slot int32) {
	if e == nil || !e.carry {
		return
	}
	if slot < 0 {
		e.carry, e.refs = false, nil
		return
	}
	e.refs = append(e.refs, slotRef{member: m, slot: slot})
}

// fpEntry is what a resource fingerprint counted: the slots of its series,
// attribute values and process, for replay in the next window.
type fpEntry struct {
	fp      uint64 // the fingerprint it is stored under
	live    bool   // false: free (fp is stale)
	window  uint64 // the last window it was counted in
	carry   bool   // every slot is known (false when a group was estimated)
	refs    []slotRef
	proc    slotRef // proc.member nil: not a process
	procID  uint64
	crit    string // the reported critical name, "" when not critical
	hasCrit bool
}

// slotRef is one counted hash: a member and its slot.
type slotRef struct {
	member *distinctMember
	slot   int32
}

// replay counts a resource of the last window again, by slot: no attribute
// is read or hashed.
func (s *windowState) replay(e *fpEntry) {
	e.window = s.window
	for _, r := range e.refs {
		// mark, inlined for the exact case (a call per slot is a third of
		// the replay).
		m := r.member
		g := m.group
		if g.estimated {
			m.mark(r.slot)
			continue
		}
		m.window = g.cur
		sl := &m.slots[r.slot]
		if sl.stamp == g.cur {
			continue
		}
		sl.stamp = g.cur
		m.n++
		if g.used++; g.used > g.limit {
			g.toSketches()
		}
	}
	if e.proc.member != nil && e.proc.member.mark(e.proc.slot) && e.hasCrit {
		if _, seen := s.criticals[e.procID]; !seen && len(s.criticals) < maxCriticalTracked {
			s.criticals[e.procID] = e.crit
		}
	}
}

// newEntry returns a fresh entry for fingerprint (nil when the cache is
// full: the resource is then measured in full whenever it comes).
func (s *windowState) newEntry(fingerprint uint64) *fpEntry {
	if len(s.fingerprints) >= s.maxFingerprints {
		return nil
	}
	var i int32
	if n := len(s.freeEntries); n > 0 {
		i = s.freeEntries[n-1]
		s.freeEntries = s.freeEntries[:n-1]
	} else {
		i = int32(len(s.entries))
		s.entries = append(s.entries, fpEntry{})
	}
	e := &s.entries[i]
	*e = fpEntry{fp: fingerprint, live: true, window: s.window, carry: !s.carryStopped, refs: e.refs[:0]}
	s.fingerprints[fingerprint] = i
	return e
}

// stopCarry is called once a group of this window turned estimated: its
// slots are released (the sketches hold the window now), and no entry
// carries into the next window; entries stay only as "seen in this window".
func (s *windowState) stopCarry() {
	if !s.carryStopped {
		s.carryStopped = true
		for _, i := range s.fingerprints {
			e := &s.entries[i]
			e.carry, e.refs, e.proc = false, nil, slotRef{}
		}
	}
	for _, g := range []*distinctGroup{s.series, s.keys, s.procs} {
		if g.estimated {
			g.releaseSlots()
		}
	}
}

func (s *windowState) anyEstimated() bool {
	return s.series.estimated || s.keys.estimated || s.procs.estimated
}

func (s *windowState) dropEntry(fingerprint uint64, i int32) {
	delete(s.fingerprints, fingerprint)
	e := &s.entries[i]
	*e = fpEntry{refs: e.refs[:0]}
	s.freeEntries = append(s.freeEntries, i)
}

// pendingPoint is a data point whose series is yet to be counted.
type pendingPoint struct {
	member *distinctMember
	hash   uint64
	attrs  pcommon.Map
}

// collect records one data point's series.
func (s *windowState) collect(member *distinctMember, prefix uint64, attrs pcommon.Map) {
	s.points = append(s.points, pendingPoint{member: member, hash: seriesHash(prefix, hashMap(attrs)), attrs: attrs})
}

// seriesMemberAt is seriesMember with a cache by position: resources of one
// source list the same metrics in the same order, so the member at the same
// position of the previous resource usually matches, and a string compare is
// cheaper than a map lookup.
func (s *windowState) seriesMemberAt(pos int, name string) *distinctMember {
	if pos < len(s.byPosition) {
		if m := s.byPosition[pos]; m != nil && m.name == name && m.window == s.window {
			return m
		}
	}
	m := s.seriesMember(name)
	if m == s.overflw {
		return m // shared by many names: never cached
	}
	for len(s.byPosition) <= pos {
		s.byPosition = append(s.byPosition, nil)
	}
	s.byPosition[pos] = m
	return m
}

func (s *windowState) seriesMember(name string) *distinctMember {
	m, ok := s.names[name]
	if !ok {
		if len(s.names) >= maxMetricNames {
			if s.overflw == nil {
				s.overflw = s.series.newMember(overflowMetricName, "", s.window)
			}
			s.overflw.window = s.window
			return s.overflw
		}
		m = s.series.newMember(strings.Clone(name), "", s.window)
		s.names[m.name] = m
	}
	m.window = s.window
	return m
}

// observeKeys counts the values of every attribute key. byPos caches the
// members by attribute position, as seriesMemberAt does for metric names.
func (s *windowState) observeKeys(keys map[string]*distinctMember, byPos *[]*distinctMember, scope string, attrs pcommon.Map, e *fpEntry) {
	pos := -1
	for k, v := range attrs.All() {
		pos++
		var m *distinctMember
		if pos < len(*byPos) && (*byPos)[pos] != nil && (*byPos)[pos].name == k {
			m = (*byPos)[pos]
		} else {
			var ok bool
			m, ok = keys[k]
			if !ok {
				if len(s.resourceKeys)+len(s.pointKeys) >= maxAttributeKeys {
					continue
				}
				m = s.keys.newMember(strings.Clone(k), scope, s.window)
				keys[m.name] = m
			}
			for len(*byPos) <= pos {
				*byPos = append(*byPos, nil)
			}
			(*byPos)[pos] = m
		}
		m.window = s.window
		i, _ := m.insertSlot(hashValue(v))
		e.add(m, i)
	}
}

func (s *windowState) observeProcess(rm pmetric.ResourceMetrics, resHash uint64, e *fpEntry) {
	id, ok := identifyProcess(rm, &s.sample)
	if !ok {
		return
	}
	slot, isNew := s.procSet.insertSlot(uint64(id))
	if e != nil && e.carry {
		e.proc, e.procID = slotRef{member: s.procSet, slot: slot}, uint64(id)
		if slot < 0 {
			e.carry, e.refs, e.proc = false, nil, slotRef{}
		}
	}
	if s.critical == nil {
		return
	}
	name, isCrit := "", false
	if e != nil || isNew {
		name, isCrit = criticalName(s.critical, rm, s.criticalIndex(rm, resHash))
	}
	if isCrit && e != nil {
		e.crit, e.hasCrit = s.intern(name), true
	}
	if !isNew {
		return
	}
	if _, seen := s.criticals[uint64(id)]; seen || len(s.criticals) >= maxCriticalTracked {
		return
	}
	if isCrit {
		s.criticals[uint64(id)] = s.intern(name)
	}
}

// intern returns a copy of name that does not alias the batch, shared by
// every process of that name.
func (s *windowState) intern(name string) string {
	interned, ok := s.critNames[name]
	if !ok {
		if len(s.critNames) >= maxCriticalTracked {
			clear(s.critNames)
		}
		interned = strings.Clone(name)
		s.critNames[interned] = interned
	}
	return interned
}

// criticalIndex is the index of the first critical pattern matching the
// resource, or -1. The regexes run once per distinct resource: results are
// kept by resource attribute hash (which covers the executable name and
// command line they match) for this window and the previous one, so a
// process present window after window is matched once.
func (s *windowState) criticalIndex(rm pmetric.ResourceMetrics, resHash uint64) int {
	if i, ok := s.critCur[resHash]; ok {
		return int(i)
	}
	i, ok := s.critPrev[resHash]
	if !ok {
		i = int32(s.critical.MatchIndex(rm.Resource().Attributes()))
	}
	if len(s.critCur) < s.maxFingerprints {
		s.critCur[resHash] = i
	}
	return int(i)
}

// finish closes the window at end and returns its figures; the state is then
// reset for the next window, keeping its storage.
func (s *windowState) finish(end time.Time) *snapshot {
	snap := &snapshot{
		start:              s.start,
		end:                end,
		series:             s.series.totalCount(),
		seriesEstimated:    s.series.estimated,
		datapoints:         s.datapoints,
		processes:          s.procs.totalCount(),
		processesEstimated: s.procs.estimated,
		criticalProcesses:  uint64(len(s.criticals)),
		offendersEstimated: s.keys.estimated,
	}
	for _, m := range s.series.members {
		if m.window == s.window {
			snap.seriesByMetric = append(snap.seriesByMetric, nameCount{name: m.name, count: m.count()})
		}
	}
	slices.SortFunc(snap.seriesByMetric, func(a, b nameCount) int { return cmp.Compare(a.name, b.name) })

	if len(s.criticals) > 0 {
		byName := make(map[string]uint64)
		for _, name := range s.criticals {
			byName[name]++
		}
		for name, n := range byName {
			snap.criticalByName = append(snap.criticalByName, nameCount{name: name, count: n})
		}
		slices.SortFunc(snap.criticalByName, func(a, b nameCount) int { return cmp.Compare(a.name, b.name) })
	}

	if s.trackOffenders {
		all := make([]keyCount, 0, len(s.keys.members))
		for _, m := range s.keys.members {
			if m.window == s.window {
				all = append(all, keyCount{key: m.name, scope: m.scope, values: m.count()})
			}
		}
		slices.SortFunc(all, func(a, b keyCount) int {
			if c := cmp.Compare(b.values, a.values); c != 0 {
				return c
			}
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			return cmp.Compare(a.scope, b.scope)
		})
		if len(all) > s.topN {
			all = all[:s.topN]
		}
		snap.offenders = all
	}

	s.reset(end)
	return snap
}

func (s *windowState) reset(start time.Time) {
	ended := s.window
	// Carry the last window's resources into the next one, unless a group
	// was estimated (then its slots are gone, and every entry with them).
	carry := !s.carryStopped && !s.anyEstimated()
	s.carryStopped = false
	clear(s.seen)
	for fingerprint, i := range s.fingerprints {
		if !carry || s.entries[i].window != ended {
			s.dropEntry(fingerprint, i)
		}
	}
	s.series.reset(ended, carry, func(m *distinctMember) {
		if m == s.overflw {
			s.overflw = nil
			return
		}
		delete(s.names, m.name)
	})
	s.keys.reset(ended, carry, func(m *distinctMember) {
		if m.scope == scopeResource {
			delete(s.resourceKeys, m.name)
		} else {
			delete(s.pointKeys, m.name)
		}
	})
	s.procSet.window = ended // the process set is never dropped
	s.procs.reset(ended, carry, nil)
	clear(s.criticals)
	clear(s.byPosition) // members may have been dropped
	clear(s.resourceKeyPos)
	clear(s.pointKeyPos)
	s.critPrev, s.critCur = s.critCur, s.critPrev
	clear(s.critCur)
	s.datapoints = 0
	s.window++
	s.start = start
}
