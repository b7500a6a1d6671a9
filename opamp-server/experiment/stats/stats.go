// Package stats is the statistics of an experiment's verdict: per KPI the
// means of two variants, their difference with a 95% confidence interval,
// Welch's t-test (unequal variances), the paired t-test that identical input
// allows (both variants read the same scrape, so samples pair by interval),
// the Wilcoxon signed-rank and Mann-Whitney rank tests for skewed KPIs, and
// Holm's correction when several candidates are compared with one baseline.
//
// The distributions come from gonum (stat/distuv); the formulas follow R's
// t.test, wilcox.test (normal approximation with continuity and tie
// correction) and p.adjust(method = "holm"), and the tests check them
// against R's published outputs.
package stats

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is a sample's size, mean and standard deviation (n-1).
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// Summarize describes xs.
func Summarize(xs []float64) Summary {
	s := Summary{N: len(xs)}
	if len(xs) == 0 {
		return s
	}
	s.Mean = stat.Mean(xs, nil)
	if len(xs) > 1 {
		s.SD = stat.StdDev(xs, nil)
	}
	return s
}

// Test is the result of comparing b against a: Diff is mean(b) - mean(a)
// (or the mean paired difference), with its 95% confidence interval.
type Test struct {
	Method string  `json:"method"`
	Diff   float64 `json:"diff"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// Stat is t (t-tests), V (signed rank) or W (Mann-Whitney).
	Stat float64 `json:"statistic"`
	DF   float64 `json:"df,omitempty"`
	P    float64 `json:"p"`
	// Valid is false when the samples cannot support the test (too few, or
	// no variance at all); P is then 1.
	Valid bool `json:"valid"`
}

// twoSidedT is the two-sided p-value of t with df degrees of freedom.
func twoSidedT(t, df float64) float64 {
	d := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	return 2 * d.CDF(-math.Abs(t))
}

func tQuantile(p, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// Welch is Welch's two-sample t-test of b against a (R: t.test(b, a)).
func Welch(a, b []float64) Test {
	out := Test{Method: "welch", P: 1}
	sa, sb := Summarize(a), Summarize(b)
	out.Diff = sb.Mean - sa.Mean
	if sa.N < 2 || sb.N < 2 {
		return out
	}
	va, vb := sa.SD*sa.SD/float64(sa.N), sb.SD*sb.SD/float64(sb.N)
	se := math.Sqrt(va + vb)
	if se == 0 {
		return exactDifference(out)
	}
	out.Stat = out.Diff / se
	out.DF = (va + vb) * (va + vb) / (va*va/float64(sa.N-1) + vb*vb/float64(sb.N-1))
	out.P = twoSidedT(out.Stat, out.DF)
	q := tQuantile(0.975, out.DF)
	out.CILow, out.CIHigh, out.Valid = out.Diff-q*se, out.Diff+q*se, true
	return out
}

// exactDifference handles samples without any variance: the difference is
// known exactly, and significant when it is not zero.
func exactDifference(t Test) Test {
	t.CILow, t.CIHigh, t.Valid = t.Diff, t.Diff, true
	if t.Diff == 0 {
		t.P = 1
	} else {
		t.P, t.Stat = 0, math.Copysign(math.Inf(1), t.Diff)
	}
	return t
}

// Paired is the paired t-test of b against a, pair i being (a[i], b[i])
// (R: t.test(b, a, paired = TRUE)). Extra samples of the longer side are
// ignored.
func Paired(a, b []float64) Test {
	out := Test{Method: "paired-t", P: 1}
	n := min(len(a), len(b))
	d := make([]float64, n)
	for i := range n {
		d[i] = b[i] - a[i]
	}
	s := Summarize(d)
	out.Diff = s.Mean
	if n < 2 {
		return out
	}
	se := s.SD / math.Sqrt(float64(n))
	if se == 0 {
		return exactDifference(out)
	}
	out.DF = float64(n - 1)
	out.Stat = s.Mean / se
	out.P = twoSidedT(out.Stat, out.DF)
	q := tQuantile(0.975, out.DF)
	out.CILow, out.CIHigh, out.Valid = s.Mean-q*se, s.Mean+q*se, true
	return out
}

// ranks gives average ranks (1-based) and the tie term sum(t^3 - t).
func ranks(xs []float64) ([]float64, float64) {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return xs[idx[i]] < xs[idx[j]] })
	r := make([]float64, len(xs))
	var ties float64
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		if t := float64(j - i + 1); t > 1 {
			ties += t*t*t - t
		}
		i = j + 1
	}
	return r, ties
}

func normalTwoSided(z float64) float64 { return 2 * distuv.UnitNormal.CDF(-math.Abs(z)) }

// WilcoxonSignedRank is the signed-rank test of the paired differences
// b[i]-a[i] (R: wilcox.test(b, a, paired = TRUE, exact = FALSE)): zeros
// dropped, normal approximation with tie and continuity correction. Diff
// is the median paired difference; no interval is computed (CILow = CIHigh
// = Diff).
func WilcoxonSignedRank(a, b []float64) Test {
	out := Test{Method: "wilcoxon-signed-rank", P: 1}
	n := min(len(a), len(b))
	var d, abs []float64
	all := make([]float64, 0, n)
	for i := range n {
		x := b[i] - a[i]
		all = append(all, x)
		if x != 0 {
			d, abs = append(d, x), append(abs, math.Abs(x))
		}
	}
	out.Diff = median(all)
	out.CILow, out.CIHigh = out.Diff, out.Diff
	m := float64(len(d))
	if len(d) < 2 {
		return out
	}
	r, ties := ranks(abs)
	var v float64
	for i, x := range d {
		if x > 0 {
			v += r[i]
		}
	}
	out.Stat = v
	mean := m * (m + 1) / 4
	sd := math.Sqrt(m*(m+1)*(2*m+1)/24 - ties/48)
	if sd == 0 {
		return out
	}
	z := v - mean
	z -= math.Copysign(0.5, z) // continuity correction
	if math.Abs(v-mean) < 0.5 {
		z = 0
	}
	out.P, out.Valid = normalTwoSided(z/sd), true
	return out
}

// MannWhitney is the two-sample rank-sum test of b against a (R:
// wilcox.test(b, a, exact = FALSE)): normal approximation with tie and
// continuity correction. Stat is W for b; Diff is the difference of the
// medians.
func MannWhitney(a, b []float64) Test {
	out := Test{Method: "mann-whitney", P: 1}
	out.Diff = median(b) - median(a)
	out.CILow, out.CIHigh = out.Diff, out.Diff
	na, nb := float64(len(a)), float64(len(b))
	if len(a) < 2 || len(b) < 2 {
		return out
	}
	all := append(append([]float64{}, b...), a...)
	r, ties := ranks(all)
	var rb float64
	for i := range b {
		rb += r[i]
	}
	w := rb - nb*(nb+1)/2
	out.Stat = w
	n := na + nb
	mean := na * nb / 2
	sd := math.Sqrt(na * nb / 12 * ((n + 1) - ties/(n*(n-1))))
	if sd == 0 {
		return out
	}
	z := w - mean
	z -= math.Copysign(0.5, z)
	if math.Abs(w-mean) < 0.5 {
		z = 0
	}
	out.P, out.Valid = normalTwoSided(z/sd), true
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Holm adjusts p-values for multiple comparisons (Holm 1979; R:
// p.adjust(p, "holm")): the i-th smallest is multiplied by (m - i), made
// monotone and capped at 1. The order of the result is the order of ps.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return ps[idx[i]] < ps[idx[j]] })
	out := make([]float64, m)
	running := 0.0
	for k, i := range idx {
		adj := math.Min(1, float64(m-k)*ps[i])
		running = math.Max(running, adj)
		out[i] = running
	}
	return out
}

// Skewness is the sample skewness (gonum), used to prefer the rank test.
func Skewness(xs []float64) float64 {
	if len(xs) < 3 {
		return 0
	}
	s := stat.Skew(xs, nil)
	if math.IsNaN(s) {
		return 0
	}
	return s
}

// Greater is the one-sided p-value of a t-test (Welch or paired) for the
// alternative that the difference is above zero (R: alternative =
// "greater"). An invalid test gives 1; an exactly known difference gives 0
// when it is positive.
func Greater(t Test) float64 {
	switch {
	case !t.Valid:
		return 1
	case math.IsInf(t.Stat, 1):
		return 0
	case math.IsInf(t.Stat, -1) || (t.Stat == 0 && t.DF == 0):
		return 1
	}
	return 1 - distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.DF}.CDF(t.Stat)
}
