package topkprocessor

import "testing"

// With others: drop every process not kept is counted as dropped (and none
// as aggregated), per interval.
func TestOthersDropCounted(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.Others = OthersDrop }))
	w := &world{}
	w.add(pr{pid: 1, name: "a"}, 1)
	w.add(pr{pid: 2, name: "b"}, 0.5)
	w.add(pr{pid: 3, name: "c"}, 0.2)
	h.run(w.step())
	h.run(w.step())
	for _, c := range []struct {
		name string
		want int64
	}{{telProcessesDropped, 4}, {telProcessesAggr, 0}, {telProcessesKept, 2}, {telProcessesIn, 6}} {
		if got := counterFor(t, h, c.name, ""); got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
}
