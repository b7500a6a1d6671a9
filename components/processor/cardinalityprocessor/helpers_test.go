package cardinalityprocessor

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// processBatch builds one scrape shaped like the hostmetrics process scraper:
// one resource per process, 7 data points per process.
func processBatch(procs int, pidBase int, names []string) pmetric.Metrics {
	return processBatchStarted(procs, pidBase, names, 0)
}

// processBatchStarted is processBatch with the process start times (the
// StartTimestamp of cumulative points, as the scraper sets it) shifted by
// startShift, to model PIDs reused by new processes.
func processBatchStarted(procs int, pidBase int, names []string, startShift time.Duration) pmetric.Metrics {
	md := pmetric.NewMetrics()
	now := time.Unix(1_700_000_000, 0)
	ts := pcommon.NewTimestampFromTime(now)
	for i := 0; i < procs; i++ {
		rm := md.ResourceMetrics().AppendEmpty()
		pid := int64(pidBase + i)
		name := names[i%len(names)]
		a := rm.Resource().Attributes()
		a.PutInt("process.pid", pid)
		a.PutInt("process.parent_pid", 1)
		a.PutStr("process.executable.name", name)
		a.PutStr("process.executable.path", "/usr/bin/"+name)
		a.PutStr("process.command", name)
		a.PutStr("process.command_line", fmt.Sprintf("/usr/bin/%s --worker %d", name, pid))
		a.PutStr("process.owner", "root")
		start := pcommon.NewTimestampFromTime(now.Add(-time.Duration(pid)*time.Second + startShift))
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/processscraper")
		ms := sm.Metrics()

		cpu := ms.AppendEmpty()
		cpu.SetName("process.cpu.time")
		cpu.SetUnit("s")
		sum := cpu.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for j, st := range []string{"user", "system", "wait"} {
			dp := sum.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetDoubleValue(float64(i + j))
			dp.Attributes().PutStr("state", st)
		}
		for _, n := range []string{"process.memory.usage", "process.memory.virtual"} {
			m := ms.AppendEmpty()
			m.SetName(n)
			m.SetUnit("By")
			s := m.SetEmptySum()
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dp := s.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetIntValue(int64(1024 * (i + 1)))
		}
		io := ms.AppendEmpty()
		io.SetName("process.disk.io")
		io.SetUnit("By")
		s := io.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for _, d := range []string{"read", "write"} {
			dp := s.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetIntValue(int64(4096 * i))
			dp.Attributes().PutStr("direction", d)
		}
	}
	return md
}

var defaultNames = []string{"nginx", "postgres", "redis-server", "java", "bash", "sshd", "python3", "node", "chrome", "sleep"}

// bruteForce counts with canonical strings in plain maps: the reference the
// hashed counters must match.
type bruteForce struct {
	series     map[string]struct{}
	perMetric  map[string]map[string]struct{}
	keyValues  map[string]map[string]struct{} // scope/key -> values
	datapoints int
}

func newBruteForce() *bruteForce {
	return &bruteForce{
		series:    map[string]struct{}{},
		perMetric: map[string]map[string]struct{}{},
		keyValues: map[string]map[string]struct{}{},
	}
}

func (b *bruteForce) observe(md pmetric.Metrics) {
	for _, rm := range md.ResourceMetrics().All() {
		res := rm.Resource().Attributes()
		resKey := canonicalMap(res)
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				forEachPointAttrs(m, func(attrs pcommon.Map) {
					b.datapoints++
					k := m.Name() + "\x00" + resKey + "\x01" + canonicalMap(attrs)
					b.series[k] = struct{}{}
					if b.perMetric[m.Name()] == nil {
						b.perMetric[m.Name()] = map[string]struct{}{}
					}
					b.perMetric[m.Name()][k] = struct{}{}
					b.addKeys(scopeResource, res)
					b.addKeys(scopeDataPoint, attrs)
				})
			}
		}
	}
}

func (b *bruteForce) addKeys(scope string, m pcommon.Map) {
	for k, v := range m.All() {
		id := scope + "/" + k
		if b.keyValues[id] == nil {
			b.keyValues[id] = map[string]struct{}{}
		}
		b.keyValues[id][canonicalValue(v)] = struct{}{}
	}
}

func forEachPointAttrs(m pmetric.Metric, fn func(pcommon.Map)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			fn(dp.Attributes())
		}
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			fn(dp.Attributes())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			fn(dp.Attributes())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			fn(dp.Attributes())
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range m.Summary().DataPoints().All() {
			fn(dp.Attributes())
		}
	}
}

