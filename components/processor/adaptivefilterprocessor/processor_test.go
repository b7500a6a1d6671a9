package adaptivefilterprocessor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// criticalPatterns match the core services every loadgen profile runs
// (kafka by its command line: its executable is java).
var criticalPatterns = []string{`^(nginx|postgres|mysqld|redis-server|kubelet|containerd|dockerd)$`, `kafka\.Kafka`}

// addCritical adds the eight core services, mostly quiet so that only the
// critical rule keeps them.
func addCritical(h *fakeHost) []*fakeProc {
	var ps []*fakeProc
	for _, c := range []struct{ name, cmd string }{
		{"nginx", "nginx: master process"}, {"postgres", "postgres -D /var/lib/postgresql"},
		{"mysqld", "/usr/sbin/mysqld"}, {"redis-server", "redis-server 127.0.0.1:6379"},
		{"kubelet", "/usr/bin/kubelet"}, {"containerd", "/usr/bin/containerd"},
		{"dockerd", "/usr/bin/dockerd -H fd://"}, {"java", "java -cp /opt/kafka/libs/* kafka.Kafka server.properties"},
	} {
		p := h.add(c.name, c.cmd, 0.0001, 2*mib)
		p.critical = true
		ps = append(ps, p)
	}
	return ps
}

// addPopulation adds n ordinary processes with log-normal CPU (median 1% of
// a core) and memory (median 40 MiB).
func addPopulation(h *fakeHost, rng *rand.Rand, n int) []*fakeProc {
	var ps []*fakeProc
	for i := range n {
		cpu := 0.01 * math.Exp(1.5*rng.NormFloat64())
		mem := int64(40 * mib * math.Exp(rng.NormFloat64()))
		ps = append(ps, h.add("worker", fmt.Sprintf("/usr/bin/worker --id=%d", i), cpu, mem))
	}
	return ps
}

// jitter moves every ordinary process's CPU around its base by ~20%.
func jitter(rng *rand.Rand, ps []*fakeProc, base []float64) {
	for i, p := range ps {
		p.cpu = base[i] * math.Exp(0.2*rng.NormFloat64())
	}
}

func cpus(ps []*fakeProc) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.cpu
	}
	return out
}

func assertCriticalPresent(t *testing.T, tick int, crit []*fakeProc, pids map[int64]bool) {
	t.Helper()
	for _, c := range crit {
		require.True(t, pids[c.pid], "tick %d: critical process %s (pid %d) missing from the output", tick, c.name, c.pid)
	}
}

// The processor holds the output at or under the budget in every batch, the
// controller converges so that the cap rarely has anything to do, and every
// critical process is in every batch.
func TestProcessorHoldsBudget(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 100
	cfg.CriticalProcesses = criticalPatterns
	h := newHarness(t, cfg)
	host := newFakeHost("web-1")
	rng := rand.New(rand.NewPCG(1, 1))
	crit := addCritical(host)
	pop := addPopulation(host, rng, 1000)
	base := cpus(pop)

	var overBudget []int
	for tick := range 60 {
		jitter(rng, pop, base)
		out := outputPIDs(h.run(host.tick()))["web-1"]
		if h.group("web-1").last.full > 100 {
			overBudget = append(overBudget, tick)
		}
		require.LessOrEqual(t, len(out), 100, "tick %d: over budget", tick)
		assertCriticalPresent(t, tick, crit, out)
		if tick >= 20 {
			assert.GreaterOrEqual(t, len(out), 80, "tick %d: the budget should be used, not starved", tick)
		}
	}
	g := h.group("web-1")
	t.Logf("rules over budget (cap needed) in ticks %v; final multiplier %.3g, state %s, %d direction changes",
		overBudget, g.ctrl.m, g.ctrl.state, g.ctrl.reversals)
	// After convergence the thresholds alone hold the budget, but for the odd
	// noisy interval (every score jitters by ~20% per scrape here), which the
	// controller answers at once and the cap trims meanwhile.
	late := 0
	for _, tick := range overBudget {
		if tick >= 10 {
			late++
		}
	}
	assert.LessOrEqual(t, late, 3, "intervals over budget before the cap after convergence (of 50)")
	assert.LessOrEqual(t, g.ctrl.reversals, int64(4))
}

