package experiment

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/experiment/stats"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// month is the period of the cost estimate (30 days).
const month = 30 * 24 * time.Hour

// skewLimit is the |skewness| of the paired differences above which the
// rank test decides instead of the paired t-test.
const skewLimit = 1.0

// rankMinPairs is the least number of pairs for the rank test to decide:
// below it the sample skewness means little, and the signed-rank test
// cannot reach significance at all (its smallest two-sided p with 3 pairs
// is 0.18; a first end-to-end run with 3 intervals was judged
// inconclusive that way while the paired t-test gave p = 0.0015).
const rankMinPairs = 10

// table is the samples summed over the hosts: interval -> variant -> KPI ->
// value, with how many hosts contributed.
type table struct {
	intervals []int
	times     map[int]time.Time
	sum       map[int]map[string]map[string]float64
	hosts     map[int]map[string]map[string]int
	minRet    map[string]float64 // variant -> lowest critical retention %
	// before is KPI -> interval (negative) -> the hosts' values, for the
	// collector figures sampled before the experiment deployed.
	before map[string]map[int][]float64
}

func tabulate(ss []store.ExperimentSample, baseline string) *table {
	t := &table{times: map[int]time.Time{}, sum: map[int]map[string]map[string]float64{}, hosts: map[int]map[string]map[string]int{}, minRet: map[string]float64{}, before: map[string]map[int][]float64{}}
	type hk struct {
		k             int
		host, variant string
	}
	crit := map[hk][2]float64{}
	for _, s := range ss {
		if s.Interval < 0 { // before the experiment: the collectors only
			if t.before[s.KPI] == nil {
				t.before[s.KPI] = map[int][]float64{}
			}
			t.before[s.KPI][s.Interval] = append(t.before[s.KPI][s.Interval], s.Value)
			continue
		}
		if t.sum[s.Interval] == nil {
			t.sum[s.Interval], t.hosts[s.Interval] = map[string]map[string]float64{}, map[string]map[string]int{}
			t.intervals = append(t.intervals, s.Interval)
			t.times[s.Interval] = s.Time
		}
		if t.sum[s.Interval][s.Variant] == nil {
			t.sum[s.Interval][s.Variant], t.hosts[s.Interval][s.Variant] = map[string]float64{}, map[string]int{}
		}
		t.sum[s.Interval][s.Variant][s.KPI] += s.Value
		t.hosts[s.Interval][s.Variant][s.KPI]++
		if s.KPI != KPICriticalIn && s.KPI != KPICriticalOut {
			continue
		}
		c := crit[hk{s.Interval, s.Host, s.Variant}]
		if s.KPI == KPICriticalIn {
			c[0] = s.Value
		} else {
			c[1] = s.Value
		}
		crit[hk{s.Interval, s.Host, s.Variant}] = c
	}
	sort.Ints(t.intervals)
	// A candidate's retention is measured against the baseline's input (the
	// reference list) or its own, whichever is larger.
	for k, c := range crit {
		ref := c[0]
		if k.variant != baseline {
			if b, ok := crit[hk{k.k, k.host, baseline}]; ok && b[0] > ref {
				ref = b[0]
			}
		}
		ret := 100.0
		if ref > 0 {
			ret = 100 * c[1] / ref
		}
		if cur, ok := t.minRet[k.variant]; !ok || ret < cur {
			t.minRet[k.variant] = ret
		}
	}
	return t
}

// empty reports whether a variant's input saw nothing in interval k: its
// window held no scrape (a starved collector), which is no data, not zero.
func (t *table) empty(k int, v string) bool {
	return t.hosts[k][v][KPIInputSeries] > 0 && t.sum[k][v][KPIInputSeries] == 0
}

