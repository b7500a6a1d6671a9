package adaptivefilterprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedThresholdsConfig pins the multiplier at 1 (the thresholds as
// configured) and turns smoothing off, so that each tick's verdict follows
// from the process's own figures and the rules alone.
func fixedThresholdsConfig(retention time.Duration) *Config {
	cfg := testConfig()
	cfg.MaxCardinality = 1000 // the budget never binds
	cfg.Controller.MinMultiplier = 1
	cfg.Controller.MaxMultiplier = 1.0001
	cfg.Controller.InitialMultiplier = 1
	cfg.Smoothing = "none"
	cfg.Retention = retention
	return cfg
}

// README: retention beats the idle and short-lived rules. A process that
// passed the thresholds and then falls below both idle floors is kept until
// its retention runs out, then dropped as idle.
func TestRetentionBeatsIdleRule(t *testing.T) {
	quietKept := func(retention time.Duration) (kept int, h *harness) {
		h = newHarness(t, fixedThresholdsConfig(retention))
		host := newFakeHost("")
		p := host.add("worker", "worker --busy", 0.5, 100*mib) // passes: 0.5 cores > 0.05
		for range 3 {
			require.True(t, outputPIDs(h.run(host.tick()))[""][p.pid], "the busy process must pass")
		}
		p.cpu, p.mem = 0, 1*mib // below both idle floors (0.0005 cores, 4 MiB)
		for tick := range 20 {
			if !outputPIDs(h.run(host.tick()))[""][p.pid] {
				return tick, h
			}
		}
		return 20, h
	}
	without, h0 := quietKept(0)
	assert.Equal(t, 0, without, "without retention the idle rule drops it at once")
	assert.Equal(t, int64(1), h0.sum(metricProcessesDropped, labelReason, "idle"))

	with, h := quietKept(90 * time.Second)
	t.Logf("idle after passing: kept %d intervals with 90 s retention", with)
	assert.Equal(t, 9, with, "90 s retention = 9 intervals of 10 s after it last passed, despite the idle rule")
	assert.Equal(t, int64(9), h.sum(metricProcessesKept, labelReason, "retention"))
	assert.Equal(t, int64(1), h.sum(metricProcessesDropped, labelReason, "idle"), "once retention ends the idle rule applies")
}

// The same for the short-lived rule: a young process that passed and goes
// quiet (under short_lived.cpu, younger than min_age) stays while retained.
func TestRetentionBeatsShortLivedRule(t *testing.T) {
	for _, c := range []struct {
		retention time.Duration
		wantKept  bool
	}{{0, false}, {90 * time.Second, true}} {
		cfg := fixedThresholdsConfig(c.retention)
		cfg.Probation = 0 // this test is about the short-lived rule
		h := newHarness(t, cfg)
		host := newFakeHost("")
		young := host.add("batch", "batch --job", 0.5, 50*mib)
		young.start, young.cpuTime = host.now, 0 // starts now
		require.True(t, outputPIDs(h.run(host.tick()))[""][young.pid], "retention %v: the young busy process passes", c.retention)
		young.cpu = 0.001     // under short_lived.cpu (0.01); 50 MiB keeps it above the idle floor
		for tick := range 3 { // ages 20 s, 30 s, 40 s: younger than min_age (1m)
			kept := outputPIDs(h.run(host.tick()))[""][young.pid]
			assert.Equal(t, c.wantKept, kept, "retention %v, quiet tick %d: kept", c.retention, tick)
		}
		if !c.wantKept {
			assert.Equal(t, int64(3), h.sum(metricProcessesDropped, labelReason, "short_lived"))
		} else {
			assert.Equal(t, int64(0), h.sum(metricProcessesDropped, labelReason, "short_lived"))
		}
	}
}

// A PID reused by a new process (new start time) is a new identity: it does
// not inherit the old process's retention, smoothed score or age.
func TestReusedPIDStartsFresh(t *testing.T) {
	t.Run("retention", func(t *testing.T) {
		cfg := fixedThresholdsConfig(5 * time.Minute)
		cfg.DropRules.ShortLived.Enabled = false // the thresholds alone judge the newcomer
		h := newHarness(t, cfg)
		host := newFakeHost("")
		old := host.add("worker", "worker", 0.5, 100*mib)
		for range 3 {
			require.True(t, outputPIDs(h.run(host.tick()))[""][old.pid])
		}
		host.remove(old)
		reuse := host.add("worker", "worker", 0.001, 50*mib) // below both thresholds
		reuse.pid = old.pid
		reuse.start, reuse.cpuTime = host.now, 0
		out := outputPIDs(h.run(host.tick()))[""]
		assert.False(t, out[reuse.pid], "the new process on a reused PID inherited the old one's retention")
		assert.Equal(t, int64(0), h.sum(metricProcessesKept, labelReason, "retention"))
	})
	t.Run("smoothed score", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxCardinality = 1000
		cfg.Controller.MinMultiplier = 1
		cfg.Controller.MaxMultiplier = 1.0001
		cfg.Controller.InitialMultiplier = 1
		cfg.Retention = 0
		cfg.DropRules.ShortLived.Enabled = false
		require.Equal(t, "ewma", cfg.Smoothing)
		h := newHarness(t, cfg)
		host := newFakeHost("")
		old := host.add("worker", "worker", 2, 100*mib) // 2 cores: 40x the CPU threshold
		for range 5 {
			h.run(host.tick())
		}
		host.remove(old)
		reuse := host.add("worker", "worker", 0.001, 50*mib)
		reuse.pid = old.pid
		reuse.start, reuse.cpuTime = host.now, 0
		out := outputPIDs(h.run(host.tick()))[""]
		assert.False(t, out[reuse.pid], "the new process on a reused PID was judged on the old one's smoothed CPU")
	})
}
