package processmetrics

import (
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// What the processors rely on, stated as in doc.go: how a pid is read, what
// identifies a process, which timestamps a sample keeps, how the CPU rate
// treats odd input, and the tracker's bookkeeping.

func TestPIDDigitsAndNonDigits(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"9", 9, true}, {"1090", 1090, true}, {"4294967296", 4294967296, true},
		{"/", 0, false}, {":", 0, false}, {"-1", 0, false}, {" 1", 0, false}, {"1.5", 0, false},
		{7.9, 7, true}, {int64(0), 0, true},
	} {
		m := pcommon.NewMap()
		_ = m.FromRaw(map[string]any{AttrPID: c.v})
		if got, ok := PID(m); got != c.want || ok != c.ok {
			t.Errorf("PID(%#v) = %d,%v want %d,%v", c.v, got, ok, c.want, c.ok)
		}
	}
	if _, ok := PID(pcommon.NewMap()); ok {
		t.Error("no pid attribute")
	}
}

func TestHostNameAndStringAttributes(t *testing.T) {
	m := pcommon.NewMap()
	if h, ok := HostName(m); ok || h != "" {
		t.Errorf("absent host.name: %q %v", h, ok)
	}
	m.PutInt(AttrHostName, 42)
	if h, ok := HostName(m); !ok || h != "42" {
		t.Errorf("an integer host.name is its string: %q %v", h, ok)
	}
	m.PutInt(AttrExecutableName, 3)
	m.PutInt(AttrCommandLine, 4)
	m.PutInt(AttrCommand, 5)
	if ExecutableName(m) != "" || CommandLine(m) != "" {
		t.Error("non-string name attributes read as absent")
	}
	// Read agrees: the host as a string, the names absent.
	rm := pmetric.NewResourceMetrics()
	m.CopyTo(rm.Resource().Attributes())
	var r Resource
	if !Read(rm, &r) || r.Host != "42" || !r.HasHost || r.Name != "" || r.CommandLine != "" || r.Command != "" {
		t.Errorf("Read: %+v", r)
	}
}

// A pid that is not an integer still marks a process resource (the rule of
// IsProcessResource), without a pid.
func TestNonIntegerPIDIsStillAProcess(t *testing.T) {
	rm := pmetric.NewResourceMetrics()
	rm.Resource().Attributes().PutStr(AttrPID, "abc")
	var r Resource
	if !IsProcessResource(rm.Resource().Attributes()) || !Read(rm, &r) || r.HasPID || r.PID != 0 {
		t.Fatalf("pid \"abc\": %+v", r)
	}
}

func TestIdentityRules(t *testing.T) {
	id := func(attrs map[string]any, start pcommon.Timestamp) Identity {
		m := pcommon.NewMap()
		if err := m.FromRaw(attrs); err != nil {
			t.Fatal(err)
		}
		return Identify(m, start)
	}
	p := map[string]any{AttrHostName: "h", AttrPID: 10, AttrExecutableName: "java", AttrCommandLine: "java -jar a.jar"}
	q := map[string]any{AttrHostName: "h", AttrPID: 10, AttrExecutableName: "java", AttrCommandLine: "java -jar b.jar"}
	// With a start time the identity is host + pid + start: the command
	// line may change (a process that rewrites its argv) and it stays.
	if id(p, at(1)) != id(q, at(1)) {
		t.Error("with a start time the command line must not change the identity")
	}
	if id(p, at(1)) == id(p, at(2)) || id(p, at(1)) == id(p, 0) {
		t.Error("another start time (or none) is another process")
	}
	if id(p, 0) == id(q, 0) {
		t.Error("without a start time the command line tells processes apart")
	}
	other := map[string]any{AttrHostName: "h", AttrPID: 11, AttrExecutableName: "java", AttrCommandLine: "java -jar a.jar"}
	if id(p, at(1)) == id(other, at(1)) || id(p, 0) == id(other, 0) {
		t.Error("another pid is another process")
	}
	// The command stands in for the command line.
	withCommand := map[string]any{AttrHostName: "h", AttrPID: 10, AttrExecutableName: "java", AttrCommand: "java -jar a.jar"}
	if id(withCommand, 0) != id(p, 0) {
		t.Error("process.command must stand in for process.command_line")
	}
	// Without a pid: one series per name and command line.
	n1 := map[string]any{AttrExecutableName: "nginx", AttrCommandLine: "nginx -g"}
	n2 := map[string]any{AttrExecutableName: "httpd", AttrCommandLine: "nginx -g"}
	if id(n1, at(1)) != id(n1, at(2)) {
		t.Error("without a pid the start time is not part of the identity")
	}
	if id(n1, 0) == id(n2, 0) {
		t.Error("without a pid, another executable name is another series")
	}
	hosted := map[string]any{AttrHostName: "h2", AttrExecutableName: "nginx", AttrCommandLine: "nginx -g"}
	if id(n1, 0) == id(hosted, 0) {
		t.Error("the host is part of the identity without a pid too")
	}
}

func TestNumberValueNonFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutInt(AttrPID, 1)
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName(MetricMemoryUsage)
		dps := m.SetEmptyGauge().DataPoints()
		dps.AppendEmpty().SetDoubleValue(v)
		dps.AppendEmpty().SetDoubleValue(5)
		var s Sample
		ReadSample(rm, &s)
		if s.Memory != 5 || !s.HasMemory {
			t.Errorf("memory with a %v point: %v", v, s.Memory)
		}
	}
}

// sampleFrom reads a resource built by build.
func sampleFrom(build func(ms pmetric.MetricSlice)) Sample {
	rm := pmetric.NewResourceMetrics()
	rm.Resource().Attributes().PutInt(AttrPID, 1)
	build(rm.ScopeMetrics().AppendEmpty().Metrics())
	var s Sample
	s.CPUTime = 99 // ReadSample resets
	ReadSample(rm, &s)
	return s
}

func addSum(ms pmetric.MetricSlice, name string, temp pmetric.AggregationTemporality, pts ...[3]float64) {
	m := ms.AppendEmpty()
	m.SetName(name)
	s := m.SetEmptySum()
	s.SetAggregationTemporality(temp)
	for _, p := range pts { // start, timestamp, value
		dp := s.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(at(p[0]))
		dp.SetTimestamp(at(p[1]))
		dp.SetDoubleValue(p[2])
	}
}

func addGauge(ms pmetric.MetricSlice, name string, pts ...[3]float64) {
	m := ms.AppendEmpty()
	m.SetName(name)
	g := m.SetEmptyGauge()
	for _, p := range pts {
		dp := g.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(at(p[0]))
		dp.SetTimestamp(at(p[1]))
		dp.SetDoubleValue(p[2])
	}
}

