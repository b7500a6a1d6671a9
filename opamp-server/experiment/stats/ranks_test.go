package stats

import (
	"math"
	"testing"
)

// What a verdict reads besides the p-values: the rank tests' differences
// (medians), the skewness that chooses the rank test, the one-sided p of a
// CPU bound, and the exact difference of samples without variance.

// The signed-rank Diff is the median paired difference, zeros included;
// the Mann-Whitney Diff is the difference of the medians. Worked by hand.
func TestRankTestDiffsAreMedians(t *testing.T) {
	zeros := []float64{0, 0, 0, 0}
	cases := []struct {
		name string
		got  Test
		want float64
	}{
		{"signed rank, even count, unsorted", WilcoxonSignedRank(zeros, []float64{10, 1, 3, 2}), 2.5},
		{"signed rank, odd count", WilcoxonSignedRank(zeros[:3], []float64{7, -1, 2}), 2},
		{"signed rank, zero differences count", WilcoxonSignedRank([]float64{1, 1, 1}, []float64{1, 1, 4}), 0},
		{"signed rank, one pair", WilcoxonSignedRank([]float64{1}, []float64{4}), 3},
		{"signed rank, no pairs", WilcoxonSignedRank(nil, nil), 0},
		{"mann-whitney", MannWhitney([]float64{2, 8, 4, 6}, []float64{5, 1, 3}), 3 - 5},
		{"mann-whitney, one side empty", MannWhitney(nil, []float64{5, 1, 3}), 3},
	}
	for _, c := range cases {
		if c.got.Diff != c.want || c.got.CILow != c.want || c.got.CIHigh != c.want {
			t.Errorf("%s: diff %g [%g, %g], want %g with a zero-width interval", c.name, c.got.Diff, c.got.CILow, c.got.CIHigh, c.want)
		}
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median(3, 1, 2) = %g", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median(4, 1, 3, 2) = %g", m)
	}
	in := []float64{3, 1, 2}
	median(in)
	if in[0] != 3 || in[1] != 1 {
		t.Errorf("median sorted its caller's samples: %v", in)
	}
}

// All values tied: no rank information, the test is not valid (R gives NaN).
func TestMannWhitneyAllTied(t *testing.T) {
	m := MannWhitney([]float64{5, 5, 5}, []float64{5, 5})
	if m.Valid || m.P != 1 {
		t.Fatalf("all tied: %+v, want not valid with P 1", m)
	}
	// W is still the rank sum of b less its minimum: 2 * 3 - 3 = 3.
	if m.Stat != 3 {
		t.Fatalf("W = %g, want 3", m.Stat)
	}
}

// Tied absolute differences share their average rank (R's rank(ties =
// "average")): d = 1, -1, 2 ranks |d| as 1.5, 1.5, 3, so V = 1.5 + 3.
func TestSignedRankTiesAverage(t *testing.T) {
	w := WilcoxonSignedRank([]float64{0, 0, 0}, []float64{1, -1, 2})
	if w.Stat != 4.5 {
		t.Fatalf("V = %g, want 4.5", w.Stat)
	}
	// Var = 3*4*7/24 - (2^3 - 2)/48 = 3.375; z = (4.5 - 3 - 0.5)/sqrt(3.375).
	near(t, "p", w.P, normalTwoSided(1/math.Sqrt(3.375)), 1e-12)
	r, ties := ranks([]float64{2, 7, 2, 2, 9, 7})
	want := []float64{2, 4.5, 2, 2, 6, 4.5}
	for i := range want {
		if r[i] != want[i] {
			t.Fatalf("ranks %v, want %v", r, want)
		}
	}
	if ties != (27-3)+(8-2) {
		t.Fatalf("tie term %g, want 30", ties)
	}
}

// The skewness chooses the rank test for skewed KPIs: it must have the
// sign of the skew, be 0 for a symmetric sample, and 0 (not NaN) when it
// cannot be computed.
func TestSkewness(t *testing.T) {
	if s := Skewness([]float64{1, 1, 10}); !(s > 0) {
		t.Errorf("a long right tail of 3 samples: %g, want > 0", s)
	}
	if s := Skewness([]float64{1, 10, 10, 10}); !(s < 0) {
		t.Errorf("a long left tail: %g, want < 0", s)
	}
	if s := Skewness([]float64{1, 2, 3, 4, 5}); math.Abs(s) > 1e-12 {
		t.Errorf("symmetric: %g, want 0", s)
	}
	for _, xs := range [][]float64{nil, {1}, {1, 100}, {4, 4, 4, 4}} {
		if s := Skewness(xs); s != 0 {
			t.Errorf("Skewness(%v) = %g, want 0", xs, s)
		}
	}
}

