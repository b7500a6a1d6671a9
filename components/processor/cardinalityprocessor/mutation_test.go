package cardinalityprocessor

// Tests written for mutation survivors (docs/testing.md "Mutation score"):
// each pins a behaviour that a gremlins mutant changed without any other
// test noticing.

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// mark re-counts a carried hash by its slot in the next window: the member
// counts it once (count), the group too (totalCount), and a second mark in
// the same window is no news. Today the processor marks only the process
// set by this path (series replay inlines it), so the member's count is
// pinned here.
func TestMarkCountsACarriedSlotOnce(t *testing.T) {
	g := newDistinctGroup(10, false)
	m := g.newMember("m", scopeResource, 1)
	slots := make([]int32, 3)
	for i := range slots {
		var isNew bool
		if slots[i], isNew = m.insertSlot(uint64(100 + i)); !isNew || slots[i] < 0 {
			t.Fatalf("insert %d: slot %d, new %v", i, slots[i], isNew)
		}
	}
	g.reset(1, true, nil) // window 1 ends, its slots carry into window 2
	m.window = 2
	if !m.mark(slots[0]) || !m.mark(slots[2]) {
		t.Fatal("a carried slot marked in a new window is not new")
	}
	if m.mark(slots[0]) {
		t.Fatal("a slot marked twice in one window is new the second time")
	}
	if m.count() != 2 || g.totalCount() != 2 {
		t.Fatalf("two slots marked: count %d, total %d, want 2 and 2", m.count(), g.totalCount())
	}
}

// Once a window turns estimated its exact sets are released (the sketches
// hold the window): an estimated window costs the sketches, not the sets
// too.
func TestEstimatedWindowReleasesItsSets(t *testing.T) {
	cfg := testConfig()
	cfg.ExactLimit = 50
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	s.observe(processBatch(40, 1000, []string{"nginx", "java"})) // more than 50 series
	if !s.series.estimated {
		t.Fatal("the batch did not exceed exact_limit")
	}
	for _, m := range s.series.members {
		if m.liveSlots() != 0 || len(m.slots) != 0 {
			t.Fatalf("member %q of an estimated window holds %d hashes in %d slots", m.name, m.liveSlots(), len(m.slots))
		}
	}
}

// On Linux the thread CPU clock must work: without it the CPU-time test
// skips itself and the counters are not registered, so a broken clock
// would pass unseen.
func TestThreadCPUClockOnLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the thread CPU clock is read on Linux only")
	}
	runtime.LockOSThread() // one thread's clock throughout
	defer runtime.UnlockOSThread()
	t0, ok := threadCPUNanos()
	if !ok || t0 <= 0 {
		t.Fatalf("threadCPUNanos() = %d, %v on Linux", t0, ok)
	}
	// Spin until the clock moves (bounded by iterations, not time).
	for i := 0; i < 1<<30; i++ {
		if t1, _ := threadCPUNanos(); t1 > t0 {
			return
		}
	}
	t.Fatal("the thread CPU clock did not advance over 2^30 reads")
}

