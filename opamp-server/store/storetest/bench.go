package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// BenchAgentWrites compares, side by side on one database, the ways an agent
// record reaches the store, per agent written:
//   - Each: one transaction with a change notification per agent (how
//     phoenix-server wrote every state change before batching);
//   - Batch500: 500 agents per transaction, one prepared statement, one
//     notification per 150 agents (the server's batched writer);
//   - Touch500: liveness only, 500 agents per transaction.
//
// A realistic record: labels, health, effective config of 4 KiB.
func BenchAgentWrites(b *testing.B, s store.Store) {
	ctx := context.Background()
	eff := make([]byte, 4096)
	for i := range eff {
		eff[i] = 'a' + byte(i%26)
	}
	const fleet = 2000
	agents := make([]store.Agent, fleet)
	uids := make([]string, fleet)
	for i := range agents {
		uids[i] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		agents[i] = store.Agent{InstanceUID: uids[i], HostName: fmt.Sprintf("host-%05d", i), ServerID: "a", Connected: true,
			Labels: map[string]string{"fleet": "bench", "env": "prod"}, Health: &store.Health{Healthy: true, Status: "running"},
			EffectiveConfig: string(eff), EffectiveConfigHash: "ab", RemoteStatus: store.RemoteApplied, LastSeen: time.Now()}
	}
	if err := s.UpsertAgents(ctx, agents, false); err != nil {
		b.Fatal(err)
	}
	// A subscriber that reads, as the server's is.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for range s.Subscribe(sctx) {
		}
	}()
	b.Run("Each", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if err := s.UpsertAgent(ctx, agents[i%fleet], true); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/agent")
	})
	b.Run("Batch500", func(b *testing.B) {
		i := 0
		n := 0
		for b.Loop() {
			lo := (i * 500) % fleet
			if err := s.UpsertAgents(ctx, agents[lo:lo+500], true); err != nil {
				b.Fatal(err)
			}
			i++
			n += 500
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/agent")
	})
	b.Run("Touch500", func(b *testing.B) {
		i := 0
		n := 0
		for b.Loop() {
			lo := (i * 500) % fleet
			if err := s.TouchAgents(ctx, uids[lo:lo+500], "a", time.Now()); err != nil {
				b.Fatal(err)
			}
			i++
			n += 500
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/agent")
	})
}
