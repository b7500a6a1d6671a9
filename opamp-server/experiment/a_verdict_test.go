package experiment

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// TestVerdictAtItsBoundaries: each criterion of the verdict at exactly its
// threshold, set to the figure the samples give: min_samples met with
// exactly min_samples intervals (also with CPU figures), p equal to alpha
// is not significant (the series and the CPU criterion alike), a
// reduction equal to min_reduction_pct promotes. (Named to sort first:
// see a_manager_test.go.)
func TestVerdictAtItsBoundaries(t *testing.T) {
	// 12 intervals; the candidate's CPU +90% against a bound of 50%, not
	// significantly (one-sided p about 0.17); a 75% series reduction.
	ss := cpuSamples(func(int) float64 { return 0.21 },
		func(int) float64 { return 0.02 },
		func(k int) float64 { return []float64{0.02, 0.20}[k%2] })
	first := Analyze(cpuExp(50), ss)[0]
	if first.Verdict != api.VerdictPromote || first.Intervals != 12 || !first.CPUMeasured {
		t.Fatalf("the samples: %s (%s), %d intervals", first.Verdict, first.Criterion, first.Intervals)
	}
	p, pCPU, red := first.KPIs[0].PAdjusted, first.PCPUAboveBound, first.ReductionPct
	for _, c := range []struct {
		name      string
		edit      func(c *api.Criteria)
		verdict   string
		criterion string
	}{
		{"min_samples = intervals", func(c *api.Criteria) { c.MinSamples = 12 }, api.VerdictPromote, "min_reduction"},
		{"min_samples = intervals + 1", func(c *api.Criteria) { c.MinSamples = 13 }, api.VerdictInconclusive, "min_samples: 12 of 13 paired intervals"},
		{"alpha = p of the CPU criterion", func(c *api.Criteria) { c.Alpha = pCPU }, api.VerdictPromote, "min_reduction"},
		{"alpha just above it", func(c *api.Criteria) { c.Alpha = pCPU * 1.0001 }, api.VerdictReject, "max_cpu_increase"},
		{"alpha = p of the series", func(c *api.Criteria) { c.Alpha = p }, api.VerdictInconclusive, "significance"},
		{"alpha just above it", func(c *api.Criteria) { c.Alpha = p * 1.0001 }, api.VerdictPromote, "min_reduction"},
		{"min_reduction = reduction", func(c *api.Criteria) { c.MinReductionPct = red }, api.VerdictPromote, "min_reduction"},
		{"min_reduction just above it", func(c *api.Criteria) { c.MinReductionPct = red + 1e-9 }, api.VerdictReject, "min_reduction"},
	} {
		e := cpuExp(50)
		c.edit(&e.Criteria)
		r := Analyze(e, ss)[0]
		if r.Verdict != c.verdict || !strings.HasPrefix(r.Criterion, c.criterion) {
			t.Errorf("%s: %s (%s), want %s (%s...)", c.name, r.Verdict, r.Criterion, c.verdict, c.criterion)
		}
	}
	// CPU figures in one interval fewer than min_samples asks: the CPU
	// criterion cannot decide; in exactly min_samples it does.
	var fewer = ss[:0:0]
	for _, s := range ss {
		if !(s.Interval == 11 && s.KPI == KPICollectorCPU) {
			fewer = append(fewer, s)
		}
	}
	e := cpuExp(50)
	e.Criteria.MinSamples = 11
	if r := Analyze(e, fewer)[0]; r.Verdict != api.VerdictPromote {
		t.Errorf("CPU figures in 11 of 12 intervals, min_samples 11: %s (%s)", r.Verdict, r.Criterion)
	}
	e.Criteria.MinSamples = 12
	if r := Analyze(e, fewer)[0]; r.Verdict != api.VerdictInconclusive || !strings.HasPrefix(r.Criterion, "min_samples: 11 of 12 paired intervals with CPU figures") {
		t.Errorf("CPU figures in 11 of 12 intervals, min_samples 12: %s (%s)", r.Verdict, r.Criterion)
	}
}

// A host with no critical processes at all (0 in, 0 kept) loses none:
// retention 100%, not 0/0.
func TestNoCriticalProcessesIsFullRetention(t *testing.T) {
	ss := cpuSamples(func(int) float64 { return 0.21 }, func(int) float64 { return 0.02 }, func(int) float64 { return 0.03 })
	for k := range 12 {
		for _, v := range []string{"baseline", "candidate"} {
			ss = append(ss, store.ExperimentSample{Interval: k, Host: "h", Variant: v, KPI: KPICriticalIn, Value: 0},
				store.ExperimentSample{Interval: k, Host: "h", Variant: v, KPI: KPICriticalOut, Value: 0})
		}
	}
	r := Analyze(cpuExp(50), ss)[0]
	if r.CriticalRetentionPct != 100 || r.Verdict != api.VerdictPromote {
		t.Fatalf("retention %v%%, %s (%s)", r.CriticalRetentionPct, r.Verdict, r.Criterion)
	}
}

