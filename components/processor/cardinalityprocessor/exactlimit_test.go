package cardinalityprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// exact_limit is inclusive: a window with exactly exact_limit distinct series
// is counted exactly, and the insert of series exact_limit+1 switches the
// window to estimates (README: "exact up to exact_limit").
func TestExactLimitIsInclusive(t *testing.T) {
	const procs = 100 // 7 series each: 700 series
	for _, c := range []struct {
		limit     int
		estimated bool
	}{
		{limit: 700, estimated: false}, // exactly exact_limit
		{limit: 699, estimated: true},  // exact_limit + 1
		{limit: 701, estimated: false},
	} {
		cfg := testConfig()
		cfg.ExactLimit = c.limit
		p := newTestProcessor(t, cfg)
		_, _ = p.processMetrics(context.Background(), processBatch(procs, 1, defaultNames))
		snap := p.rotate(time.Now())
		if snap.seriesEstimated != c.estimated {
			t.Errorf("exact_limit %d with 700 series: estimated = %v, want %v", c.limit, snap.seriesEstimated, c.estimated)
		}
		if !c.estimated && snap.series != 700 {
			t.Errorf("exact_limit %d: %d series counted exactly, want 700", c.limit, snap.series)
		}
	}
}

// The same boundary on one counting group, hash by hash.
func TestDistinctGroupSwitchesAfterLimit(t *testing.T) {
	g := newDistinctGroup(3, true)
	m := g.newMember("m", scopeResource, 0)
	h := func(i int) uint64 { return hashString(fmt.Sprintf("series-%d", i)) }
	for i := 1; i <= 3; i++ {
		if !m.insert(h(i)) {
			t.Fatalf("hash %d reported as seen", i)
		}
	}
	if m.insert(h(2)) {
		t.Fatal("a repeated hash is reported new while exact")
	}
	if g.estimated || m.count() != 3 || g.totalCount() != 3 {
		t.Fatalf("3 hashes under limit 3: estimated=%v count=%d total=%d, want exact 3", g.estimated, m.count(), g.totalCount())
	}
	m.insert(h(4))
	if !g.estimated {
		t.Fatal("the 4th distinct hash under limit 3 did not switch to estimates")
	}
	if got := m.count(); got != 4 {
		t.Fatalf("sketch seeded with the exact hashes estimates %d, want 4", got)
	}
}
