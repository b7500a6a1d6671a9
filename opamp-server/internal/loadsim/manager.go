package loadsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// Capability and the message types of the agent's OpAMP custom capability
// for real-process load, declared once in package api.
const (
	Capability = api.LoadSimCapability
	MsgStart   = api.LoadSimStart
	MsgStop    = api.LoadSimStop
	MsgStatus  = api.LoadSimStatus
)

// Agents is the agent registry (phoenix-server's store.Store).
type Agents interface {
	ListAgents(ctx context.Context) ([]store.Agent, error)
}

// Sender sends a custom message to an agent connected to this server
// replica. It returns an error wrapping ErrNotConnected when the agent's
// connection is not here (another replica holds it, or it is offline).
type Sender interface {
	SendCustomMessage(ctx context.Context, agentUID string, msg *protobufs.CustomMessage) error
}

// ErrNotConnected: the agent's connection is not on this replica.
var ErrNotConnected = errors.New("agent not connected to this server")

// ConflictError refuses a job on a host that already runs one, or a process
// job on an offline host; the API answers 409.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// NotFoundError is an unknown job or host; the API answers 404.
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, store.ErrNotFound) true.
func (e *NotFoundError) Unwrap() error { return store.ErrNotFound }

// Config wires a Manager into the server.
type Config struct {
	Store  Store
	Agents Agents
	// Sender delivers process jobs; nil refuses process mode.
	Sender Sender
	// DesiredChanged is called after a synthetic job changed what a host
	// should run: the server recomputes that host's desired config (which
	// calls Overlay) and pushes it.
	DesiredChanged func(ctx context.Context, host string)
	// Publish announces every job change (the event stream); may be nil.
	Publish func(Job)
	Logger  *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Changes are the store's change notifications: a job, agent or
	// deployment write (on any replica) wakes the loop at once. Without
	// them the loop only wakes on its own deadlines and every PollInterval.
	Changes <-chan store.Change
	// PollInterval is the safety net of the loop when nothing is due
	// (default 30s); deadlines (a job's end, a resend, a refresh) and
	// change notifications wake it sooner.
	PollInterval time.Duration
	// ResendAfter is how long a delivered start or stop may go unanswered
	// before the server asks the agent again (default 15s).
	ResendAfter time.Duration
	// RefreshEvery is how often a running process job asks its agent for
	// fresh counters (the agent reports on its own only when the state
	// changes; default 10s).
	RefreshEvery time.Duration
}

// Manager runs load simulation jobs. Every server replica runs one over the
// shared store; the replica holding an agent's OpAMP connection is the one
// that talks to that agent.
type Manager struct {
	cfg Config
	log *slog.Logger

	kick chan struct{}
	// inbox serialises what the OpAMP handler hands over (Receive,
	// Connected): it runs on the Run goroutine, in arrival order, outside
	// the handler's locks.
	inbox chan func(context.Context)

	mu sync.Mutex
	// synthetic is the active synthetic job of each host.
	synthetic map[string]Job
	// renders caches Overlay's output by job and base config hash.
	renders map[renderKey]*pipelines.Rendered
	// hashes is the config hash Overlay last produced for a job, and
	// renderErr why it could not, until the loop records them.
	hashes    map[string]string
	renderErr map[string]string
	// published is the last revision of each active job announced from
	// this replica, so that writes of other replicas are announced too.
	published map[string]int
	// asked is when this replica last asked a running job's agent for its
	// counters (memory only: a lost entry costs one extra question).
	asked map[string]time.Time
}

// New returns a Manager.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = 15 * time.Second
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 10 * time.Second
	}
	return &Manager{cfg: cfg, log: cfg.Logger.With("component", "loadsim"), kick: make(chan struct{}, 1), inbox: make(chan func(context.Context), 1024),
		synthetic: map[string]Job{}, renders: map[renderKey]*pipelines.Rendered{}, hashes: map[string]string{}, renderErr: map[string]string{}, published: map[string]int{}, asked: map[string]time.Time{}}
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC() }

func newID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "ls-" + hex.EncodeToString(b[:])
}