// A t of exactly zero with degrees of freedom is an even bet, not "not
// greater": only an exactly known zero difference (no variance) gives 1.
func TestGreaterAtZero(t *testing.T) {
	p := Paired([]float64{1, 2, 3}, []float64{2, 1, 3}) // d = 1, -1, 0: mean 0, t = 0, df 2
	if p.Stat != 0 || p.DF != 2 || !p.Valid {
		t.Fatalf("paired %+v", p)
	}
	near(t, "greater at t = 0", Greater(p), 0.5, 1e-12)
	near(t, "greater, exact zero", Greater(Paired([]float64{1, 2}, []float64{1, 2})), 1, 0)
	near(t, "greater, Welch exact above", Greater(Welch([]float64{1, 1}, []float64{3, 3})), 0, 0)
}

// Without variance the difference is exact in both directions: the
// interval is the difference, the statistic infinite with its sign.
func TestExactDifferenceSigns(t *testing.T) {
	up := Welch([]float64{2, 2, 2}, []float64{5, 5})
	if !up.Valid || up.P != 0 || up.Diff != 3 || up.CILow != 3 || up.CIHigh != 3 || !math.IsInf(up.Stat, 1) {
		t.Fatalf("exact increase: %+v", up)
	}
	down := Paired([]float64{5, 6, 7}, []float64{3, 4, 5})
	if !down.Valid || down.P != 0 || down.Diff != -2 || down.CIHigh != -2 || !math.IsInf(down.Stat, -1) {
		t.Fatalf("exact decrease: %+v", down)
	}
	same := Welch([]float64{4, 4}, []float64{4, 4, 4})
	if !same.Valid || same.P != 1 || same.Diff != 0 || same.Stat != 0 {
		t.Fatalf("exactly equal: %+v", same)
	}
}

// Paired ignores the longer side's extra samples.
func TestPairedUsesCommonLength(t *testing.T) {
	a := Paired([]float64{1, 2, 3, 100}, []float64{3, 5, 6})
	b := Paired([]float64{1, 2, 3}, []float64{3, 5, 6, -100})
	c := Paired([]float64{1, 2, 3}, []float64{3, 5, 6})
	if a != c || b != c {
		t.Fatalf("extra samples counted: %+v %+v %+v", a, b, c)
	}
	w := WilcoxonSignedRank([]float64{0, 0, 0, 50}, []float64{1, 2, 3})
	if w.Stat != 6 || w.Diff != 2 {
		t.Fatalf("signed rank counted an unpaired sample: %+v", w)
	}
}

// Holm with tied p-values: the same adjusted value, whatever the order.
func TestHolmTies(t *testing.T) {
	got := Holm([]float64{0.02, 0.01, 0.01})
	want := []float64{0.03, 0.03, 0.03}
	for i := range want {
		near(t, "holm", got[i], want[i], 1e-12)
	}
	if len(Holm(nil)) != 0 {
		t.Fatal("no p-values")
	}
}

// A statistic exactly at its mean is no evidence at all: p = 1 (the
// continuity correction must not push it off zero).
func TestRankStatisticAtItsMean(t *testing.T) {
	w := WilcoxonSignedRank([]float64{0, 0}, []float64{1, -1}) // ranks 1.5, 1.5: V = 1.5 = 2*3/4
	if !w.Valid || w.Stat != 1.5 || w.P != 1 {
		t.Fatalf("signed rank at its mean: %+v, want V 1.5 and p 1", w)
	}
	m := MannWhitney([]float64{1, 4}, []float64{2, 3}) // W = 2+3-3 = 2 = 2*2/2
	if !m.Valid || m.Stat != 2 || m.P != 1 {
		t.Fatalf("Mann-Whitney at its mean: %+v, want W 2 and p 1", m)
	}
}
