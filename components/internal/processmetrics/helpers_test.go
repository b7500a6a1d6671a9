package processmetrics

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

var t0 = pcommon.NewTimestampFromTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))

func at(sec float64) pcommon.Timestamp { return t0 + pcommon.Timestamp(sec*1e9) }

type proc struct {
	host      string
	pid       int64
	name      string
	cmdline   string
	start     pcommon.Timestamp
	cpu       [3]float64 // user, system, wait
	mem       int64
	delta     bool
	util      float64
	hasUtil   bool
	noCPUTime bool
}

// appendProc adds a resource shaped like the process scraper's.
func appendProc(md pmetric.Metrics, p proc, now pcommon.Timestamp) pmetric.ResourceMetrics {
	rm := md.ResourceMetrics().AppendEmpty()
	a := rm.Resource().Attributes()
	if p.pid != 0 {
		a.PutInt(AttrPID, p.pid)
	}
	if p.name != "" {
		a.PutStr(AttrExecutableName, p.name)
	}
	if p.cmdline != "" {
		a.PutStr(AttrCommandLine, p.cmdline)
	}
	if p.host != "" {
		a.PutStr(AttrHostName, p.host)
	}
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	if !p.noCPUTime {
		m := ms.AppendEmpty()
		m.SetName(MetricCPUTime)
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		if p.delta {
			s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		} else {
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		}
		for i, st := range []string{"user", "system", "wait"} {
			dp := s.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(p.start)
			dp.SetTimestamp(now)
			dp.SetDoubleValue(p.cpu[i])
			dp.Attributes().PutStr("state", st)
		}
	}
	if p.hasUtil {
		m := ms.AppendEmpty()
		m.SetName(MetricCPUUtilization)
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(now)
		dp.SetDoubleValue(p.util)
	}
	m := ms.AppendEmpty()
	m.SetName(MetricMemoryUsage)
	s := m.SetEmptySum()
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(p.start)
	dp.SetTimestamp(now)
	dp.SetIntValue(p.mem)
	return rm
}

func sampleOf(p proc, now pcommon.Timestamp) Sample {
	md := pmetric.NewMetrics()
	rm := appendProc(md, p, now)
	var s Sample
	ReadSample(rm, &s)
	return s
}
