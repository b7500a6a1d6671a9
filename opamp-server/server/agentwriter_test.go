package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// countingStore is the real SQLite store that also counts the batch writes.
type countingStore struct {
	store.Store
	mu      sync.Mutex
	batches []int
	touches []int
}

func (c *countingStore) UpsertAgents(ctx context.Context, a []store.Agent, notify bool) error {
	c.mu.Lock()
	c.batches = append(c.batches, len(a))
	c.mu.Unlock()
	return c.Store.UpsertAgents(ctx, a, notify)
}

func (c *countingStore) TouchAgents(ctx context.Context, uids []string, serverID string, at time.Time) error {
	c.mu.Lock()
	c.touches = append(c.touches, len(uids))
	c.mu.Unlock()
	return c.Store.TouchAgents(ctx, uids, serverID, at)
}

func testSessions(n int, at time.Time) []*session {
	out := make([]*session, n)
	for i := range out {
		uid := fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		out[i] = &session{uid: uid, agent: store.Agent{InstanceUID: uid, HostName: fmt.Sprintf("h%04d", i), Connected: true, ServerID: "a", LastSeen: at,
			FailedConfigs: map[string]store.FailedConfig{"x": {Error: "e"}}}}
	}
	return out
}

// Dirty sessions reach the store in batches of at most writeBatch, each
// once however often it was marked, announced when asked; liveness goes out
// as touches for the sessions not written meanwhile.
func TestAgentWriterBatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inner, err := sqlite.Open(ctx, t.TempDir(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	st := &countingStore{Store: inner}
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	sessions := testSessions(1200, t0)
	w := newAgentWriter(st, "a", slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour, time.Minute, func() []*session { return sessions })
	changes := inner.Subscribe(ctx)
	for round := range 3 {
		for i, s := range sessions {
			w.mark(s, i%2 == 0 || round == 2)
		}
	}
	w.flush(ctx)
	total := 0
	for _, n := range st.batches {
		if n > writeBatch {
			t.Fatalf("a batch of %d records (max %d)", n, writeBatch)
		}
		total += n
	}
	if total != 1200 || len(st.batches) != 3 {
		t.Fatalf("batches %v: want 1,200 records in 3 batches of at most 500", st.batches)
	}
	all, err := inner.ListAgents(ctx)
	if err != nil || len(all) != 1200 {
		t.Fatalf("stored %d agents, %v", len(all), err)
	}
	seen := map[string]bool{}
	for len(seen) < 1200 {
		select {
		case c := <-changes:
			seen[c.Key] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 1,200 agent changes announced", len(seen))
		}
	}
	w.flush(ctx)
	if len(st.batches) != 3 {
		t.Fatalf("a flush with nothing dirty wrote %v", st.batches[3:])
	}
	// Liveness: only sessions not written for the liveness interval.
	for _, s := range sessions[:700] {
		s.lastStored = time.Now().Add(-2 * time.Minute)
	}
	w.touch(ctx)
	if len(st.touches) != 2 || st.touches[0]+st.touches[1] != 700 {
		t.Fatalf("touches %v: want 700 agents", st.touches)
	}
	if a, _ := inner.GetAgent(ctx, sessions[0].uid); !a.LastSeen.After(t0) {
		t.Fatalf("liveness not written: %v", a.LastSeen)
	}
	if a, _ := inner.GetAgent(ctx, sessions[900].uid); !a.LastSeen.Equal(t0) {
		t.Fatalf("a session written recently was touched: %v", a.LastSeen)
	}
}

// The heartbeat path with its share of the database write, side by side:
//   - Batched: what phoenix-server does now: the heartbeat changes only
//     memory; liveness goes out in batches (here one touch of 500 agents per
//     500 heartbeats, i.e. every heartbeat pays a write: twice the real rate
//     of one write per agent per minute at a 30 s heartbeat);
//   - EachWrite: the former rule, a full-record upsert in its own
//     transaction for the heartbeats that wrote (57 % of them at 10,000
//     agents; here every one).
func BenchmarkHeartbeatWithWrite(b *testing.B) {
	for _, mode := range []string{"Batched", "EachWrite"} {
		b.Run(mode, func(b *testing.B) {
			s := benchServer(b)
			ctx := context.Background()
			const n = 500
			sessions := testSessions(n, time.Now())
			if err := s.store.UpsertAgents(ctx, func() []store.Agent {
				var out []store.Agent
				for _, x := range sessions {
					out = append(out, x.agent)
				}
				return out
			}(), false); err != nil {
				b.Fatal(err)
			}
			w := newAgentWriter(s.store, "a", s.log, time.Hour, time.Minute, func() []*session { return sessions })
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sess := sessions[i%n]
				sess.mu.Lock()
				sess.agent.LastSeen = time.Now()
				if mode == "EachWrite" {
					if err := s.store.UpsertAgent(ctx, sess.agent, false); err != nil {
						b.Fatal(err)
					}
				}
				sess.mu.Unlock()
				i++
				if mode == "Batched" && i%n == 0 {
					for _, x := range sessions {
						x.lastStored = time.Time{}
					}
					w.touch(ctx)
				}
			}
		})
	}
}