func TestSampleTimestamps(t *testing.T) {
	cum := pmetric.AggregationTemporalityCumulative
	// The earliest start over the CPU points, the latest timestamp.
	s := sampleFrom(func(ms pmetric.MetricSlice) {
		addSum(ms, MetricCPUTime, cum, [3]float64{5, 20, 1}, [3]float64{3, 30, 2}, [3]float64{4, 25, 3})
	})
	if s.CPUTime != 6 || s.CPUStart != at(3) || s.StartTime != at(3) || s.Timestamp != at(30) || s.CPUTemporal != TemporalityCumulative {
		t.Errorf("cumulative CPU points: %+v", s)
	}
	// CPU seconds as a gauge: a cumulative reading, but a gauge's start is
	// not a process start.
	s = sampleFrom(func(ms pmetric.MetricSlice) { addGauge(ms, MetricCPUTime, [3]float64{2, 20, 7}) })
	if !s.HasCPUTime || s.CPUTemporal != TemporalityCumulative || s.StartTime != 0 || s.CPUTime != 7 {
		t.Errorf("gauge CPU time: %+v", s)
	}
	// Another cumulative sum tells the process start when the CPU time does
	// not; a delta sum or a gauge does not.
	s = sampleFrom(func(ms pmetric.MetricSlice) {
		addGauge(ms, "process.threads", [3]float64{1, 20, 4})
		addSum(ms, "process.disk.io", pmetric.AggregationTemporalityDelta, [3]float64{2, 20, 4})
		addSum(ms, "process.disk.operations", cum, [3]float64{6, 20, 4})
		addSum(ms, "process.paging.faults", cum, [3]float64{5, 20, 4})
	})
	if s.StartTime != at(6) || s.HasCPUTime {
		t.Errorf("start from another cumulative sum: %v, want the first one's %v", s.StartTime, at(6))
	}
	s = sampleFrom(func(ms pmetric.MetricSlice) {
		addSum(ms, MetricCPUTime, cum, [3]float64{8, 20, 1})
		addSum(ms, "process.disk.io", cum, [3]float64{2, 20, 4})
	})
	if s.StartTime != at(8) {
		t.Errorf("another sum must not override the CPU time's start: %v", s.StartTime)
	}
	// A memory gauge gives a timestamp, not a start; a memory sum gives both.
	s = sampleFrom(func(ms pmetric.MetricSlice) { addGauge(ms, MetricMemoryUsage, [3]float64{2, 40, 100}) })
	if s.StartTime != 0 || s.Timestamp != at(40) || s.Memory != 100 {
		t.Errorf("memory gauge: %+v", s)
	}
	s = sampleFrom(func(ms pmetric.MetricSlice) { addSum(ms, MetricMemoryUsage, cum, [3]float64{2, 40, 100}) })
	if s.StartTime != at(2) {
		t.Errorf("memory sum: %+v", s)
	}
	// The utilisation is summed over its states, with its timestamp.
	s = sampleFrom(func(ms pmetric.MetricSlice) {
		addGauge(ms, MetricCPUUtilization, [3]float64{0, 50, 0.25}, [3]float64{0, 45, 0.5})
	})
	if !s.HasCPUUtilization || s.CPUUtilization != 0.75 || s.Timestamp != at(50) || s.StartTime != 0 {
		t.Errorf("utilisation: %+v", s)
	}
	// No points, or a histogram: nothing measured.
	s = sampleFrom(func(ms pmetric.MetricSlice) {
		addSum(ms, MetricCPUTime, cum)
		addGauge(ms, MetricMemoryUsage)
		addGauge(ms, MetricCPUUtilization)
		h := ms.AppendEmpty()
		h.SetName(MetricCPUTime)
		h.SetEmptyHistogram().DataPoints().AppendEmpty().SetSum(5)
		addSum(ms, "process.disk.io", cum)
	})
	if s.HasCPUTime || s.HasMemory || s.HasCPUUtilization || s.CPUTime != 0 || s.Timestamp != 0 || s.StartTime != 0 {
		t.Errorf("no points: %+v", s)
	}
}

func trackerOf(t *testing.T, smoothing Smoothing, window int) *Tracker[int] {
	return newTracker(t, TrackerConfig{Smoothing: smoothing, Window: window, PruneAfter: 3, MaxTracked: 10})
}

func cpuSample(temp Temporality, start, ts pcommon.Timestamp, cpu float64) *Sample {
	return &Sample{HasCPUTime: true, CPUTemporal: temp, CPUStart: start, StartTime: start, Timestamp: ts, CPUTime: cpu}
}

func TestCPURateEdgeCases(t *testing.T) {
	type step struct {
		s       *Sample
		rate    float64
		hasRate bool
	}
	cum, delta := TemporalityCumulative, TemporalityDelta
	cases := []struct {
		name  string
		steps []step
	}{
		{"a new start time is a new counter, even when the value went up", []step{
			{cpuSample(cum, at(0), at(10), 5), 0.5, true},
			{cpuSample(cum, at(15), at(20), 8), 8.0 / 5, true},
		}},
		{"a start time that appears is not a reset", []step{
			{cpuSample(cum, 0, at(10), 5), 0, false},
			{cpuSample(cum, at(1), at(20), 7), 0.2, true},
		}},
		{"out of order: the last rate stays", []step{
			{cpuSample(cum, at(0), at(10), 5), 0.5, true},
			{cpuSample(cum, at(0), at(5), 1), 0.5, true},
			{cpuSample(cum, at(0), at(20), 15), 1, true},
		}},
		{"no timestamp: no rate", []step{
			{cpuSample(cum, at(0), 0, 5), 0, false},
		}},
		{"a cumulative reading at its own start: no rate", []step{
			{cpuSample(cum, at(10), at(10), 5), 0, false},
		}},
		{"a delta over an empty interval: no rate", []step{
			{cpuSample(delta, at(10), at(10), 5), 0, false},
		}},
		{"a delta without a start on the first sample: no rate", []step{
			{cpuSample(delta, 0, at(10), 5), 0, false},
		}},
		{"a negative delta is no CPU", []step{
			{cpuSample(delta, at(0), at(10), -5), 0, true},
		}},
		{"an unchanged counter is zero CPU", []step{
			{cpuSample(cum, at(0), at(10), 5), 0.5, true},
			{cpuSample(cum, at(0), at(20), 5), 0, true},
		}},
		{"unknown temporality reads as cumulative", []step{
			{cpuSample(TemporalityUnknown, at(0), at(10), 5), 0.5, true},
			{cpuSample(TemporalityUnknown, at(0), at(20), 7), 0.2, true},
		}},
	}
	for _, c := range cases {
		tr := trackerOf(t, SmoothingNone, 1)
		for i, st := range c.steps {
			tr.Begin()
			e, _ := tr.Observe(1, st.s)
			if e.HasCPURate != st.hasRate || !near(e.CPURate, st.rate) {
				t.Errorf("%s, step %d: rate %v (%v), want %v (%v)", c.name, i, e.CPURate, e.HasCPURate, st.rate, st.hasRate)
			}
		}
	}
}

