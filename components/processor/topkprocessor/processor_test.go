package topkprocessor

import (
	"math"
	"reflect"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// world plays processes with given CPU rates (cores) and memory, producing
// cumulative scrapes every interval seconds.
type world struct {
	now   float64
	procs []*wp
}

type wp struct {
	pr
	rate  float64 // cores
	alive bool
}

func (w *world) add(p pr, rate float64) *wp {
	x := &wp{pr: p, rate: rate, alive: true}
	x.start = w.now
	w.procs = append(w.procs, x)
	return x
}

// step advances time and returns the scrape.
func (w *world) step() pmetric.Metrics {
	w.now += interval
	var ps []pr
	for _, p := range w.procs {
		if !p.alive {
			continue
		}
		p.cpu[0] += p.rate * interval * 0.8
		p.cpu[1] += p.rate * interval * 0.2
		p.disk[0] += int64(p.rate * 1000)
		p.disk[1] += int64(p.rate * 500)
		ps = append(ps, p.pr)
	}
	return scrape(w.now, ps...)
}

func TestRankingCPUKeepsTopK(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 2 }))
	w := &world{}
	for i, r := range []float64{0.1, 0.9, 0.3, 0.7, 0.05} {
		w.add(pr{pid: int64(100 + i), name: "p", mem: int64(1000 * (i + 1))}, r)
	}
	out := h.run(w.step())
	if got := keptPIDs(out)[""]; !reflect.DeepEqual(got, pids(101, 103)) {
		t.Fatalf("kept %v, want the two busiest [101 103]", got)
	}
	rm, ok := otherOf(out, "", "_other")
	if !ok {
		t.Fatal("no other resource")
	}
	if dp, _ := point(rm, "process.count", "", ""); dp.IntValue() != 3 {
		t.Fatalf("process.count = %d, want 3", dp.IntValue())
	}
	// Memory of the three others: 1000 + 3000 + 5000.
	if v := otherValue(t, out, "", "process.memory.usage", "", ""); v != 9000 {
		t.Fatalf("other memory = %v, want 9000", v)
	}
}

func TestRankingMemoryAndWeighted(t *testing.T) {
	mk := func() *world {
		w := &world{}
		w.add(pr{pid: 1, name: "cpuhog", mem: 10}, 2.0)
		w.add(pr{pid: 2, name: "memhog", mem: 1 << 30}, 0.01)
		w.add(pr{pid: 3, name: "both", mem: 1 << 29}, 1.5)
		w.add(pr{pid: 4, name: "idle", mem: 1 << 20}, 0.0)
		return w
	}
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.Ranking = RankingMemory }))
	if got := keptPIDs(h.run(mk().step()))[""]; !reflect.DeepEqual(got, pids(2)) {
		t.Fatalf("memory ranking kept %v, want [2]", got)
	}
	h = newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Ranking = RankingWeighted
		c.Weights = Weights{CPU: 0.5, Memory: 0.5}
	}))
	// cpuhog 0.5+0, memhog 0.0025+0.5, both 0.375+0.25=0.625.
	if got := keptPIDs(h.run(mk().step()))[""]; !reflect.DeepEqual(got, pids(3)) {
		t.Fatalf("weighted ranking kept %v, want [3]", got)
	}
}

func TestCriticalAlwaysKeptOutsideK(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 2
		c.CriticalProcesses = []string{"^postgres$", "kafka\\.Kafka"}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "a"}, 1)
	w.add(pr{pid: 2, name: "b"}, 0.9)
	w.add(pr{pid: 3, name: "c"}, 0.8)
	w.add(pr{pid: 4, name: "postgres"}, 0)                                         // idle, by name
	w.add(pr{pid: 5, name: "java", cmdline: "java -cp /opt/kafka kafka.Kafka"}, 0) // by command line
	w.add(pr{pid: 6, name: "postgres-exporter"}, 0)                                // anchored: not critical
	for i := 0; i < 3; i++ {
		out := h.run(w.step())
		if got := keptPIDs(out)[""]; !reflect.DeepEqual(got, pids(1, 2, 4, 5)) {
			t.Fatalf("interval %d: kept %v, want top 2 [1 2] plus critical [4 5]", i, got)
		}
	}
}

