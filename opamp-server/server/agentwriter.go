package server

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Agent-record writes are batched. An OpAMP message never writes the store
// itself: it marks its session dirty, and the writer flushes every dirty
// session in one transaction (one prepared statement) each StateFlush.
// Liveness (last_seen) lives in memory and is written in one batch each
// LivenessFlush, for the agents that sent nothing else meanwhile.
//
// Bounded staleness, as a reader of the store (the REST API, another
// replica) sees it:
//   - state (description, health, remote config status, effective config,
//     desired and pushed hash, connected): at most StateFlush plus one batch
//     write behind the replica that holds the agent (default 250 ms);
//   - last_seen: at most LivenessFlush behind (default 60 s, and never more
//     than a third of AgentStaleAfter, so a polling agent is not marked
//     offline for want of a write).
//
// Writes that a caller must see at once (an operator's retry, a
// disconnect) go through flushNow.
const (
	defaultStateFlush    = 250 * time.Millisecond
	defaultLivenessFlush = time.Minute
	writeBatch           = 500
)

type agentWriter struct {
	st       store.Store
	serverID string
	log      *slog.Logger
	state    time.Duration
	liveness time.Duration
	sessions func() []*session

	flushMu sync.Mutex // one flush at a time: a reader waits for the one in progress
	mu      sync.Mutex
	dirty   map[*session]bool // value: announce the change
}

func newAgentWriter(st store.Store, serverID string, log *slog.Logger, state, liveness time.Duration, sessions func() []*session) *agentWriter {
	return &agentWriter{st: st, serverID: serverID, log: log, state: state, liveness: liveness, sessions: sessions,
		dirty: map[*session]bool{}}
}

// mark queues the session's record for the next batch; notify announces it
// (stream clients, other replicas). Called with sess.mu held or not.
func (w *agentWriter) mark(sess *session, notify bool) {
	w.mu.Lock()
	w.dirty[sess] = w.dirty[sess] || notify
	w.mu.Unlock()
}

// forget drops a queued write (the caller writes the record itself).
func (w *agentWriter) forget(sess *session) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.dirty[sess]
	delete(w.dirty, sess)
	return ok
}

// snapshot copies what a concurrent merge may change in place.
func snapshot(sess *session) store.Agent {
	a := sess.agent
	a.FailedConfigs = maps.Clone(a.FailedConfigs)
	return a
}

// run flushes state every StateFlush and liveness every LivenessFlush until
// ctx ends; then it flushes what is left.
func (w *agentWriter) run(ctx context.Context) {
	st := time.NewTicker(w.state)
	defer st.Stop()
	lt := time.NewTicker(w.liveness)
	defer lt.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			w.flush(fctx)
			cancel()
			return
		case <-st.C:
			w.flush(ctx)
		case <-lt.C:
			w.touch(ctx)
		}
	}
}

// flush writes every dirty session's record, in batches.
func (w *agentWriter) flush(ctx context.Context) {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	if len(w.dirty) == 0 {
		w.mu.Unlock()
		return
	}
	dirty := w.dirty
	w.dirty = make(map[*session]bool, len(dirty))
	w.mu.Unlock()
	now := time.Now()
	var loud, quiet []store.Agent
	for sess, notify := range dirty {
		sess.mu.Lock()
		a := snapshot(sess)
		sess.lastStored = now
		sess.mu.Unlock()
		if notify {
			loud = append(loud, a)
		} else {
			quiet = append(quiet, a)
		}
	}
	for _, b := range []struct {
		agents []store.Agent
		notify bool
	}{{loud, true}, {quiet, false}} {
		for i := 0; i < len(b.agents); i += writeBatch {
			chunk := b.agents[i:min(i+writeBatch, len(b.agents))]
			if err := w.st.UpsertAgents(ctx, chunk, b.notify); err != nil {
				w.log.Error("store agents", "agents", len(chunk), "err", err)
				// Keep them dirty: the next flush retries with the then
				// current records.
				for sess := range dirty {
					for _, a := range chunk {
						if a.InstanceUID == sess.uid {
							w.mark(sess, b.notify)
						}
					}
				}
			}
		}
	}
}