// paired returns the interval-paired values of a KPI for two variants,
// keeping intervals where both have it from the same number of hosts and
// neither's input was empty.
func (t *table) paired(a, b, kpi string) ([]float64, []float64) {
	var xs, ys []float64
	for _, k := range t.intervals {
		na, nb := t.hosts[k][a][kpi], t.hosts[k][b][kpi]
		if na == 0 || na != nb || t.empty(k, a) || t.empty(k, b) {
			continue
		}
		xs, ys = append(xs, t.sum[k][a][kpi]), append(ys, t.sum[k][b][kpi])
	}
	return xs, ys
}

func kpiTest(kpi, unit string, a, b []float64) api.KPITest {
	w, p, r := stats.Welch(a, b), stats.Paired(a, b), stats.WilcoxonSignedRank(a, b)
	out := api.KPITest{KPI: kpi, Unit: unit, BaselineMean: stats.Summarize(a).Mean, CandidateMean: stats.Summarize(b).Mean, N: len(a),
		Diff: p.Diff, CILow: p.CILow, CIHigh: p.CIHigh, PWelch: w.P, PPaired: p.P, PRank: r.P, Method: p.Method}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	chosen := p.P
	if len(d) >= rankMinPairs && math.Abs(stats.Skewness(d)) > skewLimit && r.Valid {
		chosen, out.Method = r.P, r.Method
	}
	out.PAdjusted = chosen
	return out
}

// Analyze judges every candidate against the baseline on the samples.
func Analyze(e api.Experiment, ss []store.ExperimentSample) []api.Result {
	if len(e.Variants) < 2 {
		return nil
	}
	t := tabulate(ss, e.Variants[0].Name)
	iv, _ := time.ParseDuration(e.Interval)
	if iv <= 0 {
		iv = DefaultInterval
	}
	perMonth := float64(month) / float64(iv)
	base := e.Variants[0].Name
	cost := func(series, dps float64) float64 {
		return dps*perMonth/1e6*e.Prices.PerMillionDataPoints + series*e.Prices.PerActiveSeries
	}
	results := make([]api.Result, 0, len(e.Variants)-1)
	var ps, cpuPs []float64
	for _, v := range e.Variants[1:] {
		a, b := t.paired(base, v.Name, KPIOutputSeries)
		da, db := t.paired(base, v.Name, KPIOutputDataPoints)
		res := api.Result{Variant: v.Name, Intervals: len(a)}
		ot := kpiTest(KPIOutputSeries, "series", a, b)
		res.KPIs = append(res.KPIs, ot, kpiTest(KPIOutputDataPoints, "data points per interval", da, db))
		if ot.BaselineMean > 0 {
			res.ReductionPct = 100 * (ot.BaselineMean - ot.CandidateMean) / ot.BaselineMean
		}
		res.CriticalRetentionPct = 100
		if r, ok := t.minRet[v.Name]; ok {
			res.CriticalRetentionPct = r
		}
		// Input identity: same series and processes at the input, per interval.
		ia, ib := t.paired(base, v.Name, KPIInputSeries)
		pa, pb := t.paired(base, v.Name, KPIInputProcesses)
		for i := range ia {
			if ia[i] == ib[i] && (i >= len(pa) || pa[i] == pb[i]) {
				res.InputIdentical++
			}
		}
		res.BaselineCostMonth = cost(ot.BaselineMean, stats.Summarize(da).Mean)
		res.CandidateCostMonth = cost(ot.CandidateMean, stats.Summarize(db).Mean)

		// CPU: each variant's processing time, and the collector CPU each
		// variant alone would cost (cpuPairs), paired by interval.
		pa, pb = t.paired(base, v.Name, KPIProcessingCPU)
		if len(pa) > 0 {
			res.KPIs = append(res.KPIs, kpiTest(KPIProcessingCPU, "cores (CPU s/s of the variant's processors)", pa, pb))
		}
		cb, cc := t.cpuPairs(e.Variants, base, v.Name)
		pCPU := 1.0
		if len(cb) > 0 {
			res.KPIs = append(res.KPIs, kpiTest(KPICollectorCPU, "cores (estimated: collector with this variant alone)", cb, cc))
			res.CPUMeasured = true
			if mb := stats.Summarize(cb).Mean; mb > 0 {
				res.CPUIncreasePct = 100 * (stats.Summarize(cc).Mean - mb) / mb
			}
			// Above the bound: candidate > (1 + bound) x baseline, one-sided.
			bound := make([]float64, len(cb))
			for i, x := range cb {
				bound[i] = x * (1 + e.Criteria.MaxCPUIncreasePct/100)
			}
			pCPU = stats.Greater(stats.Paired(bound, cc))
		}
		results = append(results, res)
		ps = append(ps, ot.PAdjusted)
		cpuPs = append(cpuPs, pCPU)
	}
	adj, cpuAdj := stats.Holm(ps), stats.Holm(cpuPs)
	for i := range results {
		r := &results[i]
		r.KPIs[0].PAdjusted = adj[i]
		r.PCPUAboveBound = cpuAdj[i]
		decide(r, e.Criteria, adj[i], len(ps))
	}
	return results
}

