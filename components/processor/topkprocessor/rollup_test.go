package topkprocessor

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

func rollUpConfig(mutate func(*Config)) *Config {
	return testConfig(func(c *Config) {
		c.TopK = 0
		c.OthersGroupBy = catKey
		c.CriticalProcesses = []string{"^crit"}
		if mutate != nil {
			mutate(c)
		}
	})
}

// resourceIdentities returns the resource attribute sets of out, failing on
// one that occurs twice (two resources with one identity are duplicate
// series for a backend).
func resourceIdentities(t *testing.T, out pmetric.Metrics) map[string]pmetric.ResourceMetrics {
	t.Helper()
	seen := map[string]pmetric.ResourceMetrics{}
	rms := out.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		b, _ := json.Marshal(rms.At(i).Resource().Attributes().AsRaw())
		if _, dup := seen[string(b)]; dup {
			t.Fatalf("two output resources with the identity %s", b)
		}
		seen[string(b)] = rms.At(i)
	}
	return seen
}

// In roll-up mode only critical processes are kept whole; every other one
// is rolled up into the other resource of its (host, category), and the
// processes without a category into the plain other.
func TestRollUpByCategory(t *testing.T) {
	h := newHarness(t, rollUpConfig(nil))
	w := &world{}
	w.add(pr{host: "h1", pid: 1, name: "crit-db", mem: 1000, category: "db"}, 3) // critical: kept whole, even with a category
	w.add(pr{host: "h1", pid: 2, name: "chrome", mem: 10, category: "browsers"}, 2)
	w.add(pr{host: "h1", pid: 3, name: "firefox", mem: 20, category: "browsers"}, 1)
	w.add(pr{host: "h1", pid: 4, name: "bash", mem: 30, category: "system"}, 0.5)
	w.add(pr{host: "h1", pid: 5, name: "mystery", mem: 40}, 0.25)                   // no category: plain other
	w.add(pr{host: "h2", pid: 2, name: "chrome", mem: 50, category: "browsers"}, 1) // same category, other host
	wantMem := map[[2]string]float64{{"h1", "browsers"}: 30, {"h1", "system"}: 30, {"h1", ""}: 40, {"h2", "browsers"}: 50}
	wantCount := map[[2]string]int64{{"h1", "browsers"}: 2, {"h1", "system"}: 1, {"h1", ""}: 1, {"h2", "browsers"}: 1}

	prev := map[[2]string]float64{}
	for step := 0; step < 3; step++ {
		out := h.run(w.step())
		ids := resourceIdentities(t, out)
		if got := keptPIDs(out); len(got) != 1 || len(got["h1"]) != 1 || got["h1"][0] != 1 {
			t.Fatalf("step %d: kept %v, want only the critical process h1/1", step, got)
		}
		if len(ids) != 1+len(wantMem) {
			t.Fatalf("step %d: %d resources, want the critical one and %d roll-ups", step, len(ids), len(wantMem))
		}
		for hc, mem := range wantMem {
			rm, ok := rollupOf(out, hc[0], "_other", hc[1])
			if !ok {
				t.Fatalf("step %d: no roll-up for %v", step, hc)
			}
			// Its identity: exactly host.name, process.executable.name and the category.
			want := map[string]any{processmetrics.AttrHostName: hc[0], processmetrics.AttrExecutableName: "_other"}
			if hc[1] != "" {
				want[catKey] = hc[1]
			}
			if got := rm.Resource().Attributes().AsRaw(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("step %d %v: attributes %v, want %v", step, hc, got, want)
			}
			if dp, _ := point(rm, "process.memory.usage", "", ""); float64(dp.IntValue()) != mem {
				t.Fatalf("step %d %v: memory %d, want the sum %v", step, hc, dp.IntValue(), mem)
			}
			if dp, _ := point(rm, "process.count", "", ""); dp.IntValue() != wantCount[hc] {
				t.Fatalf("step %d %v: process.count %d, want %d", step, hc, dp.IntValue(), wantCount[hc])
			}
			// CPU: the sum of the category's increments (the whole counters
			// on the first interval: all processes are new to topk).
			var rate float64
			for _, p := range w.procs {
				if p.host == hc[0] && p.category == hc[1] && !strings.HasPrefix(p.name, "crit") {
					rate += p.rate
				}
			}
			dp, _ := point(rm, "process.cpu.time", "state", "user")
			if inc := dp.DoubleValue() - prev[hc]; math.Abs(inc-rate*interval*0.8) > 1e-9 {
				t.Fatalf("step %d %v: user cpu grew by %v, want %v", step, hc, inc, rate*interval*0.8)
			}
			prev[hc] = dp.DoubleValue()
		}
	}
	// Telemetry counts the rolled-up processes as aggregated.
	if v := counterSum(t, h, telProcessesAggr); v != 3*5 {
		t.Fatalf("%s = %d, want 15 (5 processes x 3 intervals)", telProcessesAggr, v)
	}
}