func TestHysteresis(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 2
		c.Hysteresis = Hysteresis{Margin: 1, Intervals: 3}
	}))
	w := &world{}
	a := w.add(pr{pid: 1, name: "a"}, 1.0)
	w.add(pr{pid: 2, name: "b"}, 0.9)
	c := w.add(pr{pid: 3, name: "c"}, 0.5)
	d := w.add(pr{pid: 4, name: "d"}, 0.4)
	w.add(pr{pid: 5, name: "e"}, 0.3)

	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2)) {
		t.Fatalf("start: kept %v", got)
	}
	// c overtakes both: b ranks 3rd, inside top_k+margin: stays kept (3 kept).
	c.rate = 2
	for i := 0; i < 5; i++ {
		if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2, 3)) {
			t.Fatalf("within margin, interval %d: kept %v, want [1 2 3]", i, got)
		}
	}
	// d overtakes too: b ranks 4th, below top_k+margin. It stays kept for
	// intervals-1 = 2 intervals and leaves on the 3rd.
	d.rate = 3
	want := [][]int64{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 3, 4}}
	for i, wnt := range want {
		if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, wnt) {
			t.Fatalf("below margin, interval %d: kept %v, want %v", i, got, wnt)
		}
	}
	// a (rank 3) is inside the margin and stays; b does not come back.
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 3, 4)) {
		t.Fatalf("after eviction: kept %v", got)
	}
	// b climbing back into the top K is admitted at once.
	a.rate = 0.01
	w.procs[1].rate = 2.5
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2, 3, 4)) {
		t.Fatalf("re-admission: kept %v", got)
	}
}

func TestSmoothingIgnoresOneSpike(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 2
		c.Smoothing = "ewma"
		c.Window = 9 // alpha 0.2
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "a"}, 1.0)
	w.add(pr{pid: 2, name: "b"}, 0.8)
	spiky := w.add(pr{pid: 3, name: "spiky"}, 0.1)
	for i := 0; i < 5; i++ {
		h.run(w.step())
	}
	spiky.rate = 3 // one interval at 3 cores: EWMA 0.1 -> 0.68, still below b
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2)) {
		t.Fatalf("one spike reshuffled the set: kept %v", got)
	}
	spiky.rate = 0.1
	if got := keptPIDs(h.run(w.step()))[""]; !reflect.DeepEqual(got, pids(1, 2)) {
		t.Fatalf("after the spike: kept %v", got)
	}
}

// TestCumulativeOtherIsMonotonicAndPreservesRates moves processes in and out
// of the keep set and checks that other grows by exactly the CPU the
// processes outside the set used in each interval.
func TestCumulativeOtherIsMonotonicAndPreservesRates(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	a := w.add(pr{pid: 1, name: "a"}, 1.0)
	b := w.add(pr{pid: 2, name: "b"}, 0.5)
	c := w.add(pr{pid: 3, name: "c"}, 0.25)

	out := h.run(w.step())
	// First interval: other starts with b and c's whole CPU time.
	prev := otherValue(t, out, "", "process.cpu.time", "state", "user")
	if want := (0.5 + 0.25) * interval * 0.8; math.Abs(prev-want) > 1e-9 {
		t.Fatalf("first other user cpu = %v, want %v", prev, want)
	}
	start, _ := point(mustOther(t, out), "process.cpu.time", "state", "user")
	startTS := start.StartTimestamp()

	// Swap ranks every interval: a and b trade places.
	rates := [][3]float64{{0.1, 2, 0.25}, {3, 0.1, 0.25}, {0.1, 0.2, 4}, {0.1, 0.2, 4}}
	for i, r := range rates {
		a.rate, b.rate, c.rate = r[0], r[1], r[2]
		out = h.run(w.step())
		kept := keptPIDs(out)[""]
		var wantInc float64
		for _, p := range []*wp{a, b, c} {
			if !contains(kept, p.pid) {
				wantInc += p.rate * interval * 0.8
			}
		}
		cur := otherValue(t, out, "", "process.cpu.time", "state", "user")
		if cur < prev {
			t.Fatalf("interval %d: other went down %v -> %v", i, prev, cur)
		}
		if math.Abs((cur-prev)-wantInc) > 1e-9 {
			t.Fatalf("interval %d (kept %v): other grew by %v, want %v", i, kept, cur-prev, wantInc)
		}
		dp, _ := point(mustOther(t, out), "process.cpu.time", "state", "user")
		if dp.StartTimestamp() != startTS {
			t.Fatalf("other StartTimestamp moved: %v -> %v", startTS, dp.StartTimestamp())
		}
		prev = cur
	}
}