// cpuPairs estimates, per interval, the collector CPU of the hosts with
// the baseline alone and with the candidate alone: the collector's CPU
// minus the processing time of every other variant. Their difference is
// the two variants' processing difference; the rest (receiver, scrape, the
// other variants' exporters) is common to both, which makes the estimate
// of each larger than the variant alone would cost and the increase in
// percent smaller. Intervals where a host misses a figure are left out.
func (t *table) cpuPairs(variants []api.Variant, base, cand string) ([]float64, []float64) {
	var bs, cs []float64
	for _, k := range t.intervals {
		n := t.hosts[k][""][KPICollectorCPU]
		if n == 0 {
			continue
		}
		total, others := t.sum[k][""][KPICollectorCPU], map[string]float64{}
		ok := true
		for _, v := range variants {
			if t.hosts[k][v.Name][KPIProcessingCPU] != n {
				ok = false
				break
			}
			others[v.Name] = t.sum[k][v.Name][KPIProcessingCPU]
		}
		if !ok {
			continue
		}
		var all float64
		for _, p := range others {
			all += p
		}
		bs = append(bs, total-(all-others[base]))
		cs = append(cs, total-(all-others[cand]))
	}
	return bs, cs
}

// Collector compares the hosts' collector CPU and memory before the
// experiment with during it (mean per host and interval, Welch).
func Collector(ss []store.ExperimentSample) []api.BeforeDuring {
	t := tabulate(ss, "")
	var out []api.BeforeDuring
	for _, f := range []struct{ kpi, unit string }{{KPICollectorCPU, "cores"}, {KPICollectorMemory, "bytes"}} {
		var before, during []float64
		for _, vs := range t.before[f.kpi] {
			before = append(before, stats.Summarize(vs).Mean)
		}
		for _, k := range t.intervals {
			if n := t.hosts[k][""][f.kpi]; n > 0 {
				during = append(during, t.sum[k][""][f.kpi]/float64(n))
			}
		}
		if len(before)+len(during) == 0 {
			continue
		}
		w := stats.Welch(before, during)
		out = append(out, api.BeforeDuring{KPI: f.kpi, Unit: f.unit, BeforeMean: stats.Summarize(before).Mean, DuringMean: stats.Summarize(during).Mean,
			BeforeN: len(before), DuringN: len(during), Diff: w.Diff, CILow: w.CILow, CIHigh: w.CIHigh, PWelch: w.P})
	}
	return out
}

