package cardinalityprocessor

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Series carried from one window into the next count only when they are
// seen again: a window that sees a random part of a fixed pool of resources
// (the same resources, so the same fingerprints, as successive scrapes)
// counts exactly what a brute force over that window's data counts.
func TestCarriedWindowsCountExactly(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		cfg := testConfig()
		cfg.TopOffenders = maxOffenders
		p := newTestProcessor(t, cfg)
		g := &randomGen{r: rand.New(rand.NewPCG(seed, seed*104729))}
		pool := make([]pmetric.Metrics, 30)
		for i := range pool {
			pool[i] = g.batch(3)
		}
		for window := 0; window < 6; window++ {
			bf := newBruteForce()
			for i := range pool {
				if g.r.IntN(3) == 0 {
					continue // absent from this window
				}
				for range 2 { // two scrapes of it in the window
					md := pmetric.NewMetrics()
					pool[i].CopyTo(md)
					bf.observe(md)
					_, err := p.processMetrics(context.Background(), md)
					require.NoError(t, err)
				}
			}
			snap := p.rotate(time.Now())
			require.False(t, snap.seriesEstimated)
			require.Equal(t, uint64(len(bf.series)), snap.series, "series, seed %d window %d", seed, window)
			perMetric := map[string]uint64{}
			for _, nc := range snap.seriesByMetric {
				perMetric[nc.name] = nc.count
			}
			wantPerMetric := map[string]uint64{}
			for name, set := range bf.perMetric {
				wantPerMetric[name] = uint64(len(set))
			}
			require.Equal(t, wantPerMetric, perMetric, "series per metric, seed %d window %d", seed, window)
			gotKeys := map[string]uint64{}
			for _, o := range snap.offenders {
				gotKeys[o.scope+"/"+o.key] = o.values
			}
			wantKeys := map[string]uint64{}
			for id, set := range bf.keyValues {
				wantKeys[id] = uint64(len(set))
			}
			require.Equal(t, wantKeys, gotKeys, "distinct values per attribute key, seed %d window %d", seed, window)
		}
	}
}

// Processes and critical processes carried over count only when present:
// window 1 sees 10 processes, window 2 the first 4, window 3 the last 6.
func TestCarriedProcessesCountOnlyWhenSeenAgain(t *testing.T) {
	cfg := testConfig()
	cfg.CriticalProcesses = []string{"^nginx$", "^postgres$"}
	p := newTestProcessor(t, cfg)
	procs := make([]pmetric.Metrics, 10)
	for i := range procs {
		procs[i] = processBatch(1, i+1, defaultNames[i:i+1])
	}
	feed := func(from, to int) *snapshot {
		for range 3 {
			for _, md := range procs[from:to] {
				c := pmetric.NewMetrics()
				md.CopyTo(c)
				_, _ = p.processMetrics(context.Background(), c)
			}
		}
		return p.rotate(time.Now())
	}
	for _, c := range []struct{ from, to, critical int }{{0, 10, 2}, {0, 4, 2}, {4, 10, 0}, {0, 1, 1}, {0, 0, 0}, {0, 10, 2}} {
		snap := feed(c.from, c.to)
		n := c.to - c.from
		require.Equal(t, uint64(n), snap.processes, "processes %d..%d", c.from, c.to)
		require.Equal(t, uint64(7*n), snap.series, "series %d..%d", c.from, c.to)
		require.Equal(t, uint64(c.critical), snap.criticalProcesses, "critical %d..%d", c.from, c.to)
	}
}

// The carry keeps at most two windows of state: resources of a window
// before the last are forgotten.
func TestCarryForgetsOldWindows(t *testing.T) {
	p := newTestProcessor(t, testConfig())
	for w := 0; w < 5; w++ {
		_, _ = p.processMetrics(context.Background(), processBatch(100, 1+1000*w, defaultNames))
		p.rotate(time.Now())
		require.LessOrEqual(t, len(p.state.fingerprints), 100, "window %d", w)
		require.LessOrEqual(t, p.state.procSet.liveSlots(), 100, "window %d", w)
	}
}

// A carried process counted again by slot also spends the exact budget: at
// exact_limit processes the window stays exact, one more (a new process,
// then the carried ones) turns it estimated. The resources carry no data
// points, so the series budget is not the one that runs out.
func TestCarriedProcessesSpendTheExactBudget(t *testing.T) {
	bare := func(pidBase, n int) pmetric.Metrics {
		md := processBatch(n, pidBase, defaultNames)
		for _, rm := range md.ResourceMetrics().All() {
			rm.ScopeMetrics().RemoveIf(func(pmetric.ScopeMetrics) bool { return true })
		}
		return md
	}
	for _, tc := range []struct {
		name      string
		fresh     int // new processes before the carried ones
		estimated bool
	}{{"at the limit", 0, false}, {"one past it", 1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.ExactLimit = 5
			p := newTestProcessor(t, cfg)
			_, err := p.processMetrics(context.Background(), bare(1, 5))
			require.NoError(t, err)
			require.False(t, p.rotate(time.Now()).processesEstimated)
			if tc.fresh > 0 {
				_, err = p.processMetrics(context.Background(), bare(100, tc.fresh))
				require.NoError(t, err)
			}
			_, err = p.processMetrics(context.Background(), bare(1, 5))
			require.NoError(t, err)
			snap := p.rotate(time.Now())
			require.Equal(t, tc.estimated, snap.processesEstimated)
			require.Equal(t, uint64(5+tc.fresh), snap.processes)
		})
	}
}
