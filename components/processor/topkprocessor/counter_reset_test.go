package topkprocessor

import (
	"math"
	"testing"

	"github.com/phoenix-otel/phoenix/components/internal/processmetrics"
)

// A cumulative counter of a rolled-up process that goes down while its start
// time (and PID) stay the same is a reset the scraper did not mark: the
// increment is the new value, never negative, and other never decreases
// (README: "other's cumulative series never fall").
func TestCounterResetWithSameStartNeverLowersOther(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "top"}, 4)
	rolled := w.add(pr{pid: 2, name: "worker"}, 1)
	w.add(pr{pid: 3, name: "quiet"}, 0.1)
	h.run(w.step())
	out := h.run(w.step())
	prevCPU := otherValue(t, out, "", "process.cpu.time", "state", "user")
	prevDisk := otherValue(t, out, "", "process.disk.io", "direction", "read")

	// The worker's counters restart near zero; same pid, same start time.
	// (step then adds this interval's use: 8 s user CPU, 1000 bytes read.)
	rolled.cpu = [3]float64{0.5, 0.1, 0}
	rolled.disk = [2]int64{10, 5}
	out = h.run(w.step())
	cpu := otherValue(t, out, "", "process.cpu.time", "state", "user")
	disk := otherValue(t, out, "", "process.disk.io", "direction", "read")
	if cpu < prevCPU || disk < prevDisk {
		t.Fatalf("other went down on a counter reset: cpu %v -> %v, disk %v -> %v", prevCPU, cpu, prevDisk, disk)
	}
	// The increment is the worker's new value plus what pid 3 used.
	if want := prevCPU + (0.5 + 1*interval*0.8) + 0.1*interval*0.8; math.Abs(cpu-want) > 1e-9 {
		t.Fatalf("other cpu after reset = %v, want %v (the reset value counts as the increment)", cpu, want)
	}
	if want := prevDisk + (10 + 1000) + float64(int64(0.1*1000)); math.Abs(disk-want) > 1e-9 {
		t.Fatalf("other disk after reset = %v, want %v", disk, want)
	}

	// And it keeps growing normally from the reset value.
	prevCPU = cpu
	out = h.run(w.step())
	if cpu = otherValue(t, out, "", "process.cpu.time", "state", "user"); cpu < prevCPU {
		t.Fatalf("other went down after the reset: %v -> %v", prevCPU, cpu)
	}
}

// A rolled-up process whose counter did not move (an idle process, value
// unchanged and not zero) adds nothing to other: an equal value is no
// reset.
func TestUnchangedCounterAddsNothing(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "top"}, 4)
	idle := w.add(pr{pid: 2, name: "idle", cpu: [3]float64{30, 6, 0}, disk: [2]int64{500, 100}}, 0)
	h.run(w.step())
	prev := otherValue(t, h.run(w.step()), "", "process.cpu.time", "state", "user")
	for i := 0; i < 2; i++ {
		out := h.run(w.step())
		if cpu := otherValue(t, out, "", "process.cpu.time", "state", "user"); cpu != prev {
			t.Fatalf("interval %d: other cpu %v -> %v while the only rolled-up process (user %v s) was idle", i, prev, cpu, idle.cpu[0])
		}
	}
}

// A series whose StartTimestamp moves (the scraper marked a reset of that
// counter; the process, and its start, are the same) counts its whole new
// value as the increment, not the difference from the old one.
func TestSeriesRestartCountsTheNewValue(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) {
		c.TopK = 1
		c.Hysteresis = Hysteresis{Margin: 0, Intervals: 1}
	}))
	w := &world{}
	w.add(pr{pid: 1, name: "top"}, 4)
	w.add(pr{pid: 2, name: "rolled"}, 1) // +1000 bytes read per interval
	h.run(w.step())
	if v := otherValue(t, h.run(w.step()), "", "process.disk.io", "direction", "read"); v != 2000 {
		t.Fatalf("other read %v after two intervals, want 2000", v)
	}
	md := w.step() // the rolled process reads 3000 in all, since a new start
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		if pid, _ := rms.At(i).Resource().Attributes().Get(processmetrics.AttrPID); pid.Int() != 2 {
			continue
		}
		dps := metricOf(rms.At(i), "process.disk.io").Sum().DataPoints()
		for k := 0; k < dps.Len(); k++ {
			dps.At(k).SetStartTimestamp(at(w.now - 1))
		}
	}
	if v := otherValue(t, h.run(md), "", "process.disk.io", "direction", "read"); v != 5000 {
		t.Fatalf("other read %v after the series restarted at 3000, want 2000 + 3000", v)
	}
}
