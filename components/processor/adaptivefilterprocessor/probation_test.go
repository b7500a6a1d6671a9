package adaptivefilterprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A new process, however busy, stays out of the output until it is
// probation old; then the thresholds judge it. One that exits before never
// becomes a series. A critical newcomer is kept at once.
func TestProbationKeepsNewProcessesOut(t *testing.T) {
	cfg := fixedThresholdsConfig(5 * time.Minute)
	cfg.Probation = time.Minute
	cfg.CriticalProcesses = []string{"^postgres$"}
	h := newHarness(t, cfg)
	host := newFakeHost("")
	host.add("old", "old --busy", 0.5, 100*mib) // an hour old: judged at once
	young := host.add("batch", "batch --job", 0.5, 100*mib)
	young.start, young.cpuTime = host.now, 0 // starts now, busy (10x the CPU threshold)
	brief := host.add("job", "job --run=1", 0.5, 100*mib)
	brief.start, brief.cpuTime = host.now, 0
	db := host.add("postgres", "postgres: main", 0.001, 50*mib)
	db.start, db.cpuTime = host.now, 0

	firstKept := -1
	for tick := range 10 { // ages 10 s .. 100 s at the scrapes
		if tick == 3 {
			host.remove(brief) // lived 30 s
		}
		out := outputPIDs(h.run(host.tick()))[""]
		assert.True(t, out[db.pid], "tick %d: the critical newcomer must be kept at once", tick)
		assert.False(t, out[brief.pid], "tick %d: the 30 s job must never be in the output", tick)
		if out[young.pid] && firstKept < 0 {
			firstKept = tick
		}
		if firstKept >= 0 {
			assert.True(t, out[young.pid], "tick %d: once past probation the busy process stays", tick)
		}
	}
	// Scrape i is at age 10(i+1) s after the start; probation 1m ends at 60 s.
	assert.Equal(t, 6, firstKept, "kept from the first scrape at which it is older than 60 s")
	assert.Equal(t, int64(6+3), h.sum(metricProcessesDropped, labelReason, "probation"))
}

// Without a start time the age counts from the first scrape that saw the
// process; probation 0 turns the rule off.
func TestProbationWithoutStartTimeAndOff(t *testing.T) {
	for _, c := range []struct {
		probation time.Duration
		firstKept int
	}{{0, 1}, {30 * time.Second, 4}} { // (off: the first scrape has no CPU rate yet)
		cfg := fixedThresholdsConfig(0)
		cfg.Probation = c.probation
		h := newHarness(t, cfg)
		host := newFakeHost("")
		p := host.add("worker", "worker", 0.5, 100*mib)
		p.noStart = true
		first := -1
		for tick := range 6 {
			if outputPIDs(h.run(host.tick()))[""][p.pid] && first < 0 {
				first = tick
			}
		}
		require.Equal(t, c.firstKept, first, "probation %s: first scrape that kept it", c.probation)
	}
}
