package stats

import (
	"math"
	"testing"
)

// The smallest samples each test accepts, with statistics worked out by
// hand (the closed forms of R's t.test and wilcox.test). They pin the
// "too few samples" guards, which mutation testing found untested: a guard
// moved by one turns these valid tests into P = 1.

func TestSummarizeOneSampleHasNoSpread(t *testing.T) {
	s := Summarize([]float64{5})
	if s.N != 1 || s.Mean != 5 || s.SD != 0 {
		t.Fatalf("Summarize([5]) = %+v, want n 1, mean 5, sd 0", s)
	}
}

func TestWelchTwoSamplesEach(t *testing.T) {
	// a = 1, 3 (mean 2, var 2); b = 4, 8 (mean 6, var 8):
	// t = 4 / sqrt(2/2 + 8/2) = 4/sqrt(5); df = 5^2 / (1^2/1 + 4^2/1) = 25/17.
	w := Welch([]float64{1, 3}, []float64{4, 8})
	if !w.Valid || w.P <= 0 || w.P >= 1 {
		t.Fatalf("Welch on two samples each is not computed: %+v", w)
	}
	near(t, "t", w.Stat, 4/math.Sqrt(5), 1e-9)
	near(t, "df", w.DF, 25.0/17, 1e-9)
	near(t, "diff", w.Diff, 4, 1e-9)
	if one := Welch([]float64{1}, []float64{4, 8}); one.Valid {
		t.Fatalf("Welch with one baseline sample is valid: %+v", one)
	}
	if one := Welch([]float64{1, 3}, []float64{4}); one.Valid {
		t.Fatalf("Welch with one candidate sample is valid: %+v", one)
	}
}

func TestPairedTwoPairs(t *testing.T) {
	// d = 2, 3: mean 2.5, sd 1/sqrt(2), se 0.5, t = 5, df = 1.
	p := Paired([]float64{1, 2}, []float64{3, 5})
	if !p.Valid {
		t.Fatalf("paired t on two pairs is not computed: %+v", p)
	}
	near(t, "t", p.Stat, 5, 1e-9)
	near(t, "df", p.DF, 1, 1e-9)
	if one := Paired([]float64{1}, []float64{3}); one.Valid {
		t.Fatalf("paired t on one pair is valid: %+v", one)
	}
}

func TestWilcoxonTwoDifferences(t *testing.T) {
	// d = 1, 2: V = 1 + 2 = 3, mean 2*3/4 = 1.5, sd sqrt(2*3*5/24) = sqrt(1.25);
	// z = (3 - 1.5 - 0.5)/sqrt(1.25), p = 2*Phi(-z).
	w := WilcoxonSignedRank([]float64{0, 0}, []float64{1, 2})
	if !w.Valid {
		t.Fatalf("signed rank on two differences is not computed: %+v", w)
	}
	near(t, "V", w.Stat, 3, 1e-9)
	near(t, "p", w.P, normalTwoSided(1/math.Sqrt(1.25)), 1e-9)
}

func TestMannWhitneyTwoSamplesEach(t *testing.T) {
	m := MannWhitney([]float64{1, 2}, []float64{3, 4})
	if !m.Valid || m.P <= 0 || m.P >= 1 {
		t.Fatalf("Mann-Whitney on two samples each is not computed: %+v", m)
	}
	if one := MannWhitney([]float64{1}, []float64{3, 4}); one.Valid {
		t.Fatalf("Mann-Whitney with one baseline sample is valid: %+v", one)
	}
}