// After a step from 100 to 2,000 processes the output never exceeds the
// budget (the cap), and the controller itself gets the output under the
// budget within 6 intervals (the bound stated in the README).
func TestProcessorStep100To2000(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 200
	cfg.CriticalProcesses = criticalPatterns
	h := newHarness(t, cfg)
	host := newFakeHost("")
	rng := rand.New(rand.NewPCG(2, 2))
	crit := addCritical(host)
	addPopulation(host, rng, 92)
	for tick := range 20 {
		out := outputPIDs(h.run(host.tick()))[""]
		assertCriticalPresent(t, tick, crit, out)
	}
	g := h.group("")
	assert.Equal(t, stateSaturatedLow, g.ctrl.state, "100 processes under a 200 budget: nothing to cut")

	addPopulation(host, rng, 1900)
	converged := -1
	for tick := range 40 {
		out := outputPIDs(h.run(host.tick()))[""]
		require.LessOrEqual(t, len(out), 200, "tick %d after the step: over budget", tick)
		assertCriticalPresent(t, tick, crit, out)
		// Converged: the keep rule alone (before the cap) is within budget.
		pre := g.plant.outputAt(g.ctrl.m)
		if pre <= 200 && converged < 0 {
			converged = tick
		} else if pre > 200 {
			converged = -1
		}
	}
	t.Logf("controller under budget %d intervals after the step; multiplier %.3g", converged, g.ctrl.m)
	require.GreaterOrEqual(t, converged, 0)
	assert.LessOrEqual(t, converged, 6)
}

func TestProcessorCriticalAlwaysKept(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 2 // fewer than the critical processes
	cfg.CriticalProcesses = criticalPatterns
	cfg.DropRules.Ephemeral.Enabled = true
	h := newHarness(t, cfg)
	host := newFakeHost("db-1")
	crit := addCritical(host)
	busy := host.add("ffmpeg", "ffmpeg -i in.mp4", 2, 500*mib)
	for tick := range 20 {
		out := outputPIDs(h.run(host.tick()))["db-1"]
		assertCriticalPresent(t, tick, crit, out)
		assert.Len(t, out, len(crit), "tick %d: the busy non-critical process cannot fit", tick)
		assert.False(t, out[busy.pid])
	}
	assert.Equal(t, stateSaturatedHigh, h.group("db-1").ctrl.state)
	assert.Equal(t, int64(20*len(crit)), h.sum(metricProcessesKept, labelReason, "critical"))
}

// A process that passed stays for `retention` after it last passed, then
// leaves; with retention 0 it leaves as soon as it no longer passes.
func TestProcessorRetention(t *testing.T) {
	run := func(retention time.Duration) (stayed int) {
		cfg := testConfig()
		cfg.MaxCardinality = 20
		cfg.Retention = retention
		h := newHarness(t, cfg)
		host := newFakeHost("")
		var procs []*fakeProc
		for i := range 50 {
			procs = append(procs, host.add("svc", fmt.Sprintf("svc --n=%d", i), 0.01+0.01*float64(i), 50*mib))
		}
		top := procs[49]
		for range 20 {
			h.run(host.tick())
		}
		require.True(t, outputPIDs(h.run(host.tick()))[""][top.pid], "the busiest process must be kept")
		top.cpu = 0 // goes quiet (its memory keeps it out of the idle rule)
		for tick := range 30 {
			if !outputPIDs(h.run(host.tick()))[""][top.pid] {
				return tick
			}
		}
		return 30
	}
	without := run(0)
	with := run(90 * time.Second)
	t.Logf("quiet process stayed %d intervals without retention, %d with 90s retention", without, with)
	assert.LessOrEqual(t, without, 4, "smoothing alone keeps it only a few intervals")
	assert.GreaterOrEqual(t, with, without+9, "90 s retention = 9 intervals of 10 s after it last passed")
	assert.Less(t, with, 30, "retention must expire")
}

