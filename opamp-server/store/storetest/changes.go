package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// pending is implemented by stores that can say how many changes their
// subscribers have not read yet.
type pending interface{ PendingChanges() int }

// testChangesNeverDropped: a subscriber that reads nothing while thousands
// of agent changes are written still gets every agent (coalesced, once per
// agent) and gets a deployment change written after them first. This is the
// rollout case: a deployment edited while 10,000 agents report status must
// not be lost or wait behind them. pub is the handle that writes, sub the one
// whose subscriber reads (the same handle, or another replica).
func testChangesNeverDropped(t *testing.T, pub, sub store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := sub.Subscribe(ctx)
	const agents = 5000 // several times the old 1,024-slot channel
	batch := make([]store.Agent, 0, 500)
	for i := range agents {
		batch = append(batch, store.Agent{InstanceUID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), HostName: fmt.Sprintf("h%d", i)})
		if len(batch) == cap(batch) {
			if err := pub.UpsertAgents(ctx, batch, true); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// The same agent written 200 times more is still one pending change.
	for range 200 {
		if err := pub.UpsertAgent(ctx, store.Agent{InstanceUID: "00000000-0000-0000-0000-000000000007", HostName: "h7"}, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.CreateDeployment(ctx, "mid-rollout", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	if p, ok := sub.(pending); ok {
		// Wait until the subscriber side holds everything (PostgreSQL
		// delivers through the listener), then check the coalescing.
		deadline := time.Now().Add(20 * time.Second)
		for p.PendingChanges() < agents && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := p.PendingChanges(); n > agents+2 {
			t.Fatalf("%d changes pending for %d agents and 1 deployment: repeated changes did not coalesce", n, agents)
		}
	}
	seen := map[string]int{}
	depAt := -1
	timeout := time.After(30 * time.Second)
	for i := 0; len(seen) < agents || depAt < 0; i++ {
		select {
		case c := <-ch:
			switch c.Kind {
			case store.ChangeAgent:
				seen[c.Key]++
			case store.ChangeDeployment:
				if c.Key == "mid-rollout" && depAt < 0 {
					depAt = i
				}
			}
		case <-timeout:
			t.Fatalf("after 30s: %d of %d agents and deployment at %d: changes were dropped", len(seen), agents, depAt)
		}
	}
	// At most the one change already in hand when it arrived goes first.
	if depAt > 1 {
		t.Fatalf("the deployment change came after %d agent changes; deployments go first", depAt)
	}
	if seen["00000000-0000-0000-0000-000000000007"] > 2 {
		t.Fatalf("agent 7 delivered %d times: its changes did not coalesce", seen["00000000-0000-0000-0000-000000000007"])
	}
}

func testChangesNeverDroppedOne(t *testing.T, f Factory) {
	s := openOne(t, f)
	testChangesNeverDropped(t, s, s)
}

func testChangesNeverDroppedReplicas(t *testing.T, f Factory) {
	open := f(t)
	a, b := open(t, "a"), open(t, "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	if _, ok := a.(interface{ SupportsReplicas() bool }); !ok {
		t.Skip("this store serves one process; replicas need PostgreSQL")
	}
	testChangesNeverDropped(t, a, b)
}

// testBatchedAgentWrites: UpsertAgents writes every record; TouchAgents only
// moves last_seen forward, only for the replica holding the agent.
func testBatchedAgentWrites(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var batch []store.Agent
	for i := range 300 {
		batch = append(batch, store.Agent{InstanceUID: fmt.Sprintf("u%03d", i), HostName: fmt.Sprintf("h%03d", i), ServerID: "a", Connected: true, LastSeen: t0,
			Labels: map[string]string{"i": fmt.Sprint(i)}})
	}
	if err := s.UpsertAgents(ctx, batch, false); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListAgents(ctx)
	if err != nil || len(all) != 300 || all[299].Labels["i"] != "299" || !all[5].Connected || all[5].ServerID != "a" || !all[5].LastSeen.Equal(t0) {
		t.Fatalf("after batch: %d agents, %v", len(all), err)
	}
	// The same agent twice in one batch: the later record wins.
	if err := s.UpsertAgents(ctx, []store.Agent{{InstanceUID: "dup", HostName: "first"}, {InstanceUID: "u001", HostName: "h001", ServerID: "a", Connected: true, LastSeen: t0}, {InstanceUID: "dup", HostName: "second"}}, true); err != nil {
		t.Fatal(err)
	}
	if a, err := s.GetAgent(ctx, "dup"); err != nil || a.HostName != "second" {
		t.Fatalf("duplicate in a batch: %+v %v", a, err)
	}
	if err := s.UpsertAgents(ctx, []store.Agent{{InstanceUID: "ok"}, {}}, false); err == nil {
		t.Fatal("a record without uid was accepted")
	}
	if _, err := s.GetAgent(ctx, "ok"); err == nil {
		t.Fatal("a refused batch was partly written")
	}
	// u000 moved to replica b meanwhile: a's touch must not claim it.
	moved := batch[0]
	moved.ServerID = "b"
	if err := s.UpsertAgent(ctx, moved, false); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Minute)
	if err := s.TouchAgents(ctx, []string{"u000", "u001", "missing"}, "a", t1); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.GetAgent(ctx, "u001"); !a.LastSeen.Equal(t1) {
		t.Fatalf("u001 last seen %v, want %v", a.LastSeen, t1)
	}
	if a, _ := s.GetAgent(ctx, "u000"); !a.LastSeen.Equal(t0) {
		t.Fatalf("u000 (held by b) touched by a: %v", a.LastSeen)
	}
	if err := s.TouchAgents(ctx, []string{"u001"}, "a", t0); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.GetAgent(ctx, "u001"); !a.LastSeen.Equal(t1) {
		t.Fatalf("touch moved last seen backwards: %v", a.LastSeen)
	}
	// A batch announces its agents, one change each and nothing more, also
	// when it is a whole number of notification chunks (sqlstore sends
	// 150 keys a notification); a later write's change comes after them.
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := s.Subscribe(sub)
	var chunks []store.Agent
	for i := range 300 {
		chunks = append(chunks, store.Agent{InstanceUID: fmt.Sprintf("c%03d", i), HostName: fmt.Sprintf("c%03d", i)})
	}
	if err := s.UpsertAgents(ctx, chunks, true); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertAgent(ctx, store.Agent{InstanceUID: "sentinel", HostName: "sentinel"}, true); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	waitChange(t, ch, func(c store.Change) bool {
		if c.Kind == store.ChangeAgent {
			if c.Key == "" || len(c.Keys) > 0 {
				t.Errorf("an agent change without its one key: %+v", c)
			}
			if strings.HasPrefix(c.Key, "c") { // not the earlier writes' (PostgreSQL delivers them late)
				seen[c.Key] = true
			}
		}
		return c.Key == "sentinel"
	})
	if len(seen) != 300 {
		t.Errorf("%d agents announced before the next write, want the batch's 300", len(seen))
	}
}

// testGeneration: every deployment write increments the generation, agent
// writes and refused writes do not.
func testGeneration(t *testing.T, f Factory) {
	ctx := context.Background()
	s := openOne(t, f)
	gen := func() int64 {
		g, err := s.DeploymentsGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g0 := gen()
	if _, err := s.CreateDeployment(ctx, "web", spec("t", "h1"), nil); err != nil {
		t.Fatal(err)
	}
	g1 := gen()
	if g1 <= g0 {
		t.Fatalf("create: generation %d -> %d", g0, g1)
	}
	if err := s.UpsertAgent(ctx, store.Agent{InstanceUID: "x"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDeploymentVersion(ctx, "web", 5, spec("t", "h1"), 0, nil); err == nil {
		t.Fatal("stale version accepted")
	}
	if g := gen(); g != g1 {
		t.Fatalf("agent write or refused write moved the generation %d -> %d", g1, g)
	}
	if _, err := s.AddDeploymentVersion(ctx, "web", 1, spec("t", "h2"), 0, nil); err != nil {
		t.Fatal(err)
	}
	g2 := gen()
	if err := s.DeleteDeployment(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if g3 := gen(); !(g1 < g2 && g2 < g3) {
		t.Fatalf("generations %d, %d, %d: want increasing", g1, g2, g3)
	}
}
