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

	// fingerprints of the resources measured in this window (a cache: capped,
	// and only ever skips work that would change nothing).
	fp              fingerprinter
	fingerprints    map[uint64]struct{}
	maxFingerprints int
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
		fingerprints:   make(map[uint64]struct{}),
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
		if _, seen := s.fingerprints[fingerprint]; seen {
			continue
		}
		if len(s.fingerprints) < s.maxFingerprints {
			s.fingerprints[fingerprint] = struct{}{}
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
		s.observeProcess(rm, resHash)
		resKeysDone := false
		for _, pt := range s.points {
			if !pt.member.insert(pt.hash) || !s.trackOffenders {
				continue
			}
			// A new series: its attribute values may be new too.
			if !resKeysDone {
				s.observeKeys(s.resourceKeys, &s.resourceKeyPos, scopeResource, res)
				resKeysDone = true
			}
			s.observeKeys(s.pointKeys, &s.pointKeyPos, scopeDataPoint, pt.attrs)
		}
	}
	clear(s.points) // drop references to the batch
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
func (s *windowState) observeKeys(keys map[string]*distinctMember, byPos *[]*distinctMember, scope string, attrs pcommon.Map) {
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
		m.insert(hashValue(v))
	}
}

func (s *windowState) observeProcess(rm pmetric.ResourceMetrics, resHash uint64) {
	id, ok := identifyProcess(rm, &s.sample)
	if !ok {
		return
	}
	if !s.procSet.insert(uint64(id)) || s.critical == nil {
		return
	}
	if _, seen := s.criticals[uint64(id)]; seen || len(s.criticals) >= maxCriticalTracked {
		return
	}
	if name, ok := criticalName(s.critical, rm, s.criticalIndex(rm, resHash)); ok {
		interned, ok := s.critNames[name]
		if !ok {
			if len(s.critNames) >= maxCriticalTracked {
				clear(s.critNames)
			}
			interned = strings.Clone(name)
			s.critNames[interned] = interned
		}
		s.criticals[uint64(id)] = interned
	}
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
	s.series.reset(ended, func(m *distinctMember) {
		if m == s.overflw {
			s.overflw = nil
			return
		}
		delete(s.names, m.name)
	})
	s.keys.reset(ended, func(m *distinctMember) {
		if m.scope == scopeResource {
			delete(s.resourceKeys, m.name)
		} else {
			delete(s.pointKeys, m.name)
		}
	})
	s.procSet.window = ended // the process set is never dropped
	s.procs.reset(ended, nil)
	clear(s.criticals)
	clear(s.fingerprints)
	clear(s.byPosition) // members may have been dropped
	clear(s.resourceKeyPos)
	clear(s.pointKeyPos)
	s.critPrev, s.critCur = s.critCur, s.critPrev
	clear(s.critCur)
	s.datapoints = 0
	s.window++
	s.start = start
}
