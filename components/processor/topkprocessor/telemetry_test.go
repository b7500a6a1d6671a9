package topkprocessor

import (
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func counterFor(t *testing.T, h *harness, name, host string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
	}
	var total int64
	for _, dp := range sum.DataPoints {
		if v, ok := dp.Attributes.Value(labelGroup); ok && v.AsString() == host {
			total += dp.Value
		}
	}
	return total
}

func counterSum(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	return total
}

func gaugeValue(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	if !ok || len(g.DataPoints) != 1 {
		t.Fatalf("%s: %#v", name, m.Data)
	}
	return g.DataPoints[0].Value
}