func TestProcessDeathAndPIDReuse(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "top"}, 2)
	victim := w.add(pr{pid: 50, name: "worker"}, 0.5)
	w.add(pr{pid: 51, name: "other"}, 0.1)
	h.run(w.step())
	out := h.run(w.step())
	prev := otherValue(t, out, "", "process.cpu.time", "state", "user")
	prevDisk := otherValue(t, out, "", "process.disk.io", "direction", "read")

	// The worker dies: other must not go down, and grows by what 51 used.
	victim.alive = false
	out = h.run(w.step())
	cur := otherValue(t, out, "", "process.cpu.time", "state", "user")
	if want := prev + 0.1*interval*0.8; math.Abs(cur-want) > 1e-9 {
		t.Fatalf("after death other = %v, want %v", cur, want)
	}
	if d := otherValue(t, out, "", "process.disk.io", "direction", "read"); d < prevDisk {
		t.Fatalf("disk other went down %v -> %v", prevDisk, d)
	}
	prev = cur

	// A new process reuses pid 50 (new start time). It is a new identity:
	// its whole (small) CPU time joins other once; no negative jump from the
	// dead worker's much larger counter.
	reuse := w.add(pr{pid: 50, name: "worker"}, 0.3)
	out = h.run(w.step())
	cur = otherValue(t, out, "", "process.cpu.time", "state", "user")
	if want := prev + (0.1+0.3)*interval*0.8; math.Abs(cur-want) > 1e-9 {
		t.Fatalf("after pid reuse other = %v, want %v", cur, want)
	}
	if h.p.groups[""].tracker.Len() != 4 {
		t.Fatalf("tracked %d identities, want 4 (the dead worker is kept until pruned)", h.p.groups[""].tracker.Len())
	}
	_ = reuse
	// The dead worker is pruned after prune_after intervals.
	for i := 0; i < h.p.cfg.PruneAfter; i++ {
		h.run(w.step())
	}
	if n := h.p.groups[""].tracker.Len(); n != 3 || h.p.tracked != 3 {
		t.Fatalf("after pruning: group tracks %d, processor %d; want 3", n, h.p.tracked)
	}
}

func TestKeptProcessDiesOtherUnchanged(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	w := &world{}
	top := w.add(pr{pid: 1, name: "top"}, 2)
	w.add(pr{pid: 2, name: "idle"}, 0)
	out := h.run(w.step())
	prev := otherValue(t, out, "", "process.cpu.time", "state", "user")
	top.alive = false
	out = h.run(w.step())
	// The idle process is now the top one and kept; other carries its total.
	if cur := otherValue(t, out, "", "process.cpu.time", "state", "user"); cur != prev {
		t.Fatalf("other changed from %v to %v though no non-kept process used CPU", prev, cur)
	}
	if got := keptPIDs(out)[""]; !reflect.DeepEqual(got, pids(2)) {
		t.Fatalf("kept %v", got)
	}
	if dp, _ := point(mustOther(t, out), "process.count", "", ""); dp.IntValue() != 0 {
		t.Fatalf("process.count = %d, want 0", dp.IntValue())
	}
	if v := otherValue(t, out, "", "process.memory.usage", "", ""); v != 0 {
		t.Fatalf("other memory = %v with no process aggregated", v)
	}
}

func TestMultiHostRankedSeparately(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	w := &world{}
	for _, host := range []string{"h1", "h2"} {
		w.add(pr{host: host, pid: 1, name: "a", mem: 100}, 1)
		w.add(pr{host: host, pid: 2, name: "b", mem: 200}, 0.5)
		w.add(pr{host: host, pid: 3, name: "c", mem: 400}, 0.1)
	}
	w.procs[4].rate = 5 // on h2, pid 2 is the busiest
	out := h.run(w.step())
	kept := keptPIDs(out)
	if !reflect.DeepEqual(kept["h1"], pids(1)) || !reflect.DeepEqual(kept["h2"], pids(2)) {
		t.Fatalf("kept %v", kept)
	}
	if v := otherValue(t, out, "h1", "process.memory.usage", "", ""); v != 600 {
		t.Fatalf("h1 other memory %v", v)
	}
	if v := otherValue(t, out, "h2", "process.memory.usage", "", ""); v != 500 {
		t.Fatalf("h2 other memory %v", v)
	}
	if out.ResourceMetrics().Len() != 4 {
		t.Fatalf("want 2 kept + 2 other resources, got %d", out.ResourceMetrics().Len())
	}
}