func TestProcessorDropRules(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 1000 // the budget does not bind: only the rules drop
	cfg.CriticalProcesses = []string{`^critical-idle$`}
	cfg.DropRules.Ephemeral.Enabled = true
	cfg.Retention = 0
	cfg.Probation = 0 // the rules alone (probation_test.go covers probation)
	h := newHarness(t, cfg)
	host := newFakeHost("")
	idle := host.add("idle", "idle", 0, 1*mib)
	critIdle := host.add("critical-idle", "critical-idle", 0, 1*mib)
	old := host.add("old", "old", 0.001, 20*mib)
	eph1 := host.add("job-1700000000123", "job", 0.5, 100*mib)
	eph2 := host.add("tmp_3f9a8c7e2b1d", "tmp", 0.5, 100*mib)
	word := host.add("deadbeefcafe", "word", 0.5, 100*mib) // hex letters only: a word, not an id
	normal := host.add("nginx2", "nginx2", 0.5, 100*mib)
	var out map[int64]bool
	for range 10 { // let the multiplier relax: the budget does not bind
		out = outputPIDs(h.run(host.tick()))[""]
	}
	young := host.add("young", "young", 0.001, 20*mib)
	young.start, young.cpuTime = host.now, 0 // just started
	for range 3 {
		out = outputPIDs(h.run(host.tick()))[""]
	}
	assert.False(t, out[idle.pid], "idle")
	assert.True(t, out[critIdle.pid], "critical beats the idle rule")
	assert.False(t, out[young.pid], "young and quiet")
	assert.True(t, out[old.pid], "old and quiet is not short-lived")
	assert.False(t, out[eph1.pid], "digit run")
	assert.False(t, out[eph2.pid], "hex id")
	assert.True(t, out[word.pid])
	assert.True(t, out[normal.pid])
	assert.Equal(t, int64(13), h.sum(metricProcessesDropped, labelReason, "idle"))
	assert.Equal(t, int64(3), h.sum(metricProcessesDropped, labelReason, "short_lived"))
	assert.Equal(t, int64(26), h.sum(metricProcessesDropped, labelReason, "ephemeral_name"))

	// Once the young process is older than min_age it is judged like any other.
	for range 6 {
		out = outputPIDs(h.run(host.tick()))[""]
	}
	assert.True(t, out[young.pid], "no longer young")
}

func TestEphemeralName(t *testing.T) {
	for name, want := range map[string]bool{
		"nginx": false, "python3": false, "php-fpm8.2": false, "job-1700000000123": true,
		"tmp_3f9a8c7e2b1d": true, "deadbeefcafe": false, "run12345": false, "run123456": true,
		"a1b2c3d4e5f6": true, "ffffffffffff": false, "": false, "x-0123456789ab-y": true,
	} {
		assert.Equal(t, want, ephemeralName(name, 6, 12), name)
	}
}

func TestProcessorSeriesBudget(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 70 // 10 processes of 7 series
	cfg.BudgetUnit = UnitSeries
	h := newHarness(t, cfg)
	host := newFakeHost("")
	rng := rand.New(rand.NewPCG(3, 3))
	addPopulation(host, rng, 300)
	for tick := range 30 {
		out := h.run(host.tick())
		require.LessOrEqual(t, out.DataPointCount(), 70, "tick %d: series over budget", tick)
		if tick > 10 {
			assert.GreaterOrEqual(t, out.DataPointCount(), 56, "tick %d: budget starved", tick)
		}
	}
	v, ok := h.gauge(metricOutput, labelUnit, UnitSeries)
	require.True(t, ok)
	assert.LessOrEqual(t, v, 70.0)
}

// Several hosts in one batch (a gateway): each has its own budget and controller.
func TestProcessorMultiHost(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 30
	cfg.CriticalProcesses = criticalPatterns
	h := newHarness(t, cfg)
	rng := rand.New(rand.NewPCG(4, 4))
	a, b := newFakeHost("a"), newFakeHost("b")
	critA, critB := addCritical(a), addCritical(b)
	addPopulation(a, rng, 300)
	addPopulation(b, rng, 50)
	for tick := range 30 {
		md := pmetric.NewMetrics()
		a.appendTo(md)
		b.appendTo(md)
		out := outputPIDs(h.run(md))
		require.LessOrEqual(t, len(out["a"]), 30)
		require.LessOrEqual(t, len(out["b"]), 30)
		assertCriticalPresent(t, tick, critA, out["a"])
		assertCriticalPresent(t, tick, critB, out["b"])
	}
	assert.Greater(t, h.group("a").ctrl.m, h.group("b").ctrl.m, "the busier host needs the higher thresholds")
}