// The utilisation stands in only when there is no CPU time at all: a CPU
// time that gives no rate yet is not replaced by another unit.
func TestUtilizationOnlyWithoutCPUTime(t *testing.T) {
	tr := trackerOf(t, SmoothingNone, 1)
	tr.Begin()
	s := cpuSample(TemporalityCumulative, 0, at(10), 5)
	s.HasCPUUtilization, s.CPUUtilization = true, 0.9
	if e, _ := tr.Observe(1, s); e.HasCPURate || e.CPUScore != 0 {
		t.Fatalf("utilisation used beside a CPU time: %+v", e)
	}
}

func TestSmoothingScores(t *testing.T) {
	run := func(sm Smoothing, window int, xs ...float64) []float64 {
		tr := trackerOf(t, sm, window)
		var out []float64
		for i, x := range xs {
			tr.Begin()
			e, _ := tr.Observe(1, &Sample{HasMemory: true, Memory: x, HasCPUTime: true, CPUTemporal: TemporalityDelta,
				CPUStart: at(float64(10 * i)), Timestamp: at(float64(10*i + 10)), CPUTime: x * 10})
			if !near(e.CPUScore, e.MemoryScore) {
				t.Fatalf("%s: CPU score %v and memory score %v of the same series differ", sm, e.CPUScore, e.MemoryScore)
			}
			out = append(out, e.MemoryScore)
		}
		return out
	}
	check := func(name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if !near(got[i], want[i]) {
				t.Errorf("%s: scores %v, want %v", name, got, want)
				return
			}
		}
	}
	check("none", run(SmoothingNone, 3, 4, 8, 2), []float64{4, 8, 2})
	check("ewma window 1 is the last value", run(SmoothingEWMA, 1, 4, 8, 2), []float64{4, 8, 2})
	check("ewma window 3 (alpha 1/2)", run(SmoothingEWMA, 3, 4, 8, 2), []float64{4, 6, 4})
	check("max window 1", run(SmoothingMax, 1, 4, 8, 2), []float64{4, 8, 2})
	check("max window 2", run(SmoothingMax, 2, 4, 8, 2, 1, 3), []float64{4, 8, 8, 2, 3})
	check("the default is ewma", run("", 3, 4, 8, 2), []float64{4, 6, 4})
	tr := trackerOf(t, "", 3)
	if tr.Config().Smoothing != SmoothingEWMA {
		t.Errorf("default smoothing %q", tr.Config().Smoothing)
	}
}

func TestTrackerConfigBounds(t *testing.T) {
	ok := TrackerConfig{Window: 1, PruneAfter: 1, MaxTracked: 1}
	for _, sm := range []Smoothing{"", SmoothingEWMA, SmoothingMax, SmoothingNone} {
		c := ok
		c.Smoothing = sm
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for field, c := range map[string]TrackerConfig{
		"window":                {Window: 0, PruneAfter: 1, MaxTracked: 1},
		"prune_after":           {Window: 1, PruneAfter: 0, MaxTracked: 1},
		"max_tracked_processes": {Window: 1, PruneAfter: 1, MaxTracked: 0},
	} {
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field+":") {
			t.Errorf("%+v: %v, want only a %s error", c, err, field)
		}
		if _, err := NewTracker[int](c); err == nil {
			t.Errorf("NewTracker accepted %+v", c)
		}
	}
}

