package experiment

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// simCollector is one host's collector as the server sees it: its
// cardinality processors close a window every window from their start (a
// ticker started with the collector, late by tickLate under load), and its
// own-metrics reader pushes every push, also from the start, the last
// finished window of every variant (nothing before the first one), stamped
// with the push time and reaching the server exportLag later.
type simCollector struct {
	uid                 string
	start               time.Time
	window, push        time.Duration
	tickLate, exportLag time.Duration
	sent                int // pushes written so far
}

// windowAt is the number of the last window finished at t (0: none yet).
func (c *simCollector) windowAt(t time.Time) int {
	if t.Before(c.start) {
		return 0
	}
	n := int(t.Sub(c.start) / c.window)
	if n > 0 && t.Before(c.start.Add(time.Duration(n)*c.window+c.tickLate)) {
		n-- // the n-th tick has not fired yet
	}
	return n
}

// deliver writes the pushes that have reached the server by now.
func (c *simCollector) deliver(ctx context.Context, t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	for {
		at := c.start.Add(time.Duration(c.sent+1) * c.push)
		if at.Add(c.exportLag).After(now) {
			return
		}
		c.sent++
		w := c.windowAt(at)
		if w == 0 {
			continue // no window finished: the processors report nothing
		}
		in := float64(1000 + 10*w) // one receiver: both variants see the same input
		var pts []store.MetricPoint
		for _, v := range []struct {
			name  string
			share float64
		}{{"baseline", 1}, {"candidate", 0.25}} {
			for _, f := range []struct {
				metric, stage string
				value         float64
			}{
				{metricSeries, stageIn, in}, {metricProcesses, stageIn, 50}, {metricCritical, stageIn, 5},
				{metricSeries, stageOut, in * v.share}, {metricDataPoints, stageOut, 7 * in * v.share}, {metricCritical, stageOut, 5},
			} {
				pts = append(pts, store.MetricPoint{AgentUID: c.uid, Name: f.metric, Pipeline: "p", Stage: f.stage, Variant: v.name, Time: at, Value: f.value})
			}
		}
		if err := st.WriteMetrics(ctx, pts, []store.Resolution{{Step: time.Minute, Retention: 24 * time.Hour}}); err != nil {
			t.Fatal(err)
		}
	}
}