// Host load from system.cpu.utilization: under high load the output goes
// down to budget/max_multiplier; when the load falls it comes back.
func TestProcessorHostLoad(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 100
	h := newHarness(t, cfg)
	host := newFakeHost("h")
	host.sysCPUs, host.sysUtil = 4, 0.2
	rng := rand.New(rand.NewPCG(5, 5))
	addPopulation(host, rng, 1000)
	phase := func(util float64) int {
		host.sysUtil = util
		var n int
		for range 20 {
			n = len(outputPIDs(h.run(host.tick()))["h"])
		}
		return n
	}
	low := phase(0.2)
	high := phase(0.99)
	back := phase(0.2)
	t.Logf("output at load 0.2: %d, at 0.99: %d, back at 0.2: %d", low, high, back)
	assert.Less(t, high, low)
	assert.LessOrEqual(t, high, 50, "full load halves the budget (host_load.max_multiplier 2)")
	assert.Greater(t, back, high)
	lm, ok := h.gauge(metricLoadMultiplier, "", "")
	require.True(t, ok)
	assert.Equal(t, 1.0, lm)
}

// Host load from the sum of process CPU over the host's cores.
func TestProcessorHostLoadFromProcesses(t *testing.T) {
	cfg := testConfig()
	cfg.HostLoad.CPUCount = 4
	h := newHarness(t, cfg)
	host := newFakeHost("")
	for i := range 8 {
		host.add("burner", fmt.Sprintf("burner %d", i), 0.5, 10*mib) // 4 cores busy
	}
	for range 5 {
		h.run(host.tick())
	}
	g := h.group("")
	assert.InDelta(t, 1.0, g.last.load, 0.01)
	assert.Equal(t, cfg.HostLoad.MaxMultiplier, g.last.loadMultiplier)
	v, ok := h.gauge(metricHostLoad, "", "")
	require.True(t, ok)
	assert.InDelta(t, 1.0, v, 0.01)
}

func TestProcessorPassThrough(t *testing.T) {
	h := newHarness(t, testConfig())
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http.server.requests")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(3)
	want := pmetric.NewMetrics()
	md.CopyTo(want)
	// Plus an idle process that the rules drop.
	appendProcess(md, "", &fakeProc{pid: 7, name: "idle", cmd: "idle", mem: 1}, t0)
	out := h.run(md)
	assert.Equal(t, want, out, "the non-process resource is passed through untouched")

	// Nothing left at all: the batch is not sent on.
	md = pmetric.NewMetrics()
	appendProcess(md, "", &fakeProc{pid: 8, name: "idle", cmd: "idle", mem: 1}, t0+1)
	assert.Equal(t, 0, h.run(md).ResourceMetrics().Len())
}

// A PID reused by a new process does not inherit the old one's retention.
func TestProcessorPIDReuse(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 5
	cfg.Retention = 10 * time.Minute
	h := newHarness(t, cfg)
	host := newFakeHost("")
	for i := range 20 {
		host.add("svc", fmt.Sprintf("svc %d", i), 0.01, 20*mib)
	}
	busy := host.add("busy", "busy", 1, 20*mib)
	for range 10 {
		h.run(host.tick())
	}
	require.True(t, outputPIDs(h.run(host.tick()))[""][busy.pid])
	// It dies; a quiet process gets its pid.
	host.remove(busy)
	reuse := host.add("quiet", "quiet", 0.001, 20*mib)
	reuse.pid = busy.pid
	reuse.start, reuse.cpuTime = host.now, 0
	for range 3 {
		out := outputPIDs(h.run(host.tick()))[""]
		assert.False(t, out[busy.pid], "the new process on the old pid must not be retained")
	}
}