// touch writes last_seen for the sessions not written for LivenessFlush.
func (w *agentWriter) touch(ctx context.Context) {
	now := time.Now()
	var uids []string
	for _, sess := range w.sessions() {
		sess.mu.Lock()
		if sess.agent.Connected && now.Sub(sess.lastStored) >= w.liveness {
			uids = append(uids, sess.uid)
			sess.lastStored = now
		}
		sess.mu.Unlock()
	}
	for i := 0; i < len(uids); i += writeBatch {
		if err := w.st.TouchAgents(ctx, uids[i:min(i+writeBatch, len(uids))], w.serverID, now.UTC()); err != nil {
			w.log.Error("store agents' liveness", "agents", len(uids), "err", err)
		}
	}
}

// flushUID writes the queued record of one agent, if any (a read of that
// agent on this replica then sees this replica's latest state).
func (w *agentWriter) flushUID(ctx context.Context, uid string) error {
	w.mu.Lock()
	var sess *session
	var notify bool
	for s, n := range w.dirty {
		if s.uid == uid {
			sess, notify = s, n
			break
		}
	}
	w.mu.Unlock()
	if sess == nil {
		w.flushMu.Lock() // a flush in progress may be writing it
		w.flushMu.Unlock()
		return nil
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return w.flushNow(ctx, sess, notify)
}

// readYourWrites is the store as the REST layer and the deployment domain
// see it: reads of agents first flush what this replica has queued, so a
// caller on this replica never reads an older state than the replica holds.
// Other replicas see it within the writer's bounded staleness.
//
// Two reads take that bounded staleness instead of waiting for a flush:
// the overlap check of a deployment write, and the summary a write answers
// with (writeSummary). During a rollout the writer holds thousands of
// queued APPLYING/APPLIED records, and a flush first waits for the batch in
// progress; a deployment write need not wait for them. The overlap check
// reads host names and labels, which change only with an agent's
// description and are at that staleness for every other replica's agents
// anyway (an overlap it misses is resolved by Assign, oldest deployment
// first, and reported as a conflict); the summary is the hosts' state a
// moment after the write, when none has applied it yet. (Measured once at
// 3,000 agents on PostgreSQL, a change made mid-rollout was answered in
// 1.76 s before and 1.79 s after this: the flush was not its main cost,
// the read of every agent under a CPU-bound rollout was; see
// listAgentMatchKeys.)
type readYourWrites struct {
	store.Store
	w *agentWriter
}

type writeSummaryKey struct{}

// writeSummary marks ctx as the read of a write's answer (see readYourWrites).
func writeSummary(ctx context.Context) context.Context {
	return context.WithValue(ctx, writeSummaryKey{}, true)
}

func (r readYourWrites) flush(ctx context.Context) {
	if ctx.Value(writeSummaryKey{}) == nil {
		r.w.flush(ctx)
	}
}

func (r readYourWrites) GetAgent(ctx context.Context, uid string) (store.Agent, error) {
	if err := r.w.flushUID(ctx, uid); err != nil {
		return store.Agent{}, err
	}
	return r.Store.GetAgent(ctx, uid)
}

func (r readYourWrites) ListAgents(ctx context.Context) ([]store.Agent, error) {
	r.flush(ctx)
	return r.Store.ListAgents(ctx)
}

func (r readYourWrites) ListAgentRecords(ctx context.Context) ([]store.Agent, error) {
	r.flush(ctx)
	return r.Store.ListAgentRecords(ctx)
}

func (r readYourWrites) ListAgentsSeenBefore(ctx context.Context, t time.Time) ([]store.Agent, error) {
	r.flush(ctx)
	return r.Store.ListAgentsSeenBefore(ctx, t)
}

func (r readYourWrites) CreateDeployment(ctx context.Context, name string, spec store.DeploymentSpec, check store.ConflictCheck) (store.DeploymentVersion, error) {
	return r.Store.CreateDeployment(ctx, name, spec, check)
}

func (r readYourWrites) AddDeploymentVersion(ctx context.Context, name string, expect int, spec store.DeploymentSpec, rollbackOf int, check store.ConflictCheck) (store.DeploymentVersion, error) {
	return r.Store.AddDeploymentVersion(ctx, name, expect, spec, rollbackOf, check)
}

// flushNow writes one session at once (the caller holds sess.mu) and drops
// its queued write.
func (w *agentWriter) flushNow(ctx context.Context, sess *session, notify bool) error {
	w.forget(sess)
	sess.lastStored = time.Now()
	return w.st.UpsertAgent(ctx, snapshot(sess), notify)
}
