package loadgenreceiver

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/internal/testutil"
)

// metricShape is everything about a metric that a backend or a processor can
// depend on, except its values.
type metricShape struct {
	Type, Unit, Temporality, ValueType, Description string
	Monotonic                                       bool
	DataPointAttrs                                  string // sorted "key=value" of every data point, joined
}

// shapeOf returns the resource attribute keys (sorted) and the metric shapes
// of one process resource.
func shapeOf(rm pmetric.ResourceMetrics) (string, map[string]metricShape) {
	var keys []string
	rm.Resource().Attributes().Range(func(k string, _ pcommon.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Strings(keys)
	shapes := map[string]metricShape{}
	ms := rm.ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		s := metricShape{Type: m.Type().String(), Unit: m.Unit(), Description: m.Description()}
		var dps pmetric.NumberDataPointSlice
		switch m.Type() {
		case pmetric.MetricTypeSum:
			s.Temporality = m.Sum().AggregationTemporality().String()
			s.Monotonic = m.Sum().IsMonotonic()
			dps = m.Sum().DataPoints()
		case pmetric.MetricTypeGauge:
			dps = m.Gauge().DataPoints()
		}
		var attrs []string
		for j := 0; j < dps.Len(); j++ {
			s.ValueType = dps.At(j).ValueType().String()
			var kv []string
			dps.At(j).Attributes().Range(func(k string, v pcommon.Value) bool {
				kv = append(kv, k+"="+v.AsString())
				return true
			})
			sort.Strings(kv)
			attrs = append(attrs, strings.Join(kv, ","))
			if dps.At(j).StartTimestamp() == 0 {
				s.ValueType += " (no start time)"
			}
		}
		sort.Strings(attrs)
		s.DataPointAttrs = strings.Join(attrs, ";")
		shapes[m.Name()] = s
	}
	return strings.Join(keys, ","), shapes
}

// TestShapeMatchesRealProcessScraper scrapes this machine's real processes
// with the real hostmetrics process scraper (v0.160.0, default metrics) and
// checks that loadgen's resources have the same attributes and metrics, with
// the same types, units, temporality, value types and data-point attributes.
func TestShapeMatchesRealProcessScraper(t *testing.T) {
	real := testutil.ScrapeProcesses(t)
	// The richest real resource: some processes lack an owner, an exe path or
	// readable I/O counters.
	var wantKeys string
	var wantShapes map[string]metricShape
	for i := 0; i < real.ResourceMetrics().Len(); i++ {
		k, s := shapeOf(real.ResourceMetrics().At(i))
		if len(s) > len(wantShapes) || (len(s) == len(wantShapes) && len(k) > len(wantKeys)) {
			wantKeys, wantShapes = k, s
		}
	}
	if wantShapes == nil {
		t.Fatal("the real process scraper returned no processes")
	}

	md := pmetric.NewMetrics()
	p := mustProfile(t, "realistic", 100)
	appendProcesses(md, p.Processes(), "", pcommon.NewTimestampFromTime(time.Now()))
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		gotKeys, gotShapes := shapeOf(md.ResourceMetrics().At(i))
		if gotKeys != wantKeys {
			t.Fatalf("resource attributes:\n got %s\nwant %s", gotKeys, wantKeys)
		}
		if fmt.Sprint(gotShapes) != fmt.Sprint(wantShapes) {
			t.Fatalf("metric shapes differ:\n got %+v\nwant %+v", gotShapes, wantShapes)
		}
	}
}
