package server

import (
	"context"
	"errors"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// DefaultAgentRetention is how long an offline agent's record is kept before
// it is pruned (Config.AgentRetention, --agent-retention).
const DefaultAgentRetention = 7 * 24 * time.Hour

// staleLoop ends idle polling sessions, marks stale records offline and
// prunes old ones, every quarter of AgentStaleAfter (at most every 15s).
func (f *fleet) staleLoop(ctx context.Context) {
	every := min(f.s.cfg.AgentStaleAfter/4, 15*time.Second)
	t := time.NewTicker(max(every, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f.sweepStale(ctx, now)
		}
	}
}

// sweepStale keeps the registry honest about agents that went away without
// saying so:
//   - a plain-HTTP polling agent that has not polled within AgentStaleAfter
//     loses its session on this replica and is written disconnected (a
//     WebSocket ends its session itself, on close);
//   - any connected polling record not heard from within AgentStaleAfter
//     plus a liveness flush (its replica died) is marked offline, so an old
//     instance uid never reads "connected" beside the live agent of its host;
//   - an offline record older than AgentRetention is deleted.
func (f *fleet) sweepStale(ctx context.Context, now time.Time) {
	stale := f.s.cfg.AgentStaleAfter
	f.mu.Lock()
	list := make([]*session, 0, len(f.sessions))
	for _, s := range f.sessions {
		list = append(list, s)
	}
	f.mu.Unlock()
	for _, sess := range list {
		sess.mu.Lock()
		idle := sess.conn == nil && !sess.agent.LastSeen.IsZero() && now.Sub(sess.agent.LastSeen) > stale
		if idle {
			sess.agent.Connected = false
			f.storeNow(ctx, sess, true)
			f.s.log.Info("polling agent went stale: session ended, marked offline", "agent", sess.uid, "host", sess.agent.HostName, "last_seen", sess.agent.LastSeen)
		}
		sess.mu.Unlock()
		if idle {
			f.mu.Lock()
			if f.sessions[sess.uid] == sess {
				delete(f.sessions, sess.uid)
			}
			f.mu.Unlock()
		}
	}

	// Only records older than the nearer of the two limits can be acted on:
	// a healthy fleet's sweep reads no row (before, it read and decoded
	// every agent with its effective config: 64% of an idle server's CPU at
	// 10,000 agents, benchmarks/README.md).
	retention := f.s.cfg.AgentRetention
	limit := stale + f.s.cfg.AgentLivenessFlush
	if retention > 0 {
		limit = min(limit, retention)
	}
	agents, err := f.s.store.ListAgentsSeenBefore(ctx, now.Add(-limit))
	if err != nil {
		f.s.log.Warn("stale sweep: list agents", "err", err)
		return
	}
	for _, a := range agents {
		switch {
		case a.Connected && a.Transport == "http" && now.Sub(a.LastSeen) > stale+f.s.cfg.AgentLivenessFlush && !f.holds(a.InstanceUID):
			if err := f.s.store.MarkDisconnected(ctx, a.InstanceUID, a.ServerID, a.LastSeen); err != nil {
				f.s.log.Warn("stale sweep: mark offline", "agent", a.InstanceUID, "err", err)
			}
		case !a.Connected && retention > 0 && now.Sub(a.LastSeen) > retention:
			if err := f.s.store.DeleteAgent(ctx, a.InstanceUID); err != nil && !isNotFound(err) {
				f.s.log.Warn("stale sweep: prune", "agent", a.InstanceUID, "err", err)
				continue
			}
			f.s.log.Info("pruned an offline agent past the retention", "agent", a.InstanceUID, "host", a.HostName, "last_seen", a.LastSeen, "retention", retention)
		}
	}
}

// holds reports whether this replica has a session for the agent.
func (f *fleet) holds(uid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.sessions[uid]
	return ok
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