// A process that changes category (same pid and start: its executable was
// re-classified) must not make any series go down: its next increment goes
// to the new category, the old one stops growing by it, and the new one
// does not receive its lifetime total.
func TestRollUpProcessChangesCategory(t *testing.T) {
	h := newHarness(t, rollUpConfig(nil))
	w := &world{}
	a := w.add(pr{host: "h", pid: 1, name: "a", mem: 10, category: "x"}, 1)
	w.add(pr{host: "h", pid: 2, name: "b", mem: 20, category: "y"}, 0.5)
	cpu := func(out pmetric.Metrics, cat string) float64 {
		rm, ok := rollupOf(out, "h", "_other", cat)
		if !ok {
			t.Fatalf("no roll-up %q", cat)
		}
		dp, _ := point(rm, "process.cpu.time", "state", "user")
		return dp.DoubleValue()
	}
	mem := func(out pmetric.Metrics, cat string) int64 {
		rm, _ := rollupOf(out, "h", "_other", cat)
		dp, _ := point(rm, "process.memory.usage", "", "")
		return dp.IntValue()
	}
	out := h.run(w.step())
	x0, y0 := cpu(out, "x"), cpu(out, "y")

	a.category = "y" // a moves from x to y
	out = h.run(w.step())
	x1, y1 := cpu(out, "x"), cpu(out, "y")
	if x1 != x0 {
		t.Fatalf("x after a left: %v -> %v, want unchanged", x0, x1)
	}
	if want := y0 + (1+0.5)*interval*0.8; math.Abs(y1-want) > 1e-9 {
		t.Fatalf("y after a joined: %v, want %v (only a's increment, not its lifetime)", y1, want)
	}
	if mem(out, "x") != 0 || mem(out, "y") != 30 {
		t.Fatalf("memory x=%d y=%d, want 0 and 30", mem(out, "x"), mem(out, "y"))
	}
	if rm, _ := rollupOf(out, "h", "_other", "x"); func() int64 { dp, _ := point(rm, "process.count", "", ""); return dp.IntValue() }() != 0 {
		t.Fatal("x must count no process once a left")
	}

	a.category = "" // and into the plain other
	out = h.run(w.step())
	if x2, y2, o := cpu(out, "x"), cpu(out, "y"), cpu(out, ""); x2 != x1 || y2 < y1 || math.Abs(o-1*interval*0.8) > 1e-9 {
		t.Fatalf("x %v->%v, y %v->%v, plain other %v (want a's one increment %v)", x1, x2, y1, y2, o, 1*interval*0.8)
	}
	a.category = "x" // and back
	out = h.run(w.step())
	if x3 := cpu(out, "x"); math.Abs(x3-(x1+1*interval*0.8)) > 1e-9 {
		t.Fatalf("x after a came back: %v, want %v", x3, x1+1*interval*0.8)
	}
	resourceIdentities(t, out)
}

