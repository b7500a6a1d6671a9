package adaptivefilterprocessor

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestPlantSolveZeroPasses: candidates that pass at no positive multiplier
// (no CPU, no memory) give the solver nothing to sit between.
func TestPlantSolveZeroPasses(t *testing.T) {
	pl := plant{fixed: 1, cands: []candidate{{pass: 0, weight: 1}, {pass: 0, weight: 1, idx: 1}}}
	assert.Equal(t, 0.0, pl.solve(10), "all fit, none positive: multiplier 0 keeps them all")
	assert.Equal(t, 3.0, pl.outputAt(0))
	assert.Equal(t, math.SmallestNonzeroFloat64, pl.solve(1), "none fits, none positive: the smallest positive multiplier drops them")
	assert.Equal(t, 1.0, pl.outputAt(math.SmallestNonzeroFloat64))
	assert.Equal(t, 0.0, (&plant{}).solve(5), "no candidates")
}

// TestDataPointsEveryType: budget_unit series counts every point type.
func TestDataPointsEveryType(t *testing.T) {
	rm := pmetric.NewResourceMetrics()
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	g := ms.AppendEmpty().SetEmptyGauge()
	g.DataPoints().AppendEmpty()
	s := ms.AppendEmpty().SetEmptySum()
	s.DataPoints().AppendEmpty()
	s.DataPoints().AppendEmpty()
	h := ms.AppendEmpty().SetEmptyHistogram()
	for range 3 {
		h.DataPoints().AppendEmpty()
	}
	e := ms.AppendEmpty().SetEmptyExponentialHistogram()
	for range 4 {
		e.DataPoints().AppendEmpty()
	}
	su := ms.AppendEmpty().SetEmptySummary()
	for range 5 {
		su.DataPoints().AppendEmpty()
	}
	ms.AppendEmpty() // empty type: no points
	rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	assert.Equal(t, 1+2+3+4+5+1, dataPoints(rm))
}
