package topkprocessor

import (
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// With margin 0 the selection holds exactly top_k processes: a kept process
// that drops out of it and clearly below the K-th's score (under (1-band)
// x) is evicted, and the newcomer takes its place; the set does not grow
// past top_k.
func TestMarginZeroEvictsBelowTheKth(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Band: 0.25, Intervals: 1}
	}))
	w := &world{}
	a := w.add(pr{pid: 1, name: "a"}, 1)
	b := w.add(pr{pid: 2, name: "b"}, 0.1)
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1)) {
		t.Fatalf("start: kept %v, want [1]", got)
	}
	a.rate, b.rate = 0.1, 1
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(2)) {
		t.Fatalf("after b overtook a tenfold: kept %v, want [2]", got)
	}
	if ad, ev := changes(t, h, "admitted"), changes(t, h, "evicted"); ad != 2 || ev != 1 {
		t.Fatalf("%s: admitted %d, evicted %d, want 2, 1", telKeptSetChanges, ad, ev)
	}
}

// changes sums keep_set.changes for one change (admitted or evicted).
func changes(t *testing.T, h *harness, change string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(telKeptSetChanges)
	if err != nil {
		t.Fatalf("%s: %v", telKeptSetChanges, err)
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, ok := dp.Attributes.Value(labelChange); ok && v.AsString() == change {
			n += dp.Value
		}
	}
	return n
}

// A kept process overtaken to rank 2 (within top_k+margin) stays kept even
// when clearly below the new first: the margin, not the score band, rules
// inside the selection; the newcomer, clearly better, enters as well.
func TestRankWithinMarginStaysKept(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 1, Band: 0.25, Intervals: 1}
	}))
	w := &world{}
	a := w.add(pr{pid: 1, name: "a"}, 1)
	b := w.add(pr{pid: 2, name: "b"}, 0.1)
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1)) {
		t.Fatalf("start: kept %v, want [1]", got)
	}
	a.rate, b.rate = 0.5, 1
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2)) {
		t.Fatalf("a at rank 2 of top_k 1 + margin 1: kept %v, want [1 2]", got)
	}
}

// A kept set of exactly top_k+margin is not over the bound: a kept process
// pushed just outside the selection but not clearly below the K-th stays.
func TestKeptSetAtTheBoundIsNotOver(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 1, Band: 0.25, Intervals: 1}
	}))
	w := &world{}
	a := w.add(pr{pid: 1, name: "a"}, 1)
	b := w.add(pr{pid: 2, name: "b"}, 0.1)
	h.run(w.step())
	a.rate, b.rate = 0.5, 1
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2)) {
		t.Fatalf("kept %v, want [1 2] (top_k 1 + margin 1)", got)
	}
	// c comes first; a, third, is outside the selection of 2 but within
	// (1-band) of the first: the set of 2 = top_k+margin keeps it.
	a.rate = 0.9
	b.rate = 0.95
	w.add(pr{pid: 3, name: "c"}, 1)
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2)) {
		t.Fatalf("kept %v, want [1 2]: a (0.9) is not clearly below c (1.0), and c not clearly above a", got)
	}
}

// A tie at the cut: a kept process that another one draws level with (band
// 0, margin 0) stays kept, whichever of the two the selection ranks first;
// an equal score is not below the K-th. Both orders are run, as the tie is
// broken by identity.
func TestTieAtTheCutKeepsTheKept(t *testing.T) {
	for _, keptPID := range []int64{1, 2} {
		h := newHarness(t, testConfig(func(c *Config) {
			c.TopK = 1
			c.Hysteresis = Hysteresis{Margin: 0, Band: 0, Intervals: 1}
		}))
		w := &world{}
		a := w.add(pr{pid: 1, name: "a"}, 0.5)
		b := w.add(pr{pid: 2, name: "b"}, 0.5)
		kept, rising := a, b
		if keptPID == 2 {
			kept, rising = b, a
		}
		kept.rate = 1
		if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(keptPID)) {
			t.Fatalf("start: kept %v, want [%d]", got, keptPID)
		}
		rising.rate = 1
		for i := 0; i < 2; i++ {
			if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(keptPID)) {
				t.Fatalf("interval %d after the tie: kept %v, want [%d] (a tie is not clearly better or worse)", i, got, keptPID)
			}
		}
	}
}
