package topkprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A group is pruned once it has been absent for more than prune_after x
// max(groups, its gap) batches: with 2 groups and prune_after 2, still there
// after 4 batches without it, gone after the 5th.
func TestGroupPrunedAfterExactly(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.PruneAfter = 2 }))
	h.run(scrape(10, pr{host: "gone", pid: 1, name: "a"}))
	for i := 0; i < 4; i++ {
		h.run(scrape(20+float64(i)*10, pr{host: "stays", pid: 1, name: "a"}))
	}
	if _, ok := h.p.groups["gone"]; !ok {
		t.Fatal("pruned after 4 batches without it, want after more than 2 x 2 groups")
	}
	h.run(scrape(60, pr{host: "stays", pid: 1, name: "a"}))
	if _, ok := h.p.groups["gone"]; ok {
		t.Fatal("still there after 5 batches without it")
	}
}

// The host of the previous process resource is remembered to skip the map
// lookup; when that host's group is pruned (batches without processes in
// between) it comes back as a new group, counted and tracked again.
func TestPrunedLastGroupComesBack(t *testing.T) {
	h := newHarness(t, testConfig(func(c *Config) { c.TopK = 1; c.PruneAfter = 1 }))
	h.run(scrape(10, pr{host: "h", pid: 1, name: "a"}, pr{host: "h", pid: 2, name: "b"}))
	for i := 0; i < 3; i++ {
		h.run(pmetric.NewMetrics()) // no process resource
	}
	if len(h.p.groups) != 0 || h.p.tracked != 0 {
		t.Fatalf("after 3 batches without h: %d groups, %d tracked, want 0, 0", len(h.p.groups), h.p.tracked)
	}
	h.run(scrape(50, pr{host: "h", pid: 1, name: "a"}, pr{host: "h", pid: 2, name: "b"}))
	if v := gaugeValue(t, h, telGroups); v != 1 {
		t.Fatalf("%s = %d after h came back, want 1", telGroups, v)
	}
	if h.p.tracked != 2 {
		t.Fatalf("tracked %d after h came back, want 2", h.p.tracked)
	}
}

// max_tracked_processes reached exactly (not only passed) is warned about,
// once, and again after the count fell below it.
func TestWarnsAtTheTrackedCap(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	set := processortest.NewNopSettings(componentType)
	set.Logger = zap.New(core)
	p, err := newProcessor(set, testConfig(func(c *Config) { c.TopK = 1; c.MaxTrackedProcesses = 2; c.PruneAfter = 1 }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.shutdown(context.Background()) }()
	warnings := func() int { return logs.FilterMessageSnippet("max_tracked_processes reached").Len() }
	run := func(md pmetric.Metrics) {
		t.Helper()
		if _, err := p.processMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	run(scrape(10, pr{pid: 1, name: "a"}))
	if n := warnings(); n != 0 {
		t.Fatalf("%d warnings with 1 of 2 tracked", n)
	}
	run(scrape(20, pr{pid: 1, name: "a"}, pr{pid: 2, name: "b"}))
	run(scrape(30, pr{pid: 1, name: "a"}, pr{pid: 2, name: "b"}))
	if n := warnings(); n != 1 {
		t.Fatalf("%d warnings with 2 of 2 tracked over two batches, want 1", n)
	}
	// b exits and is pruned: below the cap; at it again, warned again.
	for i := 0; i < 3; i++ {
		run(scrape(40+float64(i)*10, pr{pid: 1, name: "a"}))
	}
	if p.tracked != 1 {
		t.Fatalf("tracked %d after b was pruned, want 1", p.tracked)
	}
	run(scrape(70, pr{pid: 1, name: "a"}, pr{pid: 3, name: "c"}))
	if n := warnings(); n != 2 {
		t.Fatalf("%d warnings after the cap was reached a second time, want 2", n)
	}
}
