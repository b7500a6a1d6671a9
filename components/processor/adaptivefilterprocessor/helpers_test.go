package adaptivefilterprocessor

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

const mib = 1024 * 1024

var t0 = pcommon.NewTimestampFromTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))

// fakeProc is one process of a fakeHost.
type fakeProc struct {
	pid      int64
	name     string
	cmd      string
	start    pcommon.Timestamp
	cpu      float64 // cores
	mem      int64   // resident bytes
	cpuTime  float64 // accumulated seconds
	noStart  bool    // emit no start timestamps
	critical bool    // for the tests' own bookkeeping
}

// fakeHost emits batches shaped like the hostmetrics process scraper's: per
// process process.cpu.time (user, system, wait), process.memory.usage,
// process.memory.virtual and process.disk.io (read, write): 7 series.
type fakeHost struct {
	name     string
	now      pcommon.Timestamp
	interval time.Duration
	procs    []*fakeProc
	nextPID  int64
	sysUtil  float64 // when > 0, a system resource with system.cpu.utilization
	sysCPUs  int
}

func newFakeHost(name string) *fakeHost {
	return &fakeHost{name: name, now: t0, interval: 10 * time.Second, nextPID: 1000}
}

func (h *fakeHost) add(name, cmd string, cpu float64, mem int64) *fakeProc {
	h.nextPID++
	// Started an hour ago at the same pace, so its first rate is its rate.
	p := &fakeProc{pid: h.nextPID, name: name, cmd: cmd, cpu: cpu, mem: mem, start: h.now - pcommon.Timestamp(time.Hour), cpuTime: cpu * 3600}
	h.procs = append(h.procs, p)
	return p
}

func (h *fakeHost) remove(p *fakeProc) {
	for i, q := range h.procs {
		if q == p {
			h.procs = append(h.procs[:i], h.procs[i+1:]...)
			return
		}
	}
}

// tick advances the clock one interval and returns the batch of that scrape.
func (h *fakeHost) tick() pmetric.Metrics {
	md := pmetric.NewMetrics()
	h.appendTo(md)
	return md
}

func (h *fakeHost) appendTo(md pmetric.Metrics) {
	h.now += pcommon.Timestamp(h.interval)
	if h.sysUtil > 0 {
		rm := md.ResourceMetrics().AppendEmpty()
		if h.name != "" {
			rm.Resource().Attributes().PutStr(processmetrics.AttrHostName, h.name)
		}
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName(metricSystemCPUUtilization)
		dps := m.SetEmptyGauge().DataPoints()
		for c := range h.sysCPUs {
			for _, st := range []struct {
				name string
				v    float64
			}{{"user", h.sysUtil * 0.8}, {"system", h.sysUtil * 0.2}, {"idle", 1 - h.sysUtil}, {"wait", 0}} {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(h.now)
				dp.Attributes().PutStr("cpu", fmt.Sprintf("cpu%d", c))
				dp.Attributes().PutStr("state", st.name)
				dp.SetDoubleValue(st.v)
			}
		}
	}
	for _, p := range h.procs {
		p.cpuTime += p.cpu * h.interval.Seconds()
		appendProcess(md, h.name, p, h.now)
	}
}

func appendProcess(md pmetric.Metrics, host string, p *fakeProc, now pcommon.Timestamp) {
	rm := md.ResourceMetrics().AppendEmpty()
	a := rm.Resource().Attributes()
	if host != "" {
		a.PutStr(processmetrics.AttrHostName, host)
	}
	a.PutInt(processmetrics.AttrPID, p.pid)
	a.PutInt(processmetrics.AttrParentPID, 1)
	a.PutStr(processmetrics.AttrExecutableName, p.name)
	a.PutStr(processmetrics.AttrExecutablePath, "/usr/bin/"+p.name)
	a.PutStr(processmetrics.AttrCommandLine, p.cmd)
	a.PutStr(processmetrics.AttrOwner, "app")
	start := p.start
	if p.noStart {
		start = 0
	}
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	sum := func(name, unit string, monotonic bool) pmetric.NumberDataPointSlice {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		s := m.SetEmptySum()
		s.SetIsMonotonic(monotonic)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		return s.DataPoints()
	}
	dps := sum(processmetrics.MetricCPUTime, "s", true)
	for _, st := range []struct {
		name string
		f    float64
	}{{"user", 0.7}, {"system", 0.3}, {"wait", 0}} {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(now)
		dp.SetDoubleValue(p.cpuTime * st.f)
		dp.Attributes().PutStr("state", st.name)
	}
	for _, g := range []struct {
		name string
		v    int64
	}{{processmetrics.MetricMemoryUsage, p.mem}, {"process.memory.virtual", 4 * p.mem}} {
		dp := sum(g.name, "By", false).AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(now)
		dp.SetIntValue(g.v)
	}
	dps = sum("process.disk.io", "By", true)
	for _, dir := range []string{"read", "write"} {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(now)
		dp.SetIntValue(int64(p.cpuTime * 1000))
		dp.Attributes().PutStr("direction", dir)
	}
}

// harness drives the processor directly (its internals stay reachable for
// the assertions), with a test MeterProvider.
type harness struct {
	t   testing.TB
	p   *adaptiveFilter
	tel *componenttest.Telemetry
}

func newHarness(t testing.TB, cfg *Config) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newAdaptiveFilter(set, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return &harness{t: t, p: p, tel: tel}
}

// run feeds one batch and returns what goes on (empty when all was dropped).
func (h *harness) run(md pmetric.Metrics) pmetric.Metrics {
	h.t.Helper()
	out, err := h.p.processMetrics(context.Background(), md)
	if errors.Is(err, processorhelper.ErrSkipProcessingData) {
		return pmetric.NewMetrics()
	}
	require.NoError(h.t, err)
	return out
}

// group returns the state of one host.
func (h *harness) group(host string) *hostGroup {
	h.t.Helper()
	g := h.p.groups[host]
	require.NotNil(h.t, g, "no state for host %q", host)
	return g
}

// sum returns the sum of a counter's points with the given attribute value
// (or all points when value is "").
func (h *harness) sum(name, key, value string) int64 {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0 // nothing recorded yet
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(h.t, ok, "%s is not an int64 sum", name)
	var n int64
	for _, dp := range s.DataPoints {
		if v, ok := dp.Attributes.Value(attribute.Key(key)); value == "" || (ok && v.AsString() == value) {
			n += dp.Value
		}
	}
	return n
}

// gauge returns a float gauge's point with the given attribute value (or the
// only point when key is "").
func (h *harness) gauge(name, key, value string) (float64, bool) {
	h.t.Helper()
	m, err := h.tel.GetMetric(name)
	require.NoError(h.t, err)
	g, ok := m.Data.(metricdata.Gauge[float64])
	require.True(h.t, ok, "%s is not a float64 gauge", name)
	for _, dp := range g.DataPoints {
		if v, ok := dp.Attributes.Value(attribute.Key(key)); key == "" || (ok && v.AsString() == value) {
			return dp.Value, true
		}
	}
	return 0, false
}

// outputPIDs returns the pids of the process resources in md, per host.
func outputPIDs(md pmetric.Metrics) map[string]map[int64]bool {
	out := map[string]map[int64]bool{}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		a := rms.At(i).Resource().Attributes()
		pid, ok := processmetrics.PID(a)
		if !ok {
			continue
		}
		host, _ := processmetrics.HostName(a)
		if out[host] == nil {
			out[host] = map[int64]bool{}
		}
		out[host][pid] = true
	}
	return out
}

func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.HostLoad.CPUCount = 64 // a big host: load stays out of the way unless a test wants it
	return cfg
}
