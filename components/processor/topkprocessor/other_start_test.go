package topkprocessor

import "testing"

// other's cumulative series start at the earliest process start the group
// saw in its first interval (not at the batch's timestamp, and not at a later
// process's start): a backend then reads other's first value as accumulated
// since then. Killed mutants of the minimum in processMetrics' first pass.
func TestOtherStartsAtEarliestProcessStart(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	now := 1000.0
	out := h.run(scrape(now,
		pr{pid: 1, name: "top", start: 300, cpu: [3]float64{500, 0, 0}},
		pr{pid: 2, name: "a", start: 100, cpu: [3]float64{5, 0, 0}},
		pr{pid: 3, name: "b", start: 200, cpu: [3]float64{5, 0, 0}},
	))
	dp, ok := point(mustOther(t, out), "process.cpu.time", "state", "user")
	if !ok {
		t.Fatal("other has no cpu point")
	}
	if dp.StartTimestamp() != at(100) {
		t.Fatalf("other StartTimestamp = %v, want the earliest process start %v", dp.StartTimestamp(), at(100))
	}
}

// max_tracked_processes is at least 1: 1 itself is valid.
func TestMaxTrackedProcessesOneIsValid(t *testing.T) {
	cfg := testConfig(func(c *Config) { c.MaxTrackedProcesses = 1 })
	if err := cfg.Validate(); err != nil {
		t.Fatalf("max_tracked_processes: 1: %v", err)
	}
	cfg.MaxTrackedProcesses = 0
	if err := cfg.Validate(); err == nil {
		t.Fatal("max_tracked_processes: 0 accepted")
	}
}

// The cap is over all hosts: with max_tracked_processes 3 reached on one
// host, the first process of another host is not tracked (each host's
// tracker alone would accept it).
func TestMaxTrackedProcessesOverHosts(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.MaxTrackedProcesses = 3 }))
	h.run(scrape(10, pr{host: "a", pid: 1, name: "p"}, pr{host: "a", pid: 2, name: "p"}, pr{host: "a", pid: 3, name: "p"},
		pr{host: "b", pid: 1, name: "p"}))
	if h.p.tracked != 3 {
		t.Fatalf("tracked %d processes, want the cap 3", h.p.tracked)
	}
	if v := counterSum(t, h, telUntracked); v != 1 {
		t.Fatalf("%s = %d, want 1 (host b's process)", telUntracked, v)
	}
}