// Shutdown unregisters the CPU-time and the figures' callbacks: a
// processor that is gone (a reload replaces it) reports nothing any more.
func TestShutdownUnregistersCPUTime(t *testing.T) {
	if _, ok := threadCPUNanos(); !ok {
		t.Skip("no thread CPU clock on this platform: the counters are not registered")
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := testConfig()
	cfg.Window = time.Hour
	proc, p, err := newMetricsProcessor(context.Background(), set, cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := proc.ConsumeMetrics(context.Background(), processBatch(3, 1, defaultNames)); err != nil {
		t.Fatal(err)
	}
	p.rotate(time.Now()) // a finished window: the figures are reported
	for _, name := range []string{metricConsumeCPU, metricSeries} {
		if _, err := tel.GetMetric(name); err != nil {
			t.Fatalf("before shutdown: %v", err)
		}
	}
	if err := proc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{metricConsumeCPU, metricSeries} {
		if m, err := tel.GetMetric(name); err == nil {
			t.Fatalf("after shutdown %s is still reported: %+v", name, m.Data)
		}
	}
}

// The fingerprint's string hash reads every byte: two strings of the same
// length that differ in one byte, at any position and in every length class
// (1-3, 4-7, 8-16 and longer), hash apart. TestShortcutsCountLikeTheFullWalk
// changes the middle byte only.
func TestFingerprintStringEveryByteCounts(t *testing.T) {
	f := newFingerprinter()
	for n := 1; n <= 24; n++ {
		base := make([]byte, n)
		for i := range base {
			base[i] = byte('a' + i)
		}
		h := f.str(string(base))
		for i := 0; i < n; i++ {
			b := append([]byte(nil), base...)
			b[i] ^= 0x20
			if f.str(string(b)) == h {
				t.Errorf("length %d: %q and %q hash alike (byte %d ignored)", n, base, b, i)
			}
		}
	}
}

// emit_metrics with no data flowing: up to maxPendingWindows windows of
// figures wait for the next batch; the window after that drops them and
// keeps only its own.
func TestPendingFiguresAreBounded(t *testing.T) {
	cfg := testConfig()
	cfg.EmitMetrics = true
	p := newTestProcessor(t, cfg)
	pendingAfter := func(windows int) int {
		for range windows {
			p.rotate(time.Now())
		}
		md, err := p.processMetrics(context.Background(), pmetric.NewMetrics())
		if err != nil {
			t.Fatal(err)
		}
		return md.ResourceMetrics().Len() // one resource of figures per window
	}
	if n := pendingAfter(maxPendingWindows); n != maxPendingWindows {
		t.Fatalf("%d windows without data: %d windows of figures, want all %d", maxPendingWindows, n, maxPendingWindows)
	}
	if n := pendingAfter(maxPendingWindows + 1); n != 1 {
		t.Fatalf("%d windows without data: %d windows of figures, want 1 (the older ones dropped)", maxPendingWindows+1, n)
	}
}

// A closed window is logged at debug level with its figures.
func TestWindowClosedIsLoggedAtDebug(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	p := newTestProcessor(t, testConfig())
	p.logger = zap.New(core)
	p.rotate(time.Now())
	entries := logs.FilterMessage("Cardinality window closed").All()
	if len(entries) != 1 {
		t.Fatalf("%d debug entries for one closed window", len(entries))
	}
	if _, ok := entries[0].ContextMap()["series"]; !ok {
		t.Fatalf("the entry has no series figure: %v", entries[0].ContextMap())
	}
}

// top_offenders: 0 turns the attribute-value tracking off: no key is
// counted at all (not just none reported).
func TestNoOffendersTracksNoKeys(t *testing.T) {
	cfg := testConfig()
	cfg.TopOffenders = 0
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	s.observe(processBatch(5, 1, defaultNames))
	if n := len(s.keys.members); n != 0 {
		t.Fatalf("top_offenders 0: %d attribute keys tracked", n)
	}
}

// Once a window is estimated (carry stopped), the set of resources seen is
// capped at maxFingerprints (exact_limit), and filled up to it.
func TestSeenSetIsCapped(t *testing.T) {
	cfg := testConfig()
	cfg.ExactLimit = 5
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	s.observe(processBatch(40, 1, defaultNames))
	if !s.carryStopped {
		t.Fatal("40 processes under exact_limit 5 did not stop the carry")
	}
	if n := len(s.seen); n != s.maxFingerprints {
		t.Fatalf("%d resources remembered as seen, want the cap %d", n, s.maxFingerprints)
	}
}

// Metric names past maxMetricNames share the "_other" member but stay
// distinct series: 10 names past the cap, with the same (no) attributes,
// are 10 series.
func TestNamesPastTheCapStayDistinctSeries(t *testing.T) {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	for i := range maxMetricNames + 10 {
		m := ms.AppendEmpty()
		m.SetName("metric." + strconv.Itoa(i))
		m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	}
	cfg := testConfig()
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	s.observe(md)
	snap := s.finish(time.Unix(60, 0))
	if snap.series != maxMetricNames+10 {
		t.Fatalf("%d series counted, want %d", snap.series, maxMetricNames+10)
	}
	for _, nc := range snap.seriesByMetric {
		if nc.name == overflowMetricName && nc.count != 10 {
			t.Fatalf("%s: %d series, want 10", overflowMetricName, nc.count)
		}
	}
}

// In an estimated window, resources measured only as "seen" leave gaps in
// the position cache (-1); a later batch in the same order must read past
// them (a gap is no entry) and count as before.
func TestPositionCacheGaps(t *testing.T) {
	cfg := testConfig()
	cfg.ExactLimit = 5
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	x := processBatch(1, 1, defaultNames) // more than 5 series: estimated
	s.observe(x)
	if !s.carryStopped {
		t.Fatal("one process did not exceed exact_limit 5")
	}
	batch := processBatch(2, 100, defaultNames) // two new processes, then x
	x.ResourceMetrics().At(0).CopyTo(batch.ResourceMetrics().AppendEmpty())
	s.observe(batch)
	s.observe(batch)
	if snap := s.finish(time.Unix(60, 0)); snap.processes != 3 || snap.processesEstimated {
		t.Fatalf("%d processes (estimated %v), want exactly 3", snap.processes, snap.processesEstimated)
	}
}

// A resource counted in an exact window keeps an entry that can replay it
// in the next one: every slot of it is known (slot 0 included).
func TestExactResourceEntryCarries(t *testing.T) {
	s := newWindowState(testConfig(), nil, time.Unix(0, 0))
	s.observe(processBatch(1, 1, defaultNames))
	if len(s.fingerprints) != 1 {
		t.Fatalf("%d entries for one resource", len(s.fingerprints))
	}
	for _, i := range s.fingerprints {
		if e := s.entries[i]; !e.carry || len(e.refs) == 0 || e.proc.member == nil {
			t.Fatalf("the entry cannot replay: carry %v, %d refs, process %v", e.carry, len(e.refs), e.proc.member != nil)
		}
	}
	s.finish(time.Unix(60, 0))
	if len(s.fingerprints) != 1 {
		t.Fatalf("the window's reset kept %d entries of the resource it saw, want 1", len(s.fingerprints))
	}
}

// exact_limit is inclusive for carried series too: a resource replayed in
// the next window with exactly exact_limit series stays exact.
func TestReplayAtTheExactLimitStaysExact(t *testing.T) {
	md := processBatch(1, 1, defaultNames)
	probe := newWindowState(testConfig(), nil, time.Unix(0, 0))
	probe.observe(md)
	n := probe.finish(time.Unix(60, 0)).series
	cfg := testConfig()
	cfg.ExactLimit = int(n)
	cfg.TopOffenders = 0 // the attribute values would exceed the limit first
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	for w := range 2 { // the second window replays the first's slots
		s.observe(md)
		if snap := s.finish(time.Unix(int64(60*(w+1)), 0)); snap.series != n || snap.seriesEstimated {
			t.Fatalf("window %d: %d series (estimated %v) at exact_limit %d, want exactly %d", w+1, snap.series, snap.seriesEstimated, n, n)
		}
	}
}

// The fingerprint cache holds at most maxFingerprints (exact_limit)
// entries, and fills up to it. Resources without metrics count no series,
// so the window stays exact while they fill the cache.
func TestFingerprintCacheIsCapped(t *testing.T) {
	cfg := testConfig()
	cfg.ExactLimit = 5
	s := newWindowState(cfg, nil, time.Unix(0, 0))
	md := pmetric.NewMetrics()
	for i := range 8 {
		md.ResourceMetrics().AppendEmpty().Resource().Attributes().PutInt("i", int64(i))
	}
	s.observe(md)
	if s.anyEstimated() {
		t.Fatal("resources without metrics turned the window estimated")
	}
	if n := len(s.fingerprints); n != 5 {
		t.Fatalf("%d fingerprints cached, want the cap 5", n)
	}
}

// At most maxCriticalTracked critical processes are tracked per window:
// one more is not counted (the cap bounds memory).
func TestCriticalProcessesCapped(t *testing.T) {
	cfg := testConfig()
	cfg.CriticalProcesses = []string{"^nginx$"}
	cfg.ExactLimit = maxExactLimit
	critical, err := processmetrics.NewCriticalMatcher(cfg.CriticalProcesses)
	if err != nil {
		t.Fatal(err)
	}
	s := newWindowState(cfg, critical, time.Unix(0, 0))
	md := processBatch(maxCriticalTracked+1, 1, []string{"nginx"})
	for w := range 2 { // the second window replays the first's entries
		s.observe(md)
		if snap := s.finish(time.Unix(int64(60*(w+1)), 0)); snap.criticalProcesses != maxCriticalTracked {
			t.Fatalf("window %d: %d critical processes tracked, want the cap %d", w+1, snap.criticalProcesses, maxCriticalTracked)
		}
	}
}