func TestPassThrough(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	md := scrape(10, pr{pid: 1, name: "a", start: 0, cpu: [3]float64{5}}, pr{pid: 2, name: "b", start: 0, cpu: [3]float64{1}})
	// A host resource with system metrics and a service resource: untouched.
	host := md.ResourceMetrics().AppendEmpty()
	host.Resource().Attributes().PutStr("host.name", "h1")
	g := host.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName("system.cpu.load_average.1m")
	g.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(1.5)
	svc := md.ResourceMetrics().AppendEmpty()
	svc.Resource().Attributes().PutStr("service.name", "api")
	hist := svc.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	hist.SetName("http.server.duration")
	hist.SetEmptyHistogram().DataPoints().AppendEmpty().SetCount(3)
	wantHost, wantSvc := pmetric.NewResourceMetrics(), pmetric.NewResourceMetrics()
	host.CopyTo(wantHost)
	svc.CopyTo(wantSvc)

	out := h.run(md)
	found := 0
	rms := out.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		if reflect.DeepEqual(rm.Resource().Attributes().AsRaw(), wantHost.Resource().Attributes().AsRaw()) {
			found++
			if !equalRM(rm, wantHost) {
				t.Error("host resource changed")
			}
		}
		if reflect.DeepEqual(rm.Resource().Attributes().AsRaw(), wantSvc.Resource().Attributes().AsRaw()) {
			found++
			if !equalRM(rm, wantSvc) {
				t.Error("service resource changed")
			}
		}
	}
	if found != 2 {
		t.Fatalf("non-process resources: found %d of 2", found)
	}
	// A batch with no process at all passes through as is.
	only := pmetric.NewMetrics()
	wantHost.CopyTo(only.ResourceMetrics().AppendEmpty())
	out = h.run(only)
	if out.ResourceMetrics().Len() != 1 || !equalRM(out.ResourceMetrics().At(0), wantHost) {
		t.Fatal("a batch without processes changed")
	}
}

func equalRM(a, b pmetric.ResourceMetrics) bool {
	ma, mb := pmetric.NewMetrics(), pmetric.NewMetrics()
	a.CopyTo(ma.ResourceMetrics().AppendEmpty())
	b.CopyTo(mb.ResourceMetrics().AppendEmpty())
	ja, _ := (&pmetric.JSONMarshaler{}).MarshalMetrics(ma)
	jb, _ := (&pmetric.JSONMarshaler{}).MarshalMetrics(mb)
	return string(ja) == string(jb)
}

func TestKeptResourcesUnchanged(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	md := scrape(10, pr{pid: 1, name: "a", cpu: [3]float64{5, 1, 0}, mem: 7, disk: [2]int64{1, 2}}, pr{pid: 2, name: "b", cpu: [3]float64{1}})
	want := pmetric.NewResourceMetrics()
	md.ResourceMetrics().At(0).CopyTo(want)
	out := h.run(md)
	if !equalRM(out.ResourceMetrics().At(0), want) {
		t.Fatal("a kept process resource was modified")
	}
}

func TestDeltaInputSumsExactly(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	for step := 1; step <= 3; step++ {
		now := float64(step) * interval
		ps := []pr{
			{pid: 1, name: "a", cpu: [3]float64{8, 2, 0}, disk: [2]int64{100, 10}, mem: 10, delta: true},
			{pid: 2, name: "b", cpu: [3]float64{1, 0.5, 0}, disk: [2]int64{7, 3}, mem: 20, delta: true},
			{pid: 3, name: "c", cpu: [3]float64{0.5, 0.25, 0}, disk: [2]int64{5, 1}, mem: 40, delta: true},
		}
		out := h.run(scrape(now, ps...))
		if got := keptPIDs(out)[""]; !reflect.DeepEqual(got, pids(1)) {
			t.Fatalf("kept %v", got)
		}
		if v := otherValue(t, out, "", "process.cpu.time", "state", "user"); v != 1.5 {
			t.Fatalf("step %d: delta other user cpu %v, want 1.5", step, v)
		}
		if v := otherValue(t, out, "", "process.disk.io", "direction", "read"); v != 12 {
			t.Fatalf("step %d: delta other disk read %v, want 12", step, v)
		}
		rm := mustOther(t, out)
		m := metricOf(rm, "process.cpu.time")
		if m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
			t.Fatal("other must keep delta temporality")
		}
		dp, _ := point(rm, "process.cpu.time", "state", "user")
		if dp.StartTimestamp() != at(now-interval) || dp.Timestamp() != at(now) {
			t.Fatalf("delta other interval [%v, %v]", dp.StartTimestamp(), dp.Timestamp())
		}
	}
}

