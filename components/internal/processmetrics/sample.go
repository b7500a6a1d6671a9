package processmetrics

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Temporality of the CPU time in a sample.
type Temporality uint8

const (
	TemporalityUnknown Temporality = iota
	TemporalityCumulative
	TemporalityDelta
)

// Sample is one scrape of one process: the figures the ranking needs.
type Sample struct {
	// CPUTime is process.cpu.time summed over its data points (states), in
	// seconds: since StartTime when cumulative, over [CPUStart, Timestamp]
	// when delta.
	CPUTime     float64
	HasCPUTime  bool
	CPUTemporal Temporality
	// CPUStart is the StartTimestamp of the CPU time points (the interval
	// start of a delta, the process start of a cumulative).
	CPUStart pcommon.Timestamp

	// CPUUtilization is process.cpu.utilization summed over states (a
	// fraction of all logical cores, as the scraper reports it).
	CPUUtilization    float64
	HasCPUUtilization bool

	// Memory is process.memory.usage (resident bytes).
	Memory    float64
	HasMemory bool

	// Timestamp is the latest data point timestamp of the resource.
	Timestamp pcommon.Timestamp
	// StartTime is the process start time: the StartTimestamp of its
	// cumulative data points (the scraper sets it to the create time), 0 when
	// unknown.
	StartTime pcommon.Timestamp
}

// ReadSample reads the CPU and memory figures of one process resource into s
// (which it resets). It walks the resource's metrics once and does not
// allocate.
func ReadSample(rm pmetric.ResourceMetrics, s *Sample) {
	*s = Sample{}
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			s.AddMetric(ms.At(j))
		}
	}
}

// AddMetric adds one metric of a process resource to s: [ReadSample] is
// AddMetric on each metric, in order, of a zero Sample. A processor that
// walks the metrics for its own purposes calls it on the way, so that each
// data point is read once while it is in cache.
func (s *Sample) AddMetric(m pmetric.Metric) {
	switch m.Name() {
	case MetricCPUTime:
		readCPUTime(m, s)
	case MetricCPUUtilization:
		if dps, ok := numberPoints(m); ok && dps.Len() > 0 {
			s.HasCPUUtilization = true
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				s.CPUUtilization += numberValue(dp)
				s.observeTimestamps(dp, false)
			}
		}
	case MetricMemoryUsage:
		if dps, ok := numberPoints(m); ok && dps.Len() > 0 {
			s.HasMemory = true
			for k := 0; k < dps.Len(); k++ {
				dp := dps.At(k)
				s.Memory += numberValue(dp)
				s.observeTimestamps(dp, m.Type() == pmetric.MetricTypeSum &&
					m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative)
			}
		}
	default:
		// Other cumulative sums still tell the process start time.
		if s.StartTime == 0 && m.Type() == pmetric.MetricTypeSum &&
			m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative &&
			m.Sum().DataPoints().Len() > 0 {
			s.observeTimestamps(m.Sum().DataPoints().At(0), true)
		}
	}
}

func readCPUTime(m pmetric.Metric, s *Sample) {
	dps, ok := numberPoints(m)
	if !ok || dps.Len() == 0 {
		return
	}
	cumulative := true
	if m.Type() == pmetric.MetricTypeSum {
		switch m.Sum().AggregationTemporality() {
		case pmetric.AggregationTemporalityDelta:
			cumulative = false
			s.CPUTemporal = TemporalityDelta
		default:
			s.CPUTemporal = TemporalityCumulative
		}
	} else {
		// A gauge of CPU seconds is a cumulative reading without a start.
		s.CPUTemporal = TemporalityCumulative
	}
	s.HasCPUTime = true
	for k := 0; k < dps.Len(); k++ {
		dp := dps.At(k)
		s.CPUTime += numberValue(dp)
		if st := dp.StartTimestamp(); st != 0 && (s.CPUStart == 0 || st < s.CPUStart) {
			s.CPUStart = st
		}
		s.observeTimestamps(dp, cumulative && m.Type() == pmetric.MetricTypeSum)
	}
}

func (s *Sample) observeTimestamps(dp pmetric.NumberDataPoint, cumulative bool) {
	if ts := dp.Timestamp(); ts > s.Timestamp {
		s.Timestamp = ts
	}
	if cumulative {
		if st := dp.StartTimestamp(); st != 0 && (s.StartTime == 0 || st < s.StartTime) {
			s.StartTime = st
		}
	}
}

func numberPoints(m pmetric.Metric) (pmetric.NumberDataPointSlice, bool) {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints(), true
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints(), true
	}
	return pmetric.NumberDataPointSlice{}, false
}