// An interval is left out as empty for a zero input figure, not for a
// missing one: samples without input series still pair.
func TestMissingInputIsNotEmpty(t *testing.T) {
	var ss []store.ExperimentSample
	for _, s := range cpuSamples(func(int) float64 { return 0.21 }, func(int) float64 { return 0.02 }, func(int) float64 { return 0.03 }) {
		if s.KPI != KPIInputSeries {
			ss = append(ss, s)
		}
	}
	if r := Analyze(cpuExp(50), ss)[0]; r.Intervals != 12 || r.KPIs[0].N != 12 {
		t.Fatalf("%d intervals, %d pairs, want 12", r.Intervals, r.KPIs[0].N)
	}
}

// The rank test decides from rankMinPairs pairs when the differences are
// skewed (here 9 differences of -750 and one of -100: skewness 2.7), even
// when the values themselves are not (their sums are symmetric).
func TestSkewedDifferencesUseTheRankTest(t *testing.T) {
	noise := []float64{10, -10, 10, -10, 10, -10, 10, -10, 0}
	var a, b []float64
	for _, e := range noise {
		a, b = append(a, 1000+e), append(b, 250+e)
	}
	a, b = append(a, 675), append(b, 575)
	if len(a) != rankMinPairs {
		t.Fatalf("%d pairs, want rankMinPairs", len(a))
	}
	k := kpiTest(KPIOutputSeries, "series", a, b)
	if k.Method != "wilcoxon-signed-rank" || k.PAdjusted != k.PRank {
		t.Fatalf("skewed differences: %s, p %v (rank %v)", k.Method, k.PAdjusted, k.PRank)
	}
	// One pair fewer: the paired t-test.
	if k := kpiTest(KPIOutputSeries, "series", a[1:], b[1:]); k.Method != "paired-t" {
		t.Fatalf("%d pairs: %s", len(a)-1, k.Method)
	}
	// Symmetric differences: the paired t-test.
	sym := slices.Clone(b)
	sym[9] = 675 - 750
	if k := kpiTest(KPIOutputSeries, "series", a, sym); k.Method != "paired-t" {
		t.Fatalf("equal differences: %s", k.Method)
	}
}

// An experiment without an interval is costed per the default interval.
func TestCostWithoutInterval(t *testing.T) {
	ss := cpuSamples(func(int) float64 { return 0.21 }, func(int) float64 { return 0.02 }, func(int) float64 { return 0.03 })
	e := cpuExp(50)
	want := Analyze(e, ss)[0].BaselineCostMonth
	e.Interval = ""
	if got := Analyze(e, ss)[0].BaselineCostMonth; got != want || want <= 0 {
		t.Fatalf("cost %v without an interval, %v with the default", got, want)
	}
}

// The monthly cost, worked by hand: mean series 1015 (baseline) and
// 253.75 (candidate), as many data points per interval; 43,200 one-minute
// intervals in 30 days (21,600 of two minutes) at 0.10 per million data
// points, plus 0.002 per series.
func TestMonthlyCost(t *testing.T) {
	ss := cpuSamples(func(int) float64 { return 0.21 }, func(int) float64 { return 0.02 }, func(int) float64 { return 0.03 })
	cost := func(series, intervals float64) float64 { return series*intervals/1e6*0.10 + series*0.002 }
	for _, c := range []struct {
		interval  string
		intervals float64
	}{{"1m", 43200}, {"2m", 21600}} {
		e := cpuExp(50)
		e.Interval = c.interval
		r := Analyze(e, ss)[0]
		if math.Abs(r.BaselineCostMonth-cost(1015, c.intervals)) > 1e-9 || math.Abs(r.CandidateCostMonth-cost(253.75, c.intervals)) > 1e-9 {
			t.Errorf("interval %s: cost %v -> %v, want %v -> %v", c.interval, r.BaselineCostMonth, r.CandidateCostMonth, cost(1015, c.intervals), cost(253.75, c.intervals))
		}
	}
}

// Zero baselines give no percentages (not 0/0): a baseline that outputs
// no series has no reduction, one whose estimated CPU is 0 no CPU
// increase; without processing CPU figures there is no processing_cpu KPI.
func TestZeroBaselines(t *testing.T) {
	// The baseline alone: total 0.5 - the candidate's 0.5 = exactly 0.
	ss := cpuSamples(func(int) float64 { return 0.5 }, func(int) float64 { return 0.25 }, func(int) float64 { return 0.5 })
	var zero []store.ExperimentSample
	for _, s := range ss {
		if s.KPI == KPIOutputSeries {
			s.Value = 0
		}
		zero = append(zero, s)
	}
	r := Analyze(cpuExp(50), zero)[0]
	if r.ReductionPct != 0 || !r.CPUMeasured || r.CPUIncreasePct != 0 {
		t.Errorf("zero baselines: reduction %v%%, CPU increase %v%% (measured %v)", r.ReductionPct, r.CPUIncreasePct, r.CPUMeasured)
	}
	var noProc []store.ExperimentSample
	for _, s := range ss {
		if s.KPI != KPIProcessingCPU {
			noProc = append(noProc, s)
		}
	}
	for _, k := range Analyze(cpuExp(50), noProc)[0].KPIs {
		if k.KPI == KPIProcessingCPU {
			t.Errorf("a processing_cpu KPI of %d pairs without figures", k.N)
		}
	}
}