func TestOthersDrop(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.Others = OthersDrop }))
	w := &world{}
	w.add(pr{pid: 1, name: "a"}, 1)
	w.add(pr{pid: 2, name: "b"}, 0.5)
	out := h.run(w.step())
	if out.ResourceMetrics().Len() != 1 || !reflect.DeepEqual(keptPIDs(out)[""], pids(1)) {
		t.Fatalf("others: drop must leave only the kept process, got %d resources", out.ResourceMetrics().Len())
	}
}

func TestOtherResourceShape(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.OtherName = "_rest" }))
	w := &world{}
	w.add(pr{host: "h1", pid: 1, name: "a"}, 1)
	w.add(pr{host: "h1", pid: 2, name: "b", mem: 5}, 0.5)
	out := h.run(w.step())
	rm, ok := otherOf(out, "h1", "_rest")
	if !ok {
		t.Fatal("no other resource named _rest for h1")
	}
	if rm.Resource().Attributes().Len() != 2 {
		t.Fatalf("other attributes: %v", rm.Resource().Attributes().AsRaw())
	}
	cpu := metricOf(rm, "process.cpu.time")
	if cpu.Type() != pmetric.MetricTypeSum || !cpu.Sum().IsMonotonic() || cpu.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative || cpu.Unit() != "s" || cpu.Sum().DataPoints().Len() != 3 {
		t.Fatalf("other cpu metric shape: %v %v %v", cpu.Type(), cpu.Unit(), cpu.Sum().DataPoints().Len())
	}
	mem := metricOf(rm, "process.memory.usage")
	if mem.Sum().IsMonotonic() || mem.Sum().DataPoints().At(0).ValueType() != pmetric.NumberDataPointValueTypeInt {
		t.Fatal("memory must stay a non-monotonic int sum")
	}
	// A second topk downstream passes the other resource through.
	h2 := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.OtherName = "_rest" }))
	out2 := h2.run(out)
	if _, ok := otherOf(out2, "h1", "_rest"); !ok || out2.ResourceMetrics().Len() != 2 {
		t.Fatal("a downstream topk must pass the other resource through")
	}
}

func TestMaxTrackedProcesses(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.MaxTrackedProcesses = 3
		c.CriticalProcesses = []string{"^crit$"}
	}))
	w := &world{}
	for i := 1; i <= 5; i++ {
		w.add(pr{pid: int64(i), name: "p", mem: 10}, float64(i))
	}
	w.add(pr{pid: 9, name: "crit"}, 0)
	for i := 0; i < 3; i++ {
		out := h.run(w.step())
		if h.p.tracked != 3 {
			t.Fatalf("tracked %d, want the cap 3", h.p.tracked)
		}
		// The critical process is past the cap and still kept.
		if !contains(keptPIDs(out)[""], 9) {
			t.Fatal("a critical process past the cap was not kept")
		}
		// Untracked processes still count in the other's memory.
		if v := otherValue(t, out, "", "process.memory.usage", "", ""); v != 40 {
			t.Fatalf("other memory %v, want 40", v)
		}
	}
	if v := counterSum(t, h, telUntracked); v != 9 {
		t.Fatalf("%s = %d, want 9 (3 processes x 3 intervals)", telUntracked, v)
	}
}

func TestHistogramOnAggregatedProcessIsCounted(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	md := scrape(10, pr{pid: 1, name: "a", cpu: [3]float64{5}}, pr{pid: 2, name: "b", cpu: [3]float64{1}})
	m := md.ResourceMetrics().At(1).ScopeMetrics().At(0).Metrics().AppendEmpty()
	m.SetName("process.custom.histogram")
	m.SetEmptyHistogram().DataPoints().AppendEmpty().SetCount(1)
	h.run(md)
	if v := counterSum(t, h, telDroppedDataPoints); v != 1 {
		t.Fatalf("%s = %d, want 1", telDroppedDataPoints, v)
	}
}