func TestTrackerBookkeeping(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Window: 2, PruneAfter: 1, MaxTracked: 2})
	mem := &Sample{HasMemory: true, Memory: 1}
	tr.Begin()
	if tr.Interval() != 1 {
		t.Fatalf("interval %d after one Begin", tr.Interval())
	}
	a, isNew := tr.Observe(1, mem)
	if !isNew || a.FirstSeen != 1 {
		t.Fatalf("new entry: %v %+v", isNew, a)
	}
	if _, isNew := tr.Observe(1, mem); isNew {
		t.Fatal("a second observation in the same interval is not new")
	}
	if a.Observations != 1 || !tr.Seen(a) {
		t.Fatalf("observations %d in one interval, seen %v", a.Observations, tr.Seen(a))
	}
	tr.Observe(2, mem)
	tr.End(nil)
	tr.Begin()
	if tr.Seen(a) {
		t.Fatal("seen in an interval it was not observed in")
	}
	tr.Observe(1, mem)
	if a.Observations != 2 || a.LastSeen != 2 || a.FirstSeen != 1 {
		t.Fatalf("after two intervals: %+v", a)
	}
	// PruneAfter 1: absent for one interval is gone.
	var pruned []Identity
	if n := tr.End(func(e *Entry[int]) { pruned = append(pruned, e.ID) }); n != 1 || len(pruned) != 1 || pruned[0] != 2 {
		t.Fatalf("pruned %d %v, want id 2", n, pruned)
	}
	if tr.End(nil) != 0 {
		t.Fatal("a pruned entry pruned again")
	}
	// Remove frees a place under the cap.
	tr.Begin()
	tr.Observe(3, mem)
	if e, _ := tr.Observe(4, mem); e != nil {
		t.Fatal("over the cap")
	}
	if !tr.Remove(3) || tr.Remove(3) || tr.Remove(99) {
		t.Fatal("Remove reports whether the id was tracked")
	}
	if tr.Get(3) != nil || tr.Len() != 1 {
		t.Fatalf("removed id still tracked (len %d)", tr.Len())
	}
	if e, _ := tr.Observe(4, mem); e == nil {
		t.Fatal("a removed process still counts against the cap")
	}
	var ids []Identity
	tr.All(func(e *Entry[int]) bool { ids = append(ids, e.ID); return true })
	if len(ids) != 2 {
		t.Fatalf("All saw %v, want the 2 live entries", ids)
	}
	ids = nil
	tr.All(func(e *Entry[int]) bool { ids = append(ids, e.ID); return false })
	if len(ids) != 1 {
		t.Fatalf("All did not stop: %v", ids)
	}
}

func TestCriticalMatcherDetails(t *testing.T) {
	pats := []string{"^nginx$", "^postgres"}
	m, err := NewCriticalMatcher(pats)
	if err != nil {
		t.Fatal(err)
	}
	pats[0] = "changed"
	if m.Len() != 2 || m.Pattern(0) != "^nginx$" || m.Pattern(1) != "^postgres" {
		t.Fatalf("patterns as configured: %d %q", m.Len(), m.Pattern(0))
	}
	// A command equal to the command line still matches (once).
	if m.MatchStrings("", "postgres", "postgres") != 1 || m.MatchStrings("", "nginx", "") != 0 || m.MatchStrings("nginx", "", "") != 0 {
		t.Fatal("each of the three strings is matched")
	}
	if m.MatchStrings("", "", "postgres -D /data") != 1 {
		t.Fatal("the command line alone")
	}
	var none *CriticalMatcher
	if none.MatchStrings("nginx", "nginx", "nginx") != -1 || none.MatchIndex(pcommon.NewMap()) != -1 {
		t.Fatal("a nil matcher matches nothing")
	}
	if err := ValidatePatterns([]string{"^a", "[b"}); err == nil || !strings.Contains(err.Error(), "critical_processes[1]") {
		t.Fatalf("bad pattern: %v", err)
	}
	if err := ValidatePatterns([]string{"^a"}); err != nil {
		t.Fatal(err)
	}
}

