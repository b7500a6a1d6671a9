package adaptivefilterprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Shutdown unregisters the gauges' callback: a processor shut down (a
// collector reload) no longer reports its multiplier, and the meter no
// longer holds it.
func TestShutdownUnregistersGauges(t *testing.T) {
	h := newHarness(t, testConfig())
	host := newFakeHost("h")
	host.add("svc", "svc", 0.1, 20*mib)
	h.run(host.tick())
	if _, ok := h.gauge(metricMultiplier, labelHost, "h"); !ok {
		t.Fatal("no multiplier reported before shutdown")
	}
	if err := h.p.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m, err := h.tel.GetMetric(metricMultiplier); err == nil {
		if g, ok := m.Data.(metricdata.Gauge[float64]); !ok || len(g.DataPoints) > 0 {
			t.Fatalf("%s still reported after shutdown: %#v", metricMultiplier, m.Data)
		}
	}
}

// A host is forgotten after exactly prune_after_intervals batches without
// it, not one sooner.
func TestHostPrunedAfterExactlyPruneAfter(t *testing.T) {
	cfg := testConfig()
	cfg.PruneAfter = 3
	h := newHarness(t, cfg)
	a, b := newFakeHost("a"), newFakeHost("b")
	a.add("svc", "svc", 0.1, 20*mib)
	b.add("svc", "svc", 0.1, 20*mib)
	h.run(a.tick())
	h.run(b.tick())
	h.run(b.tick())
	if h.p.groups["a"] == nil {
		t.Fatal("host a forgotten after 2 batches without it (prune_after_intervals 3)")
	}
	h.run(b.tick())
	if h.p.groups["a"] != nil {
		t.Fatal("host a still known after 3 batches without it (prune_after_intervals 3)")
	}
}

// A process whose score equals the threshold (pass = multiplier) passes;
// one byte under it does not. Retained, it is counted as kept by the
// threshold, not by retention, while it passes.
func TestPassAtTheThresholdIsKept(t *testing.T) {
	cfg := fixedThresholdsConfig(time.Hour) // multiplier 1
	h := newHarness(t, cfg)
	host := newFakeHost("")
	thr := int64(cfg.Thresholds.Memory)
	at := host.add("at", "at", 0, thr)
	under := host.add("under", "under", 0, thr-1)
	out := outputPIDs(h.run(host.tick()))[""]
	if !out[at.pid] || out[under.pid] {
		t.Fatalf("kept %v: want the process at the threshold, not the one a byte under", out)
	}
	if v := h.sum(metricProcessesKept, labelReason, "threshold"); v != 1 {
		t.Fatalf("kept by threshold %d, want 1", v)
	}
	// Retained from now on (it passed); at the threshold it still passes.
	h.run(host.tick())
	if v, r := h.sum(metricProcessesKept, labelReason, "threshold"), h.sum(metricProcessesKept, labelReason, "retention"); v != 2 || r != 0 {
		t.Fatalf("kept by threshold %d, by retention %d, want 2, 0", v, r)
	}
	// Having passed at exactly the multiplier, it is retained when it falls under.
	at.mem = thr - 1
	if out := outputPIDs(h.run(host.tick()))[""]; !out[at.pid] {
		t.Fatal("a process that last passed at the threshold was not retained")
	}
}

// A host that sends only system metrics (no process) has nothing to
// decide: no controller step, no gauges for it.
func TestHostWithoutProcessesIsNotDecided(t *testing.T) {
	h := newHarness(t, testConfig())
	sys := newFakeHost("sys")
	sys.sysUtil, sys.sysCPUs = 0.5, 2
	busy := newFakeHost("busy")
	busy.add("svc", "svc", 0.1, 20*mib)
	md := sys.tick()
	busy.appendTo(md)
	h.run(md)
	if _, ok := h.gauge(metricMultiplier, labelHost, "busy"); !ok {
		t.Fatal("no multiplier for the host with a process")
	}
	if v, ok := h.gauge(metricMultiplier, labelHost, "sys"); ok {
		t.Fatalf("multiplier %v reported for a host without processes", v)
	}
}

// Probation at its edges: a process seen for the first time without a
// start time is age 0, on probation; one past max_tracked_processes and
// without a start time has no known age, so neither probation nor the
// short-lived rule can hold it back.
func TestProbationAgeEdges(t *testing.T) {
	cfg := fixedThresholdsConfig(0)
	cfg.Probation = 30 * time.Second
	cfg.MaxTrackedProcesses = 1
	cfg.DropRules.ShortLived.Enabled = false // probation alone
	h := newHarness(t, cfg)
	host := newFakeHost("")
	big := int64(2 * cfg.Thresholds.Memory) // passes on memory at once
	first := host.add("first", "first", 0, big)
	first.noStart = true
	untracked := host.add("second", "second", 0, big)
	untracked.noStart = true
	out := outputPIDs(h.run(host.tick()))[""]
	if out[first.pid] {
		t.Fatal("a process at age 0 (first sight, no start time) passed probation")
	}
	if !out[untracked.pid] {
		t.Fatal("an untracked process of unknown age was held back")
	}
	// Ages 10, 20, 30 s: on probation up to and including 30 s; 40 s out.
	for age := 10; age <= 40; age += 10 {
		out = outputPIDs(h.run(host.tick()))[""]
		if out[first.pid] != (age > 30) {
			t.Fatalf("age %d s, probation 30 s: kept %v", age, out[first.pid])
		}
	}
}