// Create validates a request and stores a new pending job.
func (m *Manager) Create(ctx context.Context, req Request) (Job, error) {
	if _, err := Check(&req); err != nil {
		return Job{}, err
	}
	if req.Mode == Process && m.cfg.Sender == nil {
		return Job{}, bad("mode", "process mode is not available on this server")
	}
	agent, err := m.agentFor(ctx, req.TargetHost)
	if err != nil {
		return Job{}, err
	}
	if req.Mode == Process && !agent.Connected {
		return Job{}, &ConflictError{Msg: fmt.Sprintf("the agent of host %q is offline (last seen %s): a process load simulation needs it connected", req.TargetHost, agent.LastSeen.UTC().Format(time.RFC3339))}
	}
	active, err := m.cfg.Store.ListJobs(ctx, true)
	if err != nil {
		return Job{}, err
	}
	for _, j := range active {
		if j.TargetHost == req.TargetHost {
			return Job{}, &ConflictError{Msg: fmt.Sprintf("host %q already runs load simulation %s (%s, %s): stop it first with `phoenix loadsim stop %s`", req.TargetHost, j.ID, j.Mode, j.Status, j.ID)}
		}
	}
	now := m.now()
	j := Job{ID: newID(), JobRequest: req, Status: Pending, AgentUID: agent.InstanceUID, CreatedAt: now, UpdatedAt: now}
	if err := m.cfg.Store.PutJob(ctx, j, 0); err != nil {
		return Job{}, err
	}
	j.Revision = 1
	m.noteWrite(j)
	m.log.Info("load simulation created", "job", j.ID, "host", j.TargetHost, "mode", j.Mode, "profile", j.Profile)
	m.publish(j)
	if j.Mode == Synthetic {
		m.desiredChanged(ctx, j.TargetHost)
	} else {
		m.deliver(ctx, j)
	}
	m.Kick()
	return m.cfg.Store.GetJob(ctx, j.ID)
}

// agentFor finds the agent of a host name: a connected one first, else the
// most recently seen.
func (m *Manager) agentFor(ctx context.Context, host string) (store.Agent, error) {
	agents, err := m.cfg.Agents.ListAgents(ctx)
	if err != nil {
		return store.Agent{}, err
	}
	var found []store.Agent
	var known []string
	for _, a := range agents {
		if a.HostName == host {
			found = append(found, a)
		}
		known = append(known, a.HostName)
	}
	if len(found) == 0 {
		sort.Strings(known)
		known = slices.Compact(known)
		k := "none"
		if len(known) > 0 {
			k = strings.Join(known, ", ")
		}
		return store.Agent{}, &NotFoundError{Msg: fmt.Sprintf("no agent has host name %q (known hosts: %s)", host, k)}
	}
	sort.SliceStable(found, func(a, b int) bool {
		if found[a].Connected != found[b].Connected {
			return found[a].Connected
		}
		return found[a].LastSeen.After(found[b].LastSeen)
	})
	return found[0], nil
}

// Get returns a job.
func (m *Manager) Get(ctx context.Context, id string) (Job, error) {
	j, err := m.cfg.Store.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Job{}, &NotFoundError{Msg: fmt.Sprintf("no load simulation job %q (list them with GET /api/v1/loadsim/jobs)", id)}
	}
	return j, err
}

// Filter selects jobs in List.
type Filter struct {
	Status     Status
	TargetHost string
	ActiveOnly bool
}

// List returns jobs, newest first.
func (m *Manager) List(ctx context.Context, f Filter) ([]Job, error) {
	if f.Status != "" && !slices.Contains(Statuses(), f.Status) {
		return nil, bad("status", "%q is not a status (one of %s)", f.Status, joinStatuses())
	}
	js, err := m.cfg.Store.ListJobs(ctx, f.ActiveOnly)
	if err != nil {
		return nil, err
	}
	out := js[:0]
	for _, j := range js {
		if (f.Status == "" || j.Status == f.Status) && (f.TargetHost == "" || j.TargetHost == f.TargetHost) {
			out = append(out, j)
		}
	}
	return out, nil
}