// Every roll-up keeps one StartTimestamp for the life of its group; a
// category that appears later gets its own, not earlier than its first
// process's start... and never moves.
func TestRollUpStartTimestampStable(t *testing.T) {
	h := newHarness(t, rollUpConfig(nil))
	w := &world{}
	w.add(pr{host: "h", pid: 1, name: "a", category: "x"}, 1)
	start := func(out pmetric.Metrics, cat string) uint64 {
		rm, ok := rollupOf(out, "h", "_other", cat)
		if !ok {
			t.Fatalf("no roll-up %q", cat)
		}
		dp, _ := point(rm, "process.cpu.time", "state", "user")
		return uint64(dp.StartTimestamp())
	}
	out := h.run(w.step())
	sx := start(out, "x")
	if sx == 0 {
		t.Fatal("roll-up without a StartTimestamp")
	}
	w.now += 100
	w.add(pr{host: "h", pid: 2, name: "b", category: "y"}, 1)
	for i := 0; i < 3; i++ {
		out = h.run(w.step())
		if start(out, "x") != sx {
			t.Fatal("x's StartTimestamp moved")
		}
	}
	if sy := start(out, "y"); sy == 0 || sy > uint64(at(w.now)) {
		t.Fatalf("y's StartTimestamp %d", sy)
	}
}

// Values of others_group_by that are not strings keep their type; empty
// values go into the plain other; past maxRollups values, the plain other
// takes the rest, so the number of roll-ups stays bounded.
func TestRollUpValues(t *testing.T) {
	h := newHarness(t, rollUpConfig(nil))
	md := scrape(10, pr{pid: 1, name: "a", mem: 1}, pr{pid: 2, name: "b", mem: 2, category: ""}, pr{pid: 3, name: "c", mem: 4})
	md.ResourceMetrics().At(0).Resource().Attributes().PutInt(catKey, 7)
	md.ResourceMetrics().At(1).Resource().Attributes().PutStr(catKey, "")
	out := h.run(md)
	ids := resourceIdentities(t, out)
	if len(ids) != 2 {
		t.Fatalf("%d resources, want the int-valued roll-up and the plain other: %v", len(ids), ids)
	}
	rm, ok := rollupOf(out, "", "_other", "7")
	if !ok {
		t.Fatal("no roll-up for the int value 7")
	}
	if v, _ := rm.Resource().Attributes().Get(catKey); v.Int() != 7 {
		t.Fatalf("roll-up attribute %v, want the int 7", v.AsRaw())
	}
	if dp, _ := point(mustOther(t, out), "process.memory.usage", "", ""); dp.IntValue() != 6 {
		t.Fatalf("plain other memory %d, want 6 (the empty value and the missing one)", dp.IntValue())
	}

	h = newHarness(t, rollUpConfig(nil))
	var ps []pr
	for i := 0; i < maxRollups+10; i++ {
		ps = append(ps, pr{pid: int64(i + 1), name: "p", mem: 1, category: fmt.Sprint("c", i)})
	}
	out = h.run(scrape(10, ps...))
	if n := len(resourceIdentities(t, out)); n != maxRollups+1 {
		t.Fatalf("%d roll-ups, want %d and the plain other", n, maxRollups)
	}
	if dp, _ := point(mustOther(t, out), "process.memory.usage", "", ""); dp.IntValue() != 10 {
		t.Fatalf("plain other memory %d, want the 10 processes past the cap", dp.IntValue())
	}
}

// With top_k >= 1, others_group_by splits the other resource of the
// processes outside the top K by category, and the top K stay whole.
func TestGroupByWithTopK(t *testing.T) {
	h := newHarness(t, rollUpConfig(func(c *Config) { c.TopK = 1 }))
	w := &world{}
	w.add(pr{pid: 1, name: "a", mem: 1, category: "x"}, 3)
	w.add(pr{pid: 2, name: "b", mem: 2, category: "x"}, 2)
	w.add(pr{pid: 3, name: "c", mem: 4, category: "y"}, 1)
	out := h.run(w.step())
	if got := keptPIDs(out)[""]; len(got) != 1 || got[0] != 1 {
		t.Fatalf("kept %v, want the top 1", got)
	}
	for cat, mem := range map[string]int64{"x": 2, "y": 4} {
		rm, ok := rollupOf(out, "", "_other", cat)
		if !ok {
			t.Fatalf("no roll-up %q", cat)
		}
		if dp, _ := point(rm, "process.memory.usage", "", ""); dp.IntValue() != mem {
			t.Fatalf("%s memory %d, want %d", cat, dp.IntValue(), mem)
		}
	}
	if _, ok := otherOf(out, "", "_other"); ok {
		t.Fatal("a plain other without any process lacking a category")
	}
}