// runSimulated runs a warm-up-0, 3-minute experiment of 1-minute intervals
// on simulated hosts whose collectors started at the given offsets before
// the experiment began warming up (a negative one never reports), ticking the manager every tick
// on an injected clock, and returns the pairs of output series and the
// finished record.
func runSimulated(t *testing.T, warmingAt time.Time, starts []time.Duration, tickLate, exportLag, tick time.Duration) (int, *record) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenFile(ctx, filepath.Join(t.TempDir(), "phoenix.db"), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := warmingAt
	m := New(Config{Store: st, Deployments: deployment.New(st, time.Minute), Holder: "test", MinInterval: time.Minute, Now: func() time.Time { return now }})
	r := &record{Experiment: api.Experiment{
		Name: "pairing", Status: api.ExperimentWarmingUp,
		Variants: []api.Variant{{Name: "baseline", Template: "t"}, {Name: "candidate", Template: "t"}},
		Duration: "3m", Warmup: "0s", Interval: "1m", CreatedAt: warmingAt,
		Transitions: []api.Transition{{Status: api.ExperimentWarmingUp, At: warmingAt}},
	}, WarmingSince: warmingAt}
	var cols []*simCollector
	for i, s := range starts {
		uid := fmt.Sprintf("agent-%d", i)
		r.Hosts = append(r.Hosts, api.ExperimentHost{Host: fmt.Sprintf("host-%d", i), AgentUID: uid})
		cols = append(cols, &simCollector{uid: uid, start: warmingAt.Add(-s), window: time.Minute, push: 10 * time.Second, tickLate: tickLate, exportLag: exportLag})
	}
	if err := m.put(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	for end := warmingAt.Add(15 * time.Minute); now.Before(end); now = now.Add(tick) {
		for i, c := range cols {
			if starts[i] >= 0 { // a negative start: a host that never reports
				c.deliver(ctx, t, st, now)
			}
		}
		if err := m.advance(ctx, r.Name); err != nil {
			t.Fatal(err)
		}
		if r, err = m.load(ctx, r.Name); err != nil {
			t.Fatal(err)
		}
		if r.Status == api.ExperimentCompleted {
			break
		}
	}
	if r.Status != api.ExperimentCompleted {
		t.Fatalf("status %s after 15 simulated minutes", r.Status)
	}
	ss, err := st.ListExperimentSamples(ctx, r.Name)
	if err != nil {
		t.Fatal(err)
	}
	// Each interval's figure is the last window the host reported within
	// the interval: it closed before the interval's end and at most a
	// push period before its start (not a warm-up window, nor the
	// interval before's), and no window counts twice.
	iv := time.Minute
	for i, c := range cols {
		seen := map[int]int{}
		for _, s := range ss {
			if s.KPI != KPIInputSeries || s.Variant != "baseline" || s.Host != r.Hosts[i].Host {
				continue
			}
			w := int(s.Value-1000) / 10
			closed := c.start.Add(time.Duration(w) * c.window)
			start := r.RunningSince.Add(time.Duration(s.Interval) * iv)
			if closed.Before(start.Add(-c.push)) || !closed.Before(start.Add(iv)) {
				t.Errorf("%s interval %d [%s, %s): window %d, closed at %s", c.uid, s.Interval, start.Format("15:04:05"), start.Add(iv).Format("15:04:05"), w, closed.Format("15:04:05"))
			}
			if k, dup := seen[w]; dup {
				t.Errorf("%s: window %d counted in intervals %d and %d", c.uid, w, k, s.Interval)
			}
			seen[w] = s.Interval
		}
	}
	xs, _ := tabulate(ss, "baseline").paired("baseline", "candidate", KPIOutputSeries)
	return len(xs), r
}

// TestSilentHostNotWaitedFor: a host whose collector reports nothing holds
// the running phase back for reportWait only, the running transition names
// it, and the other host's intervals still pair.
func TestSilentHostNotWaitedFor(t *testing.T) {
	warming := time.Date(2026, 12, 2, 6, 0, 20, 0, time.UTC)
	n, r := runSimulated(t, warming, []time.Duration{3 * time.Second, -1}, 0, 200*time.Millisecond, 15*time.Second)
	if n != 3 {
		t.Errorf("%d of 3 intervals paired", n)
	}
	var running api.Transition
	for _, tr := range r.Transitions {
		if tr.Status == api.ExperimentRunning {
			running = tr
		}
	}
	// Warm-up 0: it runs once reportWait (3 windows) has passed, not before.
	if w := running.At.Sub(warming); w < reportWait(time.Minute) || w >= reportWait(time.Minute)+15*time.Second {
		t.Errorf("running %s after warming up, want reportWait (%s) rounded up to a tick", w, reportWait(time.Minute))
	}
	if !strings.Contains(running.Reason, "host-1/baseline, host-1/candidate") || strings.Contains(running.Reason, "host-0") {
		t.Errorf("running reason %q: want host-1's variants named, host-0 not", running.Reason)
	}
	if !r.RunningSince.Equal(r.RunningSince.Truncate(time.Minute)) || r.RunningSince.Before(running.At) {
		t.Errorf("running since %s, transition at %s: want the next minute boundary", r.RunningSince, running.At)
	}
}

// TestEveryIntervalPairs: a 3-minute experiment with no warm-up, whose
// collectors (re)started their processors with the experiment's config a
// few seconds before it began warming up, yields 3 paired intervals,
// whatever the phase of the collectors' windows and pushes against the
// server's minute buckets, also under load (ticks and exports late, the
// manager's ticks late). The AT-P04 runs paired 2 of 3 (and 1 of 3 under a
// load of 216): interval k read the minute bucket holding its start, i.e.
// the windows that had closed before the interval began, and interval 0's
// bucket held none of the new processors' windows yet.
func TestEveryIntervalPairs(t *testing.T) {
	base := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	for _, load := range []struct {
		name                      string
		tickLate, exportLag, tick time.Duration
	}{
		{"quiet", 0, 200 * time.Millisecond, 15 * time.Second},
		{"loaded", 3 * time.Second, 25 * time.Second, 17 * time.Second},
	} {
		for phase := time.Duration(0); phase < time.Minute; phase += 7 * time.Second {
			for _, starts := range [][]time.Duration{{2 * time.Second, 4 * time.Second}, {12 * time.Second, 45 * time.Second}} {
				name := fmt.Sprintf("%s/phase-%s/starts-%s-%s", load.name, phase, starts[0], starts[1])
				t.Run(name, func(t *testing.T) {
					n, r := runSimulated(t, base.Add(phase), starts, load.tickLate, load.exportLag, load.tick)
					if n != 3 {
						t.Errorf("%d of 3 intervals paired (running since %s, transitions %+v)", n, r.RunningSince.Format("15:04:05"), r.Transitions)
					}
				})
			}
		}
	}
}
