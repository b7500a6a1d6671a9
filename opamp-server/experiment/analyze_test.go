package experiment

import (
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

func exp2() api.Experiment {
	return api.Experiment{Interval: "1m", Variants: []api.Variant{{Name: "baseline"}, {Name: "candidate", Template: "process-topk-v1"}},
		Criteria: api.Criteria{MinReductionPct: 20, Alpha: 0.05, MinSamples: 10, CriticalRetentionPct: 100},
		Prices:   api.Prices{PerMillionDataPoints: 0.1, PerActiveSeries: 0.002}}
}

func TestAnalyzeVerdicts(t *testing.T) {
	all := samples100x24h()
	var few []store.ExperimentSample
	for _, s := range all {
		if s.Interval < 5 {
			few = append(few, s)
		}
	}
	r := Analyze(exp2(), few)[0]
	if r.Verdict != api.VerdictInconclusive || !strings.HasPrefix(r.Criterion, "min_samples: 5 of 10") {
		t.Fatalf("too few samples: %+v", r)
	}
	// One interval of one host loses a critical process.
	var lossy []store.ExperimentSample
	for _, s := range all {
		if s.Interval < 20 {
			if s.Interval == 7 && s.Host == "host-042" && s.Variant == "candidate" && s.KPI == KPICriticalOut {
				s.Value = 4
			}
			lossy = append(lossy, s)
		}
	}
	r = Analyze(exp2(), lossy)[0]
	if r.Verdict != api.VerdictReject || !strings.HasPrefix(r.Criterion, "critical_retention: 80.0%") {
		t.Fatalf("critical loss: %+v", r)
	}
	// A/A: the same figures on both sides are never significant.
	var aa []store.ExperimentSample
	for _, s := range lossy {
		if s.Variant == "candidate" {
			continue
		}
		aa = append(aa, s)
		c := s
		c.Variant = "candidate"
		aa = append(aa, c)
	}
	r = Analyze(exp2(), aa)[0]
	if r.Verdict != api.VerdictInconclusive || r.ReductionPct != 0 || r.InputIdentical != r.Intervals {
		t.Fatalf("A/A: %+v", r)
	}
	// A small but significant reduction is rejected by the minimum reduction.
	var small []store.ExperimentSample
	for _, s := range all {
		if s.Interval < 30 {
			if s.Variant == "candidate" && s.KPI == KPIOutputSeries {
				for _, b := range all {
					if b.Interval == s.Interval && b.Host == s.Host && b.Variant == "baseline" && b.KPI == KPIOutputSeries {
						s.Value = b.Value * 0.9
						break
					}
				}
			}
			small = append(small, s)
		}
	}
	r = Analyze(exp2(), small)[0]
	if r.Verdict != api.VerdictReject || !strings.HasPrefix(r.Criterion, "min_reduction: 10.0% < 20.0%") {
		t.Fatalf("small reduction: %+v", r)
	}
}

// With few pairs the rank test cannot decide (its smallest p with 3 pairs
// is 0.18): the paired t-test does, even when the differences look skewed.
// The figures are the first end-to-end run's (output series, 3 intervals).
func TestFewSkewedPairsUsePairedT(t *testing.T) {
	a := []float64{2100, 2150, 2317}
	b := []float64{120, 122, 130}
	k := kpiTest(KPIOutputSeries, "series", a, b)
	if k.Method != "paired-t" || k.PAdjusted >= 0.05 || k.PRank < 0.18 {
		t.Fatalf("%+v", k)
	}
}

// The guardrail's reference is the baseline's critical processes: a
// candidate with a narrower critical list that rolls them up fails even
// though it counts none of its own.
func TestCriticalLostAgainstTheBaseline(t *testing.T) {
	r := &record{Experiment: exp2()}
	s := func(v, kpi string, x float64) store.ExperimentSample {
		return store.ExperimentSample{Host: "h", Variant: v, KPI: kpi, Value: x}
	}
	ok := []store.ExperimentSample{s("baseline", KPICriticalIn, 6), s("baseline", KPICriticalOut, 6), s("candidate", KPICriticalIn, 6), s("candidate", KPICriticalOut, 6)}
	if got := criticalLost(r, ok); got != "" {
		t.Fatalf("kept all: %q", got)
	}
	narrow := []store.ExperimentSample{s("baseline", KPICriticalIn, 6), s("baseline", KPICriticalOut, 6), s("candidate", KPICriticalIn, 0), s("candidate", KPICriticalOut, 0)}
	if got := criticalLost(r, narrow); !strings.Contains(got, "kept 0 of 6") {
		t.Fatalf("narrower list: %q", got)
	}
	if ret := Analyze(exp2(), narrow)[0].CriticalRetentionPct; ret != 0 {
		t.Fatalf("retention %v", ret)
	}
}
