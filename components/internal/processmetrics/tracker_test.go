package processmetrics

import (
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func newTracker(t *testing.T, cfg TrackerConfig) *Tracker[int] {
	t.Helper()
	tr, err := NewTracker[int](cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTrackerConfigValidate(t *testing.T) {
	err := TrackerConfig{Smoothing: "median", Window: 0, PruneAfter: -1, MaxTracked: 0}.Validate()
	for _, want := range []string{`smoothing: unknown "median"`, "window: must be at least 1", "prune_after: must be at least 1", "max_tracked_processes: must be at least 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if err := (TrackerConfig{Window: 3, PruneAfter: 1, MaxTracked: 1}).Validate(); err != nil {
		t.Error(err)
	}
}

func observe(tr *Tracker[int], id Identity, p proc, now pcommon.Timestamp) *Entry[int] {
	s := sampleOf(p, now)
	e, _ := tr.Observe(id, &s)
	return e
}

func TestCPURateCumulative(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingNone, Window: 1, PruneAfter: 3, MaxTracked: 10})
	p := proc{pid: 1, name: "a", start: at(0), cpu: [3]float64{4, 1, 0}}

	tr.Begin()
	e := observe(tr, 1, p, at(10))
	// First observation with a known start: the average since the start.
	if !e.HasCPURate || !near(e.CPURate, 0.5) {
		t.Fatalf("first rate = %v (%v), want 0.5", e.CPURate, e.HasCPURate)
	}
	tr.End(nil)

	tr.Begin()
	p.cpu = [3]float64{12, 3, 0} // +10 s over 10 s
	if e = observe(tr, 1, p, at(20)); !near(e.CPURate, 1.0) {
		t.Fatalf("rate = %v, want 1", e.CPURate)
	}
	tr.End(nil)

	// Counter reset (value went down) with the same start: average since start.
	tr.Begin()
	p.cpu = [3]float64{3, 0, 0}
	if e = observe(tr, 1, p, at(30)); !near(e.CPURate, 0.1) {
		t.Fatalf("after reset rate = %v, want 0.1", e.CPURate)
	}
	tr.End(nil)

	// A duplicate (same timestamp) keeps the last rate.
	tr.Begin()
	if e = observe(tr, 1, p, at(30)); !near(e.CPURate, 0.1) {
		t.Fatalf("duplicate changed rate to %v", e.CPURate)
	}
}

func TestCPURateFirstObservationWithoutStart(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingNone, Window: 1, PruneAfter: 3, MaxTracked: 10})
	tr.Begin()
	e := observe(tr, 1, proc{pid: 1, name: "a", cpu: [3]float64{100, 0, 0}}, at(10))
	if e.HasCPURate || e.CPUScore != 0 {
		t.Fatalf("no start, first sample: no rate expected, got %v", e.CPURate)
	}
	tr.Begin()
	e = observe(tr, 1, proc{pid: 1, name: "a", cpu: [3]float64{102, 0, 0}}, at(20))
	if !near(e.CPURate, 0.2) {
		t.Fatalf("rate = %v want 0.2", e.CPURate)
	}
}

func TestCPURateDelta(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingNone, Window: 1, PruneAfter: 3, MaxTracked: 10})
	tr.Begin()
	e := observe(tr, 1, proc{pid: 1, name: "a", start: at(10), cpu: [3]float64{2, 1, 1}, delta: true}, at(20))
	if !near(e.CPURate, 0.4) {
		t.Fatalf("delta rate = %v, want 0.4", e.CPURate)
	}
	// A delta without StartTimestamp: the time since the previous sample.
	tr.Begin()
	e = observe(tr, 1, proc{pid: 1, name: "a", cpu: [3]float64{5, 0, 0}, delta: true}, at(30))
	if !near(e.CPURate, 0.5) {
		t.Fatalf("delta rate without start = %v, want 0.5", e.CPURate)
	}
}

func TestCPUUtilizationFallback(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingNone, Window: 1, PruneAfter: 3, MaxTracked: 10})
	tr.Begin()
	e := observe(tr, 1, proc{pid: 1, name: "a", noCPUTime: true, hasUtil: true, util: 0.25}, at(10))
	if !near(e.CPURate, 0.25) {
		t.Fatalf("utilization rate = %v", e.CPURate)
	}
}