func canonicalMap(m pcommon.Map) string {
	parts := make([]string, 0, m.Len())
	for k, v := range m.All() {
		parts = append(parts, fmt.Sprintf("%q=%s", k, canonicalValue(v)))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func canonicalValue(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		return "map" + canonicalMap(v.Map())
	case pcommon.ValueTypeSlice:
		parts := make([]string, 0, v.Slice().Len())
		for _, e := range v.Slice().All() {
			parts = append(parts, canonicalValue(e))
		}
		return "slice[" + strings.Join(parts, ",") + "]"
	case pcommon.ValueTypeBytes:
		return fmt.Sprintf("bytes%q", v.Bytes().AsRaw())
	default:
		return fmt.Sprintf("%s(%s)", v.Type(), v.AsString())
	}
}

// randomGen builds random batches from small pools of keys and values, so
// that series repeat across batches, and inserts every map's attributes in a
// random order so that equal maps arrive in different orders.
type randomGen struct {
	r *rand.Rand
}

var (
	randKeys    = []string{"a", "b", "c", "host", "pid", "state", "dir", "k.x", ""}
	randStrVals = []string{"", "1", "x", "y", "nginx", "true"}
	randNames   = []string{"m.one", "m.two", "m.three", "process.cpu.time"}
)

func (g *randomGen) value(depth int) pcommon.Value {
	switch n := g.r.IntN(9); {
	case n < 3:
		return pcommon.NewValueStr(randStrVals[g.r.IntN(len(randStrVals))])
	case n == 3:
		return pcommon.NewValueInt(int64(g.r.IntN(4)))
	case n == 4:
		return pcommon.NewValueDouble(float64(g.r.IntN(3)))
	case n == 5:
		return pcommon.NewValueBool(g.r.IntN(2) == 1)
	case n == 6:
		v := pcommon.NewValueBytes()
		v.Bytes().FromRaw([]byte(randStrVals[g.r.IntN(len(randStrVals))]))
		return v
	case n == 7 && depth < 2:
		v := pcommon.NewValueSlice()
		for i := g.r.IntN(3); i > 0; i-- {
			g.value(depth + 1).CopyTo(v.Slice().AppendEmpty())
		}
		return v
	case n == 8 && depth < 2:
		v := pcommon.NewValueMap()
		g.fillMap(v.Map(), depth+1, 3)
		return v
	default:
		return pcommon.NewValueEmpty()
	}
}

// fillMap puts up to max random attributes into m, in a random key order.
func (g *randomGen) fillMap(m pcommon.Map, depth, max int) {
	keys := append([]string(nil), randKeys...)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys[:g.r.IntN(max+1)] {
		g.value(depth).CopyTo(m.PutEmpty(k))
	}
}

func (g *randomGen) batch(resources int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for i := 0; i < resources; i++ {
		rm := md.ResourceMetrics().AppendEmpty()
		g.fillMap(rm.Resource().Attributes(), 0, 3)
		for s := g.r.IntN(2) + 1; s > 0; s-- {
			ms := rm.ScopeMetrics().AppendEmpty().Metrics()
			for j := g.r.IntN(4); j > 0; j-- {
				m := ms.AppendEmpty()
				m.SetName(randNames[g.r.IntN(len(randNames))])
				n := g.r.IntN(4)
				switch g.r.IntN(6) {
				case 0:
					dps := m.SetEmptyGauge().DataPoints()
					for ; n > 0; n-- {
						g.fillMap(dps.AppendEmpty().Attributes(), 0, 2)
					}
				case 1:
					dps := m.SetEmptySum().DataPoints()
					for ; n > 0; n-- {
						g.fillMap(dps.AppendEmpty().Attributes(), 0, 2)
					}
				case 2:
					dps := m.SetEmptyHistogram().DataPoints()
					for ; n > 0; n-- {
						g.fillMap(dps.AppendEmpty().Attributes(), 0, 2)
					}
				case 3:
					dps := m.SetEmptyExponentialHistogram().DataPoints()
					for ; n > 0; n-- {
						g.fillMap(dps.AppendEmpty().Attributes(), 0, 2)
					}
				case 4:
					dps := m.SetEmptySummary().DataPoints()
					for ; n > 0; n-- {
						g.fillMap(dps.AppendEmpty().Attributes(), 0, 2)
					}
				default:
					// a metric with no data: no series, no points
				}
			}
		}
	}
	return md
}