func joinStatuses() string {
	var s []string
	for _, st := range Statuses() {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// Stop stops a job. Stopping a job that already ended returns it unchanged.
// A synthetic job stops at once (the receiver leaves the host's config); a
// process job is stopped once its agent confirms.
func (m *Manager) Stop(ctx context.Context, id string) (Job, error) {
	j, err := m.update(ctx, id, func(j *Job) bool {
		if !j.Active() || j.StopRequested {
			return false
		}
		if j.Mode == Synthetic {
			j.Status = Stopped
			j.EndedAt = m.now()
			return true
		}
		if j.Delivered.IsZero() {
			// The agent never got the start: nothing runs there.
			j.Status = Stopped
			j.EndedAt = m.now()
			return true
		}
		j.StopRequested = true
		return true
	})
	if err != nil {
		return Job{}, err
	}
	if j.Mode == Synthetic {
		m.desiredChanged(ctx, j.TargetHost)
	} else if j.StopRequested && j.Active() {
		m.deliver(ctx, j)
		m.Kick()
		return m.Get(ctx, j.ID)
	}
	m.Kick()
	return j, nil
}

// update applies f to the stored job with compare-and-set retries; f
// returns false to leave the job unchanged.
func (m *Manager) update(ctx context.Context, id string, f func(*Job) bool) (Job, error) {
	for attempt := 0; ; attempt++ {
		j, err := m.Get(ctx, id)
		if err != nil {
			return Job{}, err
		}
		prev := j.Revision
		if !f(&j) {
			return j, nil
		}
		j.UpdatedAt = m.now()
		err = m.cfg.Store.PutJob(ctx, j, prev)
		if err == nil {
			j.Revision = prev + 1
			m.noteWrite(j)
			m.publish(j)
			return j, nil
		}
		if !errors.Is(err, ErrRevision) || attempt >= 10 {
			return Job{}, err
		}
	}
}

func (m *Manager) publish(j Job) {
	m.mu.Lock()
	if j.Active() {
		m.published[j.ID] = max(m.published[j.ID], j.Revision)
	} else {
		delete(m.published, j.ID)
	}
	m.mu.Unlock()
	if m.cfg.Publish != nil {
		m.cfg.Publish(j)
	}
}

// publishOthers announces the writes other replicas made: active jobs at a
// newer revision, and jobs that have left the active set.
func (m *Manager) publishOthers(ctx context.Context, active []Job) {
	if m.cfg.Publish == nil {
		return
	}
	m.mu.Lock()
	var newer []Job
	gone := map[string]bool{}
	for id := range m.published {
		gone[id] = true
	}
	for _, j := range active {
		delete(gone, j.ID)
		if rev, ok := m.published[j.ID]; !ok || j.Revision > rev {
			newer = append(newer, j)
		}
	}
	m.mu.Unlock()
	for _, j := range newer {
		m.publish(j)
	}
	for id := range gone {
		if j, err := m.cfg.Store.GetJob(ctx, id); err == nil {
			m.publish(j)
		} else {
			m.mu.Lock()
			delete(m.published, id)
			m.mu.Unlock()
		}
	}
}

func (m *Manager) desiredChanged(ctx context.Context, host string) {
	if m.cfg.DesiredChanged != nil {
		m.cfg.DesiredChanged(ctx, host)
	}
}

// Kick makes the reconciliation loop run now.
func (m *Manager) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Overlay is the load-simulation part of a host's desired state: when a
// synthetic job is active on host, it returns base with the loadgen receiver
// added to every metrics pipeline (or, when the host has no deployment and
// base is nil, the baseline template fed by loadgen alone and exporting
// nowhere, so that its cardinality figures still reach the server). Without
// a synthetic job it returns base (nil stays nil).
//
// It reads this replica's view of the active jobs (refreshed by every job
// write here and by the reconciliation loop) and caches its renders: the
// server computes desired state on every agent message.
func (m *Manager) Overlay(host string, base *pipelines.Rendered) *pipelines.Rendered {
	m.mu.Lock()
	job, ok := m.synthetic[host]
	m.mu.Unlock()
	if !ok {
		return base
	}
	key := renderKey{job: job.ID}
	if base != nil {
		key.base = base.SHA256
	}
	m.mu.Lock()
	cached, hit := m.renders[key]
	m.mu.Unlock()
	if hit {
		return cached
	}
	sim := LoadSimOf(job)
	var (
		r   pipelines.Rendered
		err error
	)
	if base == nil {
		r, err = pipelines.Render(pipelines.Spec{
			Template:    pipelines.TemplateBaseline,
			Destination: pipelines.Destination{Type: pipelines.DestNone},
			Input:       pipelines.Input{Mode: pipelines.InputLoadGen, LoadGen: &sim},
		}, pipelines.Context{HostName: host})
	} else {
		r, err = pipelines.WithLoadSim(*base, sim)
	}
	if err != nil {
		// The job fails (by the reconciliation loop); the host keeps its
		// deployment meanwhile.
		m.mu.Lock()
		m.renderErr[job.ID] = fmt.Sprintf("the load simulation does not fit into the config of host %s: %v", host, err)
		m.mu.Unlock()
		m.Kick()
		return base
	}
	m.mu.Lock()
	if len(m.renders) > 1024 {
		clear(m.renders)
	}
	m.renders[key] = &r
	m.hashes[job.ID] = r.SHA256
	m.mu.Unlock()
	m.Kick()
	return &r
}

// renderKey identifies an Overlay result: the job and the base config.
type renderKey struct{ job, base string }

// refresh replaces this replica's view of the active synthetic jobs and
// returns the hosts whose job changed (another replica wrote it): their
// desired config changes.
func (m *Manager) refresh(active []Job) []string {
	next := map[string]Job{}
	for _, j := range active {
		if j.Mode == Synthetic && j.Active() {
			next[j.TargetHost] = j
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var changed []string
	for host, j := range next {
		if cur, ok := m.synthetic[host]; !ok || cur.ID != j.ID {
			changed = append(changed, host)
		}
	}
	for host, cur := range m.synthetic {
		if j, ok := next[host]; !ok || j.ID != cur.ID {
			if !ok {
				changed = append(changed, host)
			}
		}
	}
	ids := map[string]bool{}
	for _, j := range next {
		ids[j.ID] = true
	}
	for id := range m.hashes {
		if !ids[id] {
			delete(m.hashes, id)
		}
	}
	for id := range m.renderErr {
		if !ids[id] {
			delete(m.renderErr, id)
		}
	}
	m.synthetic = next
	sort.Strings(changed)
	return changed
}

// noteWrite updates the view after a write of this replica, so that the
// desired state computed right after sees it.
func (m *Manager) noteWrite(j Job) {
	if j.Mode != Synthetic {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if j.Active() {
		m.synthetic[j.TargetHost] = j
	} else if cur, ok := m.synthetic[j.TargetHost]; ok && cur.ID == j.ID {
		delete(m.synthetic, j.TargetHost)
	}
}

// LoadSim is the job as the catalog's loadgen receiver settings.
func LoadSimOf(j Job) pipelines.LoadSim {
	sim := pipelines.LoadSim{
		Profile:      j.Profile,
		ProcessCount: j.ProcessCount,
		ChurnRate:    j.ChurnRate,
		Duration:     time.Duration(j.Duration),
		Seed:         j.Seed,
	}
	if j.Profile == "custom" {
		sim.ProfileFile = j.ProfilePath
	}
	return sim
}

func (m *Manager) fail(ctx context.Context, id, msg string) {
	j, err := m.update(ctx, id, func(j *Job) bool {
		if !j.Active() {
			return false
		}
		j.Status, j.Error, j.EndedAt = Failed, msg, m.now()
		return true
	})
	if err != nil {
		m.log.Warn("failing load simulation", "job", id, "err", err)
		return
	}
	m.log.Warn("load simulation failed", "job", id, "host", j.TargetHost, "error", msg)
}

// deliver hands a process job's pending start or stop to its agent when its
// connection is on this replica.
func (m *Manager) deliver(ctx context.Context, j Job) {
	if m.cfg.Sender == nil || j.Mode != Process || !j.Active() {
		return
	}
	var (
		typ  string
		body []byte
	)
	switch {
	case j.StopRequested && j.StopDelivered.IsZero():
		typ = MsgStop
	case !j.StopRequested && j.Status == Pending && j.Delivered.IsZero():
		typ = MsgStart
		req := api.LoadSimRequest{Profile: j.Profile, ProcessCount: j.ProcessCount, ChurnRate: j.ChurnRate, Seed: j.Seed}
		if j.Duration > 0 {
			req.Duration = time.Duration(j.Duration).String()
		}
		if j.Profile == "custom" {
			req.ProfileYAML = j.ProfileYAML
		}
		body, _ = json.Marshal(req)
	default:
		return
	}
	err := m.cfg.Sender.SendCustomMessage(ctx, j.AgentUID, &protobufs.CustomMessage{Capability: Capability, Type: typ, Data: body})
	if errors.Is(err, ErrNotConnected) {
		return // another replica holds the connection, or the agent comes back later
	}
	if err != nil {
		m.fail(ctx, j.ID, fmt.Sprintf("sending %s to the agent of host %s: %v", typ, j.TargetHost, err))
		return
	}
	if _, err := m.update(ctx, j.ID, func(cur *Job) bool {
		if typ == MsgStart && cur.Delivered.IsZero() {
			cur.Delivered = m.now()
			return true
		}
		if typ == MsgStop && cur.StopDelivered.IsZero() {
			cur.StopDelivered = m.now()
			return true
		}
		return false
	}); err != nil {
		m.log.Warn("recording delivery", "job", j.ID, "err", err)
	}
	m.log.Info("load simulation message sent", "job", j.ID, "type", typ, "agent", j.AgentUID)
}

// HandleCustomMessage takes an agent's custom message; it returns false when
// the message is not for this capability. The server's OpAMP handler calls
// it for every CustomMessage an agent sends.
func (m *Manager) HandleCustomMessage(ctx context.Context, agentUID string, msg *protobufs.CustomMessage) bool {
	if msg == nil || msg.Capability != Capability {
		return false
	}
	if msg.Type != MsgStatus {
		m.log.Warn("unexpected load simulation message from agent", "agent", agentUID, "type", msg.Type)
		return true
	}
	var st api.LoadSimState
	if err := json.Unmarshal(msg.Data, &st); err != nil {
		m.log.Warn("bad load simulation status from agent", "agent", agentUID, "err", err)
		return true
	}
	js, err := m.cfg.Store.ListJobs(ctx, true)
	if err != nil {
		m.log.Warn("listing load simulations", "err", err)
		return true
	}
	for _, j := range js {
		if j.Mode != Process || j.AgentUID != agentUID {
			continue
		}
		m.applyAgentState(ctx, j, st)
	}
	return true
}

func (m *Manager) applyAgentState(ctx context.Context, j Job, st api.LoadSimState) {
	var resend bool
	j, err := m.update(ctx, j.ID, func(j *Job) bool {
		if !j.Active() {
			return false
		}
		before := *j
		switch st.State {
		case "running":
			// A run that began before our start was delivered is not ours.
			if !j.Delivered.IsZero() && !st.StartedAt.IsZero() && st.StartedAt.Before(j.Delivered.Add(-5*time.Second)) && j.Status == Pending {
				return false
			}
			j.Status = Running
			if j.StartedAt.IsZero() {
				j.StartedAt = st.StartedAt
				if j.StartedAt.IsZero() {
					j.StartedAt = m.now()
				}
			}
			j.TargetProcesses, j.Live, j.Started, j.Exited = st.Target, st.Live, st.Started, st.Exited
			j.Error = st.Error
			if j.StopRequested && !j.StopDelivered.IsZero() && m.now().Sub(j.StopDelivered) > m.cfg.ResendAfter {
				// Still running long after our stop: the stop was lost.
				j.StopDelivered = time.Time{}
				resend = true
			}
		case "stopped":
			if j.Status == Pending {
				// The end of an earlier run, reported before ours started.
				if j.Delivered.IsZero() || st.EndedAt.Before(j.Delivered) {
					return false
				}
			}
			j.Live, j.Started, j.Exited = st.Live, st.Started, st.Exited
			if j.StopRequested {
				j.Status = Stopped
			} else {
				j.Status = Finished
			}
			j.EndedAt = st.EndedAt
			if j.EndedAt.IsZero() {
				j.EndedAt = m.now()
			}
		case "failed":
			if j.Delivered.IsZero() {
				return false
			}
			j.Status, j.Error, j.EndedAt = Failed, "the agent refused the load simulation: "+st.Error, m.now()
		case "idle":
			switch {
			case j.Status == Running:
				j.Status, j.EndedAt = Failed, m.now()
				j.Error = "the agent restarted: its load processes ended with it"
			case j.StopRequested:
				j.Status, j.EndedAt = Stopped, m.now()
			case !j.Delivered.IsZero():
				// The agent never saw our start (it restarted): send it again.
				j.Delivered = time.Time{}
				resend = true
			default:
				return false
			}
		default:
			return false
		}
		return *j != before
	})
	if err != nil {
		m.log.Warn("updating load simulation from agent status", "job", j.ID, "err", err)
		return
	}
	if resend {
		m.deliver(ctx, j)
	}
}

// refreshCounters asks the agent of a running process job for its status
// every RefreshEvery, so that the live process count stays current.
func (m *Manager) refreshCounters(ctx context.Context, j Job, now time.Time) {
	if j.Status != Running || j.StopRequested {
		return
	}
	m.mu.Lock()
	last := m.asked[j.ID]
	if j.UpdatedAt.After(last) {
		last = j.UpdatedAt
	}
	due := now.Sub(last) >= m.cfg.RefreshEvery
	if due {
		m.asked[j.ID] = now
	}
	if len(m.asked) > 4096 {
		clear(m.asked)
	}
	m.mu.Unlock()
	if due {
		// Only the replica holding the agent's connection gets through.
		_ = m.cfg.Sender.SendCustomMessage(ctx, j.AgentUID, &protobufs.CustomMessage{Capability: Capability, Type: MsgStatus})
	}
}

// Receive queues an agent's custom message for the Run loop and reports
// whether it belongs to this capability. The server's OpAMP handler calls it
// for every CustomMessage; it never blocks.
func (m *Manager) Receive(agentUID string, msg *protobufs.CustomMessage) bool {
	if msg == nil || msg.Capability != Capability {
		return false
	}
	m.enqueue(func(ctx context.Context) { m.HandleCustomMessage(ctx, agentUID, msg) })
	return true
}

// Connected queues AgentConnected for the Run loop; it never blocks.
func (m *Manager) Connected(agentUID string) {
	m.enqueue(func(ctx context.Context) { m.AgentConnected(ctx, agentUID) })
}

func (m *Manager) enqueue(f func(context.Context)) {
	select {
	case m.inbox <- f:
	default:
		// Full: the agent reports again and the loop asks for the status
		// of jobs that go unanswered.
		m.log.Warn("load simulation inbox full; dropping an agent message")
	}
}

// AgentConnected is called when an agent (re)connects to this replica: its
// pending starts and stops are delivered, and a running job asks for the
// agent's status (it may have restarted meanwhile).
func (m *Manager) AgentConnected(ctx context.Context, agentUID string) {
	if m.cfg.Sender == nil {
		return
	}
	js, err := m.cfg.Store.ListJobs(ctx, true)
	if err != nil {
		return
	}
	for _, j := range js {
		if j.Mode != Process || j.AgentUID != agentUID {
			continue
		}
		if j.Status == Running || !j.Delivered.IsZero() {
			_ = m.cfg.Sender.SendCustomMessage(ctx, agentUID, &protobufs.CustomMessage{Capability: Capability, Type: MsgStatus})
		}
		m.deliver(ctx, j)
	}
}

// Run reconciles jobs until ctx ends: synthetic jobs become running when
// their host applies the config that carries them and finished when their
// duration has elapsed; process jobs get their start and stop delivered by
// the replica that holds the agent's connection, and are asked again when
// the agent does not answer.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	changes := m.cfg.Changes
	for {
		m.reconcile(ctx)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(m.nextWake(ctx))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		case f := <-m.inbox:
			f(ctx)
		case c, ok := <-changes:
			if !ok {
				changes = nil
			}
			_ = c // any job, agent or deployment change may move a job
		}
	}
}

// nextWake is how long the loop may sleep: until the first active job's
// end, resend or refresh is due, and at most PollInterval.
func (m *Manager) nextWake(ctx context.Context) time.Duration {
	wake := m.cfg.PollInterval
	js, err := m.cfg.Store.ListJobs(ctx, true)
	if err != nil {
		return time.Second
	}
	now := m.now()
	for _, j := range js {
		due := m.cfg.ResendAfter
		if j.Status == Running {
			due = min(due, m.cfg.RefreshEvery)
			if j.Duration > 0 && !j.StartedAt.IsZero() {
				due = min(due, j.StartedAt.Add(time.Duration(j.Duration)).Sub(now))
			}
		}
		wake = min(wake, max(due, 10*time.Millisecond))
	}
	return wake
}

func (m *Manager) reconcile(ctx context.Context) {
	js, err := m.cfg.Store.ListJobs(ctx, true)
	if err != nil {
		m.log.Warn("listing load simulations", "err", err)
		return
	}
	for _, host := range m.refresh(js) {
		m.desiredChanged(ctx, host)
	}
	m.publishOthers(ctx, js)
	if len(js) == 0 {
		return
	}
	var agents []store.Agent
	for _, j := range js {
		if j.Mode == Synthetic && agents == nil {
			if agents, err = m.cfg.Agents.ListAgents(ctx); err != nil {
				return
			}
		}
		switch j.Mode {
		case Synthetic:
			m.reconcileSynthetic(ctx, j, agents)
		case Process:
			m.reconcileProcess(ctx, j)
		}
	}
}

func (m *Manager) reconcileSynthetic(ctx context.Context, j Job, agents []store.Agent) {
	now := m.now()
	m.mu.Lock()
	hash, renderErr := m.hashes[j.ID], m.renderErr[j.ID]
	m.mu.Unlock()
	if renderErr != "" {
		m.fail(ctx, j.ID, renderErr)
		m.desiredChanged(ctx, j.TargetHost)
		return
	}
	if hash != "" && hash != j.ConfigHash {
		// Record the config that carries the load (this replica computed it).
		if nj, err := m.update(ctx, j.ID, func(cur *Job) bool {
			if cur.ConfigHash == hash {
				return false
			}
			cur.ConfigHash = hash
			return true
		}); err == nil {
			j = nj
		}
	}
	if j.Status == Running && j.Duration > 0 && !now.Before(j.StartedAt.Add(time.Duration(j.Duration))) {
		if _, err := m.update(ctx, j.ID, func(j *Job) bool {
			if j.Status != Running {
				return false
			}
			j.Status, j.EndedAt = Finished, j.StartedAt.Add(time.Duration(j.Duration))
			return true
		}); err == nil {
			m.log.Info("load simulation finished", "job", j.ID, "host", j.TargetHost)
			m.desiredChanged(ctx, j.TargetHost)
		}
		return
	}
	if j.Status != Pending || j.ConfigHash == "" {
		return
	}
	for _, a := range agents {
		if a.InstanceUID != j.AgentUID && a.HostName != j.TargetHost {
			continue
		}
		if a.RemoteHash != j.ConfigHash {
			continue
		}
		switch a.RemoteStatus {
		case store.RemoteApplied:
			_, _ = m.update(ctx, j.ID, func(j *Job) bool {
				if j.Status != Pending {
					return false
				}
				j.Status, j.StartedAt, j.AgentUID = Running, now, a.InstanceUID
				return true
			})
			m.log.Info("load simulation running", "job", j.ID, "host", j.TargetHost)
		case store.RemoteFailed:
			m.fail(ctx, j.ID, "the agent could not apply the config with the load simulation: "+a.RemoteError)
			m.desiredChanged(ctx, j.TargetHost)
		}
		return
	}
}

func (m *Manager) reconcileProcess(ctx context.Context, j Job) {
	now := m.now()
	sent := j.Delivered
	if j.StopRequested {
		sent = j.StopDelivered
	}
	waiting := (j.StopRequested || j.Status == Pending) && !sent.IsZero()
	last := sent
	if j.AskedAt.After(last) {
		last = j.AskedAt
	}
	if !waiting {
		m.deliver(ctx, j)
		m.refreshCounters(ctx, j, now)
		return
	}
	if now.Sub(last) <= m.cfg.ResendAfter {
		return
	}
	// No answer: ask for the agent's status; its answer settles the job
	// (idle resends the start).
	if err := m.cfg.Sender.SendCustomMessage(ctx, j.AgentUID, &protobufs.CustomMessage{Capability: Capability, Type: MsgStatus}); err == nil {
		_, _ = m.update(ctx, j.ID, func(cur *Job) bool {
			cur.AskedAt = now
			return true
		})
	}
}