func decide(r *api.Result, c api.Criteria, p float64, m int) {
	ot := r.KPIs[0]
	measured := fmt.Sprintf("output series %.1f -> %.1f (%.1f%% reduction, 95%% CI of the difference %.1f..%.1f), %s p=%.3g (Holm over %d), critical retention %.1f%%, input identical in %d of %d intervals",
		ot.BaselineMean, ot.CandidateMean, r.ReductionPct, ot.CILow, ot.CIHigh, ot.Method, p, m, r.CriticalRetentionPct, r.InputIdentical, r.Intervals)
	cpu, cpuN := "collector CPU not measured (no processing CPU figures: max_cpu_increase cannot decide)", 0
	for _, k := range r.KPIs {
		if k.KPI == KPICollectorCPU {
			cpuN = k.N
			cpu = fmt.Sprintf("collector CPU %.4g -> %.4g cores (%+.1f%%, 95%% CI of the difference %.3g..%.3g, bound +%.0f%%, p above the bound %.3g)",
				k.BaselineMean, k.CandidateMean, r.CPUIncreasePct, k.CILow, k.CIHigh, c.MaxCPUIncreasePct, r.PCPUAboveBound)
		}
	}
	r.Detail = measured + ", " + cpu
	switch {
	case r.Intervals < c.MinSamples:
		r.Verdict, r.Criterion = api.VerdictInconclusive, fmt.Sprintf("min_samples: %d of %d paired intervals", r.Intervals, c.MinSamples)
	case r.CriticalRetentionPct < c.CriticalRetentionPct:
		r.Verdict, r.Criterion = api.VerdictReject, fmt.Sprintf("critical_retention: %.1f%% < %.0f%%", r.CriticalRetentionPct, c.CriticalRetentionPct)
	case r.CPUMeasured && cpuN < c.MinSamples:
		r.Verdict, r.Criterion = api.VerdictInconclusive, fmt.Sprintf("min_samples: %d of %d paired intervals with CPU figures", cpuN, c.MinSamples)
	case r.CPUMeasured && r.PCPUAboveBound < c.Alpha:
		r.Verdict, r.Criterion = api.VerdictReject, fmt.Sprintf("max_cpu_increase: %+.1f%% above the bound +%.0f%% (one-sided paired t p=%.3g < alpha %.3g)", r.CPUIncreasePct, c.MaxCPUIncreasePct, r.PCPUAboveBound, c.Alpha)
	case p >= c.Alpha:
		r.Verdict, r.Criterion = api.VerdictInconclusive, fmt.Sprintf("significance: output series difference p=%.3g >= alpha %.3g", p, c.Alpha)
	case r.ReductionPct < c.MinReductionPct:
		r.Verdict, r.Criterion = api.VerdictReject, fmt.Sprintf("min_reduction: %.1f%% < %.1f%% (p=%.3g)", r.ReductionPct, c.MinReductionPct, p)
	default:
		r.Verdict, r.Criterion = api.VerdictPromote, fmt.Sprintf("min_reduction: %.1f%% >= %.1f%% at p=%.3g < alpha %.3g", r.ReductionPct, c.MinReductionPct, p, c.Alpha)
	}
}

// Series is every KPI of every variant over time, summed over the hosts.
func Series(e api.Experiment, ss []store.ExperimentSample) []api.Series {
	t := tabulate(ss, e.Variants[0].Name)
	var out []api.Series
	names := []string{}
	for _, v := range e.Variants {
		names = append(names, v.Name)
	}
	for _, kpi := range []string{KPIOutputSeries, KPIInputSeries, KPIOutputDataPoints, KPIInputProcesses, KPICriticalOut, KPIProcessingCPU} {
		for _, v := range names {
			s := api.Series{KPI: kpi, Variant: v}
			for _, k := range t.intervals {
				if n := t.hosts[k][v][kpi]; n > 0 {
					s.Points = append(s.Points, api.Point{Interval: k, Time: t.times[k], Value: t.sum[k][v][kpi]})
				}
			}
			out = append(out, s)
		}
	}
	for _, kpi := range []string{KPICollectorCPU, KPICollectorMemory} {
		s := api.Series{KPI: kpi, Variant: "collector"}
		for _, k := range t.intervals {
			if n := t.hosts[k][""][kpi]; n > 0 {
				s.Points = append(s.Points, api.Point{Interval: k, Time: t.times[k], Value: t.sum[k][""][kpi]})
			}
		}
		out = append(out, s)
	}
	return out
}