func TestSmoothingEWMA(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingEWMA, Window: 3, PruneAfter: 3, MaxTracked: 10}) // alpha 0.5
	var e *Entry[int]
	for i, mem := range []int64{100, 300, 100} {
		tr.Begin()
		e = observe(tr, 1, proc{pid: 1, name: "a", mem: mem}, at(float64(10*(i+1))))
	}
	// 100 -> 200 -> 150
	if !near(e.MemoryScore, 150) || e.Memory != 100 {
		t.Fatalf("ewma = %v (last %v), want 150", e.MemoryScore, e.Memory)
	}
}

func TestSmoothingMaxOverWindow(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingMax, Window: 3, PruneAfter: 3, MaxTracked: 600})
	// Another process first so id 1 sits in a slot > 0 of the ring.
	tr.Begin()
	observe(tr, 2, proc{pid: 2, name: "b", mem: 1 << 40}, at(5))
	want := []float64{10, 50, 50, 50, 20, 20}
	var e *Entry[int]
	for i, mem := range []int64{10, 50, 20, 5, 20, 1} {
		tr.Begin()
		e = observe(tr, 1, proc{pid: 1, name: "a", mem: mem}, at(float64(10*(i+1))))
		if e.MemoryScore != want[i] {
			t.Fatalf("step %d: max score = %v, want %v", i, e.MemoryScore, want[i])
		}
	}
}

func TestPruneAndReuse(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Window: 2, PruneAfter: 2, MaxTracked: 10})
	tr.Begin()
	a := observe(tr, 1, proc{pid: 1, name: "a", mem: 1}, at(10))
	a.Ext = 7
	observe(tr, 2, proc{pid: 2, name: "b", mem: 1}, at(10))
	if n := tr.End(nil); n != 0 {
		t.Fatalf("pruned %d right away", n)
	}
	// id 1 is gone for one interval: kept.
	tr.Begin()
	observe(tr, 2, proc{pid: 2, name: "b", mem: 1}, at(20))
	if n := tr.End(nil); n != 0 || tr.Get(1) == nil {
		t.Fatalf("pruned after 1 interval absent (n=%d)", n)
	}
	// Gone for two: pruned, with the hook seeing the entry.
	tr.Begin()
	observe(tr, 2, proc{pid: 2, name: "b", mem: 1}, at(30))
	var seen []Identity
	if n := tr.End(func(e *Entry[int]) { seen = append(seen, e.ID) }); n != 1 || len(seen) != 1 || seen[0] != 1 {
		t.Fatalf("prune: n=%d seen=%v", n, seen)
	}
	if tr.Get(1) != nil || tr.Len() != 1 {
		t.Fatal("id 1 still tracked")
	}
	// The slot is reused; Ext survives for reuse and isNew tells to reset it.
	tr.Begin()
	s := sampleOf(proc{pid: 3, name: "c", mem: 1}, at(40))
	e, isNew := tr.Observe(3, &s)
	if !isNew || e != a || e.Ext != 7 || e.ID != 3 || e.Observations != 1 || e.FirstSeen != 4 {
		t.Fatalf("reuse: new=%v same=%v entry=%+v", isNew, e == a, e)
	}
}

func TestMaxTrackedCap(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Window: 2, PruneAfter: 2, MaxTracked: 3})
	tr.Begin()
	for i := 1; i <= 5; i++ {
		e := observe(tr, Identity(i), proc{pid: int64(i), name: "p", mem: 1}, at(10))
		if (e == nil) != (i > 3) {
			t.Fatalf("process %d: entry %v", i, e)
		}
	}
	if tr.Len() != 3 || tr.Refused() != 2 || tr.RefusedTotal() != 2 {
		t.Fatalf("len %d refused %d total %d", tr.Len(), tr.Refused(), tr.RefusedTotal())
	}
	// Known processes are still observed at the cap.
	if observe(tr, 1, proc{pid: 1, name: "p", mem: 2}, at(10)) == nil {
		t.Fatal("a tracked process was refused")
	}
	tr.Begin()
	if tr.Refused() != 0 || tr.RefusedTotal() != 2 {
		t.Fatal("Refused is per interval")
	}
}

func TestEntryPointersStable(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Window: 2, PruneAfter: 2, MaxTracked: 5000})
	tr.Begin()
	first := observe(tr, 1, proc{pid: 1, name: "p", mem: 1}, at(10))
	for i := 2; i <= 3000; i++ {
		observe(tr, Identity(i), proc{pid: int64(i), name: "p", mem: 1}, at(10))
	}
	if tr.Get(1) != first {
		t.Fatal("entry moved when the tracker grew")
	}
	n := 0
	tr.All(func(*Entry[int]) bool { n++; return true })
	if n != 3000 {
		t.Fatalf("All visited %d", n)
	}
}
