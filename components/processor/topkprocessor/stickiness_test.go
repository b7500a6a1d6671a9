package topkprocessor

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// TestProbation: a busy process younger than probation is rolled up, not
// kept, until it is old enough; a process started long before topk saw it
// is eligible at once, and a critical one is kept whatever its age.
func TestProbation(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 2
		c.Probation = time.Minute
		c.CriticalProcesses = []string{"^crit$"}
	}))
	w := &world{now: 3600}
	for _, p := range []*wp{
		w.add(pr{pid: 1, name: "svc1"}, 0.2),
		w.add(pr{pid: 2, name: "svc2"}, 0.1),
	} {
		p.start = 0 // services started an hour ago
	}
	w.add(pr{pid: 3, name: "job"}, 2) // starts now, the busiest
	w.add(pr{pid: 4, name: "crit"}, 0)
	// Ages 10..50 s: on probation, in other.
	for i := 0; i < 5; i++ {
		out := h.run(w.step())
		if got := keptPIDs(out)[""]; !reflect.DeepEqual(got, pids(1, 2, 4)) {
			t.Fatalf("age %ds: kept %v, want the services and the critical process [1 2 4]", (i+1)*10, got)
		}
		if dp, _ := point(mustOther(t, out), "process.count", "", ""); dp.IntValue() != 1 {
			t.Fatalf("age %ds: process.count = %d, want 1 (the job)", (i+1)*10, dp.IntValue())
		}
	}
	if got := counterFor(t, h, telProbation, ""); got != 5 {
		t.Fatalf("%s = %d, want 5", telProbation, got)
	}
	// Age 60 s: past probation, clearly busier than the weakest kept: in.
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2, 3, 4)) {
		t.Fatalf("age 60s: kept %v, want the job in too [1 2 3 4]", got)
	}
}

// TestProbationWithoutStartTime: with no start time on the points (gauges
// only), a process's age counts from the first scrape topk saw it in.
func TestProbationWithoutStartTime(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Ranking = RankingMemory
		c.Probation = 30 * time.Second
	}))
	scrapeAt := func(now float64) pmetric.Metrics {
		md := pmetric.NewMetrics()
		for pid, mem := range []int64{0, 1 << 20} {
			rm := md.ResourceMetrics().AppendEmpty()
			a := rm.Resource().Attributes()
			a.PutInt(processmetrics.AttrPID, int64(pid+1))
			a.PutStr(processmetrics.AttrExecutableName, "p")
			m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
			m.SetName("process.memory.usage")
			dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
			dp.SetTimestamp(at(now))
			dp.SetIntValue(mem)
		}
		return md
	}
	for i, want := range [][]int64{nil, nil, nil, {2}} { // seen at 10, 20, 30: age 0, 10, 20, then 30
		if got := keptPIDs(h.run(scrapeAt(float64(10 * (i + 1)))))[""]; !reflect.DeepEqual(got, want) {
			t.Fatalf("scrape %d: kept %v, want %v", i, got, want)
		}
	}
}

// TestNearEqualsDoNotTakeTurns: twelve processes of about the same CPU
// (±5% noise each interval) compete for three places. Without the band
// they take turns, and each turn is a new series for a backend; with it,
// the first three keep their places. A clearly busier process still gets
// in at once, and a kept one that goes idle leaves after the hold.
func TestNearEqualsDoNotTakeTurns(t *testing.T) {
	run := func(band float64) (distinct map[int64]bool, h *harness, w *world) {
		h = newHarness(t, testConfig(func(c *Config) {
			c.TopK = 3
			c.Hysteresis = Hysteresis{Margin: 2, Band: band, Intervals: 3}
		}))
		w = &world{}
		for i := 0; i < 12; i++ {
			w.add(pr{pid: int64(i + 1), name: "shim"}, 0.1)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		distinct = map[int64]bool{}
		for step := 0; step < 60; step++ {
			for _, p := range w.procs {
				p.rate = 0.1 * (1 + 0.05*(2*rng.Float64()-1))
			}
			for _, pid := range keptPIDs(h.run(w.step()))[""] {
				distinct[pid] = true
			}
		}
		return distinct, h, w
	}
	if d, _, _ := run(0); len(d) <= 3 {
		t.Fatalf("without the band %d processes were kept over 60 intervals: the test no longer shows turn-taking", len(d))
	}
	d, h, w := run(0.25)
	if len(d) != 3 {
		t.Fatalf("with band 0.25, %d distinct processes were kept over 60 intervals, want 3", len(d))
	}
	var kept []int64
	for pid := range d {
		kept = append(kept, pid)
	}
	busy := w.add(pr{pid: 100, name: "busy"}, 0.5)
	if got := keptPIDs(h.run(w.step()))[""]; len(got) != 4 || !contains(got, busy.pid) {
		t.Fatalf("a process 5x the others was not admitted at once: kept %v", got)
	}
	// One of the three goes idle: clearly below the K-th, and past the
	// margin once two more are busy. It leaves on the third interval.
	w.add(pr{pid: 101, name: "busy"}, 0.5)
	w.add(pr{pid: 102, name: "busy"}, 0.5)
	idle := kept[0]
	for _, p := range w.procs {
		if p.pid == idle {
			p.rate = 0
		}
	}
	for i := 0; i < 3; i++ {
		got := keptPIDs(h.run(w.step()))[""]
		if contains(got, idle) == (i == 2) {
			t.Fatalf("interval %d after going idle: kept %v (idle process %d)", i, got, idle)
		}
	}
}