func TestHashValueKinds(t *testing.T) {
	vals := map[string]pcommon.Value{
		"true":        pcommon.NewValueBool(true),
		"false":       pcommon.NewValueBool(false),
		"empty":       pcommon.NewValueEmpty(),
		"bytes ab":    pcommon.NewValueBytes(),
		"bytes ba":    pcommon.NewValueBytes(),
		"empty slice": pcommon.NewValueSlice(),
		"empty map":   pcommon.NewValueMap(),
		"slice [1]":   pcommon.NewValueSlice(),
		"slice [2]":   pcommon.NewValueSlice(),
		"slice [1 1]": pcommon.NewValueSlice(),
		"map {a:1}":   pcommon.NewValueMap(),
		"map {a:2}":   pcommon.NewValueMap(),
		"int 0":       pcommon.NewValueInt(0),
		"double 0":    pcommon.NewValueDouble(0),
		"str":         pcommon.NewValueStr(""),
	}
	vals["bytes ab"].Bytes().FromRaw([]byte("ab"))
	vals["bytes ba"].Bytes().FromRaw([]byte("ba"))
	vals["slice [1]"].Slice().AppendEmpty().SetInt(1)
	vals["slice [2]"].Slice().AppendEmpty().SetInt(2)
	vals["slice [1 1]"].Slice().AppendEmpty().SetInt(1)
	vals["slice [1 1]"].Slice().AppendEmpty().SetInt(1)
	vals["map {a:1}"].Map().PutInt("a", 1)
	vals["map {a:2}"].Map().PutInt("a", 2)
	seen := map[uint64]string{}
	for name, v := range vals {
		h := HashValue(v)
		if other, dup := seen[h]; dup {
			t.Errorf("%s and %s hash the same", name, other)
		}
		seen[h] = name
	}
	// Attribute maps: a key moved to another value, or a value to another
	// key, is another map.
	a, b := pcommon.NewMap(), pcommon.NewMap()
	a.PutStr("x", "1")
	a.PutStr("y", "2")
	b.PutStr("x", "2")
	b.PutStr("y", "1")
	if HashAttributes(a) == HashAttributes(b) {
		t.Error("swapped values hash the same")
	}
	if Combine(1, 2) == Combine(1, 3) || Combine(1, 2) == Combine(3, 2) {
		t.Error("Combine ignores an input")
	}
	if HashString("a") == HashString("b") || HashString("a") != HashString("a") {
		t.Error("HashString")
	}
}

// Max smoothing keeps a window per process and per kind: a process's CPU
// peak is not its memory peak, nor another process's.
func TestSmoothingMaxKeepsSeriesApart(t *testing.T) {
	tr := newTracker(t, TrackerConfig{Smoothing: SmoothingMax, Window: 2, PruneAfter: 3, MaxTracked: 10})
	obs := func(id Identity, i int, cpu, mem float64) *Entry[int] {
		e, _ := tr.Observe(id, &Sample{HasMemory: true, Memory: mem, HasCPUTime: true, CPUTemporal: TemporalityDelta,
			CPUStart: at(float64(10 * i)), Timestamp: at(float64(10*i + 10)), CPUTime: cpu * 10})
		return e
	}
	for i, v := range [][4]float64{{1, 100, 50, 5000}, {2, 200, 60, 6000}, {3, 50, 70, 1000}} {
		tr.Begin()
		a := obs(1, i, v[0], v[1])
		b := obs(2, i, v[2], v[3])
		if i == 2 && (a.CPUScore != 3 || a.MemoryScore != 200 || b.CPUScore != 70 || b.MemoryScore != 6000) {
			t.Fatalf("max over 2: a cpu %v mem %v, b cpu %v mem %v; want 3 200 70 6000", a.CPUScore, a.MemoryScore, b.CPUScore, b.MemoryScore)
		}
	}
}

// A process that reports neither CPU time nor utilisation has no CPU rate
// (it is not a process at 0 CPU).
func TestNoCPUFiguresNoRate(t *testing.T) {
	tr := trackerOf(t, SmoothingNone, 1)
	tr.Begin()
	if e, _ := tr.Observe(1, &Sample{HasMemory: true, Memory: 10, Timestamp: at(10)}); e.HasCPURate {
		t.Fatalf("memory only: %+v", e)
	}
}

// Match is MatchIndex >= 0: the first pattern counts.
func TestMatchFirstPattern(t *testing.T) {
	m, err := NewCriticalMatcher([]string{"^nginx$", "^postgres$"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"nginx": true, "postgres": true, "sleep": false} {
		attrs := pcommon.NewMap()
		attrs.PutStr(AttrExecutableName, name)
		if m.Match(attrs) != want {
			t.Errorf("Match(%s) = %v", name, !want)
		}
	}
	// An absent attribute matches nothing, even a pattern that matches "".
	loose, _ := NewCriticalMatcher([]string{"^$", ".*"})
	if loose.Match(pcommon.NewMap()) || loose.MatchStrings("", "", "") != -1 {
		t.Error("an absent attribute matched")
	}
}
