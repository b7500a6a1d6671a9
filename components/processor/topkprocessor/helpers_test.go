package topkprocessor

import (
	"context"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

var t0 = pcommon.NewTimestampFromTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))

func at(sec float64) pcommon.Timestamp { return t0 + pcommon.Timestamp(sec*1e9) }

// pr is one process in a crafted scrape.
type pr struct {
	host    string
	pid     int64
	name    string
	cmdline string
	start   float64    // process start, seconds after t0 (cumulative StartTimestamp)
	cpu     [3]float64 // user, system, wait seconds (cumulative, or per interval with delta)
	mem     int64
	disk    [2]int64 // read, write bytes
	delta   bool     // CPU time and disk as delta sums over [now-interval, now]
	// category, when set, is put in the resource attribute catKey (the
	// attribute the roll-up tests group others by).
	category string
}

// catKey is the others_group_by attribute of the roll-up tests.
const catKey = "phoenix.process.category"

const interval = 10.0

// scrape renders processes as the hostmetrics process scraper does.
func scrape(now float64, ps ...pr) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, p := range ps {
		appendPR(md, p, now)
	}
	return md
}

func appendPR(md pmetric.Metrics, p pr, now float64) {
	rm := md.ResourceMetrics().AppendEmpty()
	a := rm.Resource().Attributes()
	a.PutInt(processmetrics.AttrPID, p.pid)
	a.PutStr(processmetrics.AttrExecutableName, p.name)
	cmd := p.cmdline
	if cmd == "" {
		cmd = "/usr/bin/" + p.name
	}
	a.PutStr(processmetrics.AttrCommandLine, cmd)
	if p.host != "" {
		a.PutStr(processmetrics.AttrHostName, p.host)
	}
	if p.category != "" {
		a.PutStr(catKey, p.category)
	}
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	start := at(p.start)
	ts := at(now)
	dstart := start
	temporality := pmetric.AggregationTemporalityCumulative
	if p.delta {
		temporality = pmetric.AggregationTemporalityDelta
		dstart = at(now - interval)
	}
	cpu := ms.AppendEmpty()
	cpu.SetName("process.cpu.time")
	cpu.SetUnit("s")
	s := cpu.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(temporality)
	for i, st := range []string{"user", "system", "wait"} {
		dp := s.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(dstart)
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(p.cpu[i])
		dp.Attributes().PutStr("state", st)
	}
	for _, name := range []string{"process.memory.usage", "process.memory.virtual"} {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit("By")
		ss := m.SetEmptySum()
		ss.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dp := ss.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		v := p.mem
		if name == "process.memory.virtual" {
			v *= 3
		}
		dp.SetIntValue(v)
	}
	io := ms.AppendEmpty()
	io.SetName("process.disk.io")
	io.SetUnit("By")
	is := io.SetEmptySum()
	is.SetIsMonotonic(true)
	is.SetAggregationTemporality(temporality)
	for i, dir := range []string{"read", "write"} {
		dp := is.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(dstart)
		dp.SetTimestamp(ts)
		dp.SetIntValue(p.disk[i])
		dp.Attributes().PutStr("direction", dir)
	}
}

func testConfig(mutate func(*Config)) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Smoothing = string(processmetrics.SmoothingNone)
	cfg.Window = 1
	// The crafted worlds start their processes with the test: no probation
	// unless a test asks for it.
	cfg.Probation = 0
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

type harness struct {
	t    *testing.T
	p    *topkProcessor
	tel  *componenttest.Telemetry
	sink *consumertest.MetricsSink
	cons interface {
		ConsumeMetrics(context.Context, pmetric.Metrics) error
	}
}

// newHarness builds the processor through its factory path (processorhelper,
// component telemetry) with a sink behind it.
func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.MetricsSink)
	proc, p, err := newMetricsProcessor(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Shutdown(context.Background()) })
	return &harness{t: t, p: p, tel: tel, sink: sink, cons: proc}
}

// run consumes md and returns what the processor passed on.
func (h *harness) run(md pmetric.Metrics) pmetric.Metrics {
	h.t.Helper()
	before := len(h.sink.AllMetrics())
	if err := h.cons.ConsumeMetrics(context.Background(), md); err != nil {
		h.t.Fatal(err)
	}
	all := h.sink.AllMetrics()
	if len(all) != before+1 {
		h.t.Fatalf("expected one output batch, got %d", len(all)-before)
	}
	return all[len(all)-1]
}

// keptPIDs lists the pids of the process resources in out, per host.
func keptPIDs(out pmetric.Metrics) map[string][]int64 {
	res := map[string][]int64{}
	rms := out.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		a := rms.At(i).Resource().Attributes()
		pid, ok := a.Get(processmetrics.AttrPID)
		if !ok {
			continue
		}
		host, _ := processmetrics.HostName(a)
		res[host] = append(res[host], pid.Int())
	}
	for _, v := range res {
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	}
	return res
}

// otherOf returns the plain other resource of host ("" for none), if any.
func otherOf(out pmetric.Metrics, host, name string) (pmetric.ResourceMetrics, bool) {
	return rollupOf(out, host, name, "")
}

// rollupOf returns the other resource of host for category (catKey), or
// the plain other (no catKey) when category is "".
func rollupOf(out pmetric.Metrics, host, name, category string) (pmetric.ResourceMetrics, bool) {
	rms := out.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		a := rms.At(i).Resource().Attributes()
		if _, hasPID := a.Get(processmetrics.AttrPID); hasPID {
			continue
		}
		got := ""
		if c, ok := a.Get(catKey); ok {
			got = c.AsString()
		}
		if got != category {
			continue
		}
		if processmetrics.ExecutableName(a) != name {
			continue
		}
		if h, _ := processmetrics.HostName(a); h == host {
			return rms.At(i), true
		}
	}
	return pmetric.ResourceMetrics{}, false
}

// point finds the data point of metric name (with attribute key=val when key
// is set) in rm.
func point(rm pmetric.ResourceMetrics, name, key, val string) (pmetric.NumberDataPoint, bool) {
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if m.Name() != name {
				continue
			}
			var dps pmetric.NumberDataPointSlice
			switch m.Type() {
			case pmetric.MetricTypeSum:
				dps = m.Sum().DataPoints()
			case pmetric.MetricTypeGauge:
				dps = m.Gauge().DataPoints()
			default:
				continue
			}
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				if key == "" {
					return dp, true
				}
				if v, ok := dp.Attributes().Get(key); ok && v.AsString() == val {
					return dp, true
				}
			}
		}
	}
	return pmetric.NumberDataPoint{}, false
}

func num(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

// otherValue is the value of an other series, failing when absent.
func otherValue(t *testing.T, out pmetric.Metrics, host, name, key, val string) float64 {
	t.Helper()
	rm, ok := otherOf(out, host, "_other")
	if !ok {
		t.Fatalf("no other resource for host %q", host)
	}
	dp, ok := point(rm, name, key, val)
	if !ok {
		t.Fatalf("other of %q has no %s{%s=%s}", host, name, key, val)
	}
	return num(dp)
}

func pids(v ...int64) []int64 { return v }