func TestTelemetryPerGroup(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.CriticalProcesses = []string{"^crit$"} }))
	w := &world{}
	for _, host := range []string{"h1", "h2"} {
		w.add(pr{host: host, pid: 1, name: "a"}, 1)
		w.add(pr{host: host, pid: 2, name: "b"}, 0.5)
		w.add(pr{host: host, pid: 3, name: "crit"}, 0)
	}
	w.add(pr{host: "h1", pid: 4, name: "c"}, 0.1)
	h.run(w.step())
	h.run(w.step())
	for _, c := range []struct {
		name string
		host string
		want int64
	}{
		{telProcessesIn, "h1", 8}, {telProcessesIn, "h2", 6},
		{telProcessesKept, "h1", 4}, {telProcessesAggr, "h1", 4}, {telProcessesAggr, "h2", 2},
		{telCriticalKept, "h2", 2}, {telProcessesDropped, "h1", 0},
	} {
		if got := counterFor(t, h, c.name, c.host); got != c.want {
			t.Errorf("%s{host.name=%s} = %d, want %d", c.name, c.host, got, c.want)
		}
	}
	if got := gaugeValue(t, h, telTracked); got != 7 {
		t.Errorf("%s = %d, want 7", telTracked, got)
	}
	if got := gaugeValue(t, h, telGroups); got != 2 {
		t.Errorf("%s = %d, want 2", telGroups, got)
	}
}

func TestGroupsArePruned(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.PruneAfter = 2 }))
	h.run(scrape(10, pr{host: "gone", pid: 1, name: "a"}))
	for i := 0; i < 6; i++ {
		h.run(scrape(20+float64(i)*10, pr{host: "stays", pid: 1, name: "a"}))
	}
	if _, ok := h.p.groups["gone"]; ok || h.p.tracked != 1 {
		t.Fatalf("group of a host that stopped sending was not pruned (tracked %d)", h.p.tracked)
	}
}

func mustOther(t *testing.T, out pmetric.Metrics) pmetric.ResourceMetrics {
	t.Helper()
	rm, ok := otherOf(out, "", "_other")
	if !ok {
		t.Fatal("no other resource")
	}
	return rm
}

func metricOf(rm pmetric.ResourceMetrics, name string) pmetric.Metric {
	ms := rm.ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i)
		}
	}
	return pmetric.NewMetric()
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The same process twice in one batch (two scrapes batched together): the
// increments add up once, and both resources get the same decision.
func TestSameProcessTwiceInABatch(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1 }))
	h.run(scrape(10, pr{pid: 1, name: "top", cpu: [3]float64{100}}, pr{pid: 2, name: "small", cpu: [3]float64{1}}))
	md := scrape(20, pr{pid: 1, name: "top", cpu: [3]float64{200}}, pr{pid: 2, name: "small", cpu: [3]float64{2}})
	more := scrape(30, pr{pid: 1, name: "top", cpu: [3]float64{300}}, pr{pid: 2, name: "small", cpu: [3]float64{4}})
	more.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	out := h.run(md)
	if got := keptPIDs(out)[""]; !reflect.DeepEqual(got, pids(1, 1)) {
		t.Fatalf("kept %v, want both scrapes of pid 1", got)
	}
	// other: 1 (first batch) + 1 + 2.
	if v := otherValue(t, out, "", "process.cpu.time", "state", "user"); v != 4 {
		t.Fatalf("other user cpu %v, want 4", v)
	}
	if dp, _ := point(mustOther(t, out), "process.count", "", ""); dp.IntValue() != 2 {
		t.Fatalf("process.count %d, want 2 (resources aggregated)", dp.IntValue())
	}
}

// A host that scrapes less often than the others, and once late, keeps its
// state: pruning it would reset its ranking and hysteresis.
func TestSlowGroupIsNotPruned(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.PruneAfter = 2 }))
	ts := 10.0
	slowThenFast := func(fast int) {
		h.run(scrape(ts, pr{host: "slow", pid: 1, name: "a"}))
		for i := 0; i < fast; i++ {
			ts++
			h.run(scrape(ts, pr{host: "fast", pid: 1, name: "a"}))
		}
	}
	for range 3 {
		slowThenFast(3) // the slow host appears every 4 batches
	}
	first := h.p.groups["slow"]
	// A late scrape: 6 batches of the fast host, more than prune_after x
	// groups (4), within prune_after x the slow host's gap (8).
	slowThenFast(6)
	if g, ok := h.p.groups["slow"]; !ok || g != first {
		t.Fatal("the slow host's group was pruned after one late scrape")
	}
	// Gone for good: pruned after prune_after x its gap.
	for i := 0; i < 3; i++ {
		ts++
		h.run(scrape(ts, pr{host: "fast", pid: 1, name: "a"}))
	}
	if _, ok := h.p.groups["slow"]; ok {
		t.Fatal("the slow host's group outlived prune_after x its gap")
	}
}
