package cardinalityprocessor

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
)

// appendFigures adds the figures of snap to md as phoenix.* gauges in one new
// resource, each data point stamped with the window's start and end and
// labelled like the telemetry.
func appendFigures(md pmetric.Metrics, snap *snapshot, labels []attribute.KeyValue, version string) {
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	sm.Scope().SetVersion(version)

	gauges := make([]pmetric.NumberDataPointSlice, len(figures))
	for i, f := range figures {
		m := sm.Metrics().AppendEmpty()
		m.SetName(f.name)
		m.SetUnit(f.unit)
		m.SetDescription(f.description)
		gauges[i] = m.SetEmptyGauge().DataPoints()
	}
	start := pcommon.NewTimestampFromTime(snap.start)
	end := pcommon.NewTimestampFromTime(snap.end)
	forEachFigure(snap, func(fig int, value uint64, extra ...attribute.KeyValue) {
		dp := gauges[fig].AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(end)
		dp.SetIntValue(int64(value))
		attrs := dp.Attributes()
		attrs.EnsureCapacity(len(labels) + len(extra))
		for _, kv := range labels {
			putAttr(attrs, kv)
		}
		for _, kv := range extra {
			putAttr(attrs, kv)
		}
	})
	// A figure with no points this window (e.g. no critical process) would
	// be an empty metric; drop it.
	sm.Metrics().RemoveIf(func(m pmetric.Metric) bool { return m.Gauge().DataPoints().Len() == 0 })
}

func putAttr(m pcommon.Map, kv attribute.KeyValue) {
	k := string(kv.Key)
	switch kv.Value.Type() {
	case attribute.BOOL:
		m.PutBool(k, kv.Value.AsBool())
	case attribute.INT64:
		m.PutInt(k, kv.Value.AsInt64())
	default:
		m.PutStr(k, kv.Value.Emit())
	}
}