func TestProcessorTelemetry(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCardinality = 50
	cfg.CriticalProcesses = criticalPatterns
	h := newHarness(t, cfg)
	host := newFakeHost("t")
	rng := rand.New(rand.NewPCG(6, 6))
	addCritical(host)
	addPopulation(host, rng, 400)
	const ticks = 15
	for range ticks {
		h.run(host.tick())
	}
	in := h.sum(metricProcessesInput, "", "")
	kept := h.sum(metricProcessesKept, "", "")
	dropped := h.sum(metricProcessesDropped, "", "")
	assert.Equal(t, int64(ticks*408), in)
	assert.Equal(t, in, kept+dropped, "every process is either kept or dropped")
	assert.Equal(t, int64(ticks*408*7), h.sum(metricSeriesInput, "", ""))
	assert.Equal(t, kept*7, h.sum(metricSeriesKept, "", ""))

	g := h.group("t")
	m, ok := h.gauge(metricMultiplier, labelHost, "t")
	require.True(t, ok)
	assert.Equal(t, g.ctrl.m, m)
	cpu, _ := h.gauge(metricThresholdCPU, labelHost, "t")
	assert.InDelta(t, cfg.Thresholds.CPU*m, cpu, 1e-12)
	mem, _ := h.gauge(metricThresholdMemory, labelHost, "t")
	assert.InDelta(t, cfg.Thresholds.Memory*m, mem, 1e-6)
	b, _ := h.gauge(metricBudget, labelUnit, UnitProcesses)
	assert.Equal(t, 50.0, b)
	st, ok := h.gauge(metricState, labelState, g.ctrl.state.String())
	require.True(t, ok, "the current state is reported")
	assert.Equal(t, 1.0, st)
	out, _ := h.gauge(metricOutput, labelUnit, UnitProcesses)
	assert.LessOrEqual(t, out, 50.0)
	_, ok = h.gauge(metricReversals, labelHost, "t")
	assert.True(t, ok)
}

// Processes past max_tracked_processes are judged without history and counted.
func TestProcessorTrackerCap(t *testing.T) {
	cfg := testConfig()
	cfg.MaxTrackedProcesses = 10
	h := newHarness(t, cfg)
	host := newFakeHost("")
	for i := range 30 {
		host.add("svc", fmt.Sprintf("svc %d", i), 0.1, 20*mib)
	}
	for range 3 {
		h.run(host.tick())
	}
	assert.Equal(t, 10, h.p.tracker.Len())
	assert.Equal(t, int64(3*20), h.sum(metricUntracked, "", ""))
}

func TestProcessorStateIsPruned(t *testing.T) {
	cfg := testConfig()
	h := newHarness(t, cfg)
	a, b := newFakeHost("a"), newFakeHost("b")
	a.add("svc", "svc", 0.1, 20*mib)
	b.add("svc", "svc", 0.1, 20*mib)
	h.run(a.tick())
	for range cfg.PruneAfter + 1 {
		h.run(b.tick())
	}
	assert.Nil(t, h.p.groups["a"], "a host gone for prune_after_intervals batches is forgotten")
	assert.NotNil(t, h.p.groups["b"])
	assert.Equal(t, 1, h.p.tracker.Len())
}

func TestProcessorNoStartTime(t *testing.T) {
	// Without start timestamps the age comes from first sight and the CPU
	// rate from the second sample: nothing breaks.
	cfg := testConfig()
	cfg.MaxCardinality = 3
	h := newHarness(t, cfg)
	host := newFakeHost("")
	var busy *fakeProc
	for i := range 10 {
		p := host.add("svc", fmt.Sprintf("svc %d", i), 0.01*float64(i+1), 20*mib)
		p.noStart = true
		busy = p
	}
	var out map[int64]bool
	for range int(cfg.Probation/host.interval) + 3 { // past the probation, counted from first sight
		out = outputPIDs(h.run(host.tick()))[""]
		require.LessOrEqual(t, len(out), 3)
	}
	assert.True(t, out[busy.pid])
	_ = pcommon.Timestamp(0)
}
