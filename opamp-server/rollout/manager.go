package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

const (
	// leaseFor is how long a replica drives a rollout without renewing:
	// another takes over this long after the holder stops.
	leaseFor = 15 * time.Second
	// defaultSettle spaces evaluations: a batch's agents report in bursts,
	// and each evaluation reads the agent registry once.
	defaultSettle = time.Second
	// defaultSafetyNet is the long wake-up beside the notifications and
	// deadlines, in case a notification was missed.
	defaultSafetyNet = time.Minute
	// listBatchHosts: the API lists the hosts of batches up to this size.
	listBatchHosts = 100
)

// Config wires a Manager.
type Config struct {
	Store       store.Store
	Deployments *deployment.Service
	// Holder names this replica for the drive lease.
	Holder string
	// Changed is told a deployment whose hosts' desired state changed
	// (admitted to a batch, rollout aborted or completed).
	Changed func(ctx context.Context, deployment string)
	// Publish is told a rollout was written (rollout.updated).
	Publish func(ctx context.Context, deployment string)
	Logger  *slog.Logger
	Now     func() time.Time
	// Settle spaces evaluations (default 1s); SafetyNet is the long
	// wake-up beside the notifications (default 1m).
	Settle, SafetyNet time.Duration
}

// Manager drives rollouts and is their link of the desired state.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu      sync.RWMutex
	cache   map[string]*record // by deployment
	renders map[renderKey]rendered

	agents agentCache // the driver's copy of the registry (agents.go)
}

type renderKey struct {
	name    string
	version int
}

type rendered struct {
	spec store.DeploymentSpec
	yaml []byte
	hash string
	err  string
}

// New makes a Manager.
func New(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Changed == nil {
		cfg.Changed = func(context.Context, string) {}
	}
	if cfg.Publish == nil {
		cfg.Publish = func(context.Context, string) {}
	}
	if cfg.Settle <= 0 {
		cfg.Settle = defaultSettle
	}
	if cfg.SafetyNet <= 0 {
		cfg.SafetyNet = defaultSafetyNet
	}
	return &Manager{cfg: cfg, log: cfg.Logger, cache: map[string]*record{}, renders: map[renderKey]rendered{}}
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC() }

// ---- the layer ----

// Layer is the rollout link of a host's desired state, right after the
// deployment: a host the rollout has not reached gets the version it ran
// before.
func (m *Manager) Layer() deployment.Layer { return deployment.LayerFunc(m.apply) }

func (m *Manager) apply(host string, labels map[string]string, d deployment.Desired) deployment.Desired {
	if d.Deployment == "" {
		return d
	}
	m.mu.RLock()
	r := m.cache[d.Deployment]
	var v int
	var rd rendered
	var ok bool
	if r != nil {
		v = r.versionFor(host)
		rd, ok = m.renders[renderKey{d.Deployment, v}]
	}
	m.mu.RUnlock()
	if r == nil || v == d.Version {
		return d
	}
	if v == 0 || ok && rd.err == "" && !rd.spec.Target.Matches(host, labels) {
		// It ran nothing of this deployment before (it joined the target).
		return deployment.Desired{}
	}
	if !ok {
		// Pre-rendered when the rollout was loaded; a miss (the version
		// could not be read) keeps the host where the deployment puts it
		// only if that is not the new version.
		if r.Version == d.Version {
			return deployment.Desired{Deployment: d.Deployment, Version: v, Err: fmt.Sprintf("rollout of deployment %q: version %d, which host %q keeps until the rollout reaches it, could not be read", d.Deployment, v, host)}
		}
		return d
	}
	spec := rd.spec
	out := d
	out.Version, out.Spec, out.YAML, out.Hash, out.Err = v, &spec, rd.yaml, rd.hash, rd.err
	return out
}

func (m *Manager) render(ctx context.Context, name string, v int) rendered {
	dv, err := m.cfg.Store.GetDeploymentVersion(ctx, name, v)
	if err != nil {
		return rendered{err: fmt.Sprintf("deployment %q version %d: %v", name, v, err)}
	}
	r, err := pipelines.Render(deployment.PipelinesSpec(dv.Spec), deployment.RenderContext(name, v))
	if err != nil {
		return rendered{spec: dv.Spec, err: fmt.Sprintf("deployment %q version %d does not render: %v", name, v, err)}
	}
	return rendered{spec: dv.Spec, yaml: r.YAML, hash: deployment.SHA256Hex(r.YAML)}
}

// ---- the cache ----

// reload reads a deployment's rollout into this replica's cache (with the
// renders of the versions it holds hosts on) and reconciles the
// deployment's hosts when what they get changed.
func (m *Manager) reload(ctx context.Context, name string) error {
	rec, err := m.cfg.Store.GetRollout(ctx, name)
	var r *record
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		if r, err = decode(rec); err != nil {
			return err
		}
	}
	m.put(ctx, name, r)
	return nil
}

func (m *Manager) put(ctx context.Context, name string, r *record) {
	renders := map[renderKey]rendered{}
	if r != nil {
		for _, v := range r.versions() {
			k := renderKey{name, v}
			m.mu.RLock()
			cached, ok := m.renders[k]
			m.mu.RUnlock()
			if !ok || cached.err != "" {
				cached = m.render(ctx, name, v)
			}
			renders[k] = cached
		}
	}
	m.mu.Lock()
	old := m.cache[name]
	if r != nil && old != nil && r.revision < old.revision {
		// A stale read lost the race to a newer write (an operator's Sync
		// rendering while the driver admitted a batch): keeping it would
		// take the batch back from the cache, and nothing would put it
		// again, since the driver then waits for hosts it never pushes to.
		m.mu.Unlock()
		return
	}
	if r == nil {
		delete(m.cache, name)
	} else {
		m.cache[name] = r
	}
	for k := range m.renders {
		if k.name == name {
			delete(m.renders, k)
		}
	}
	for k, v := range renders {
		m.renders[k] = v
	}
	m.mu.Unlock()
	if old.mapping() != r.mapping() || old != nil && r != nil && len(old.admitted) != len(r.admitted) {
		m.cfg.Changed(ctx, name)
	}
}

func (m *Manager) reloadAll(ctx context.Context) error {
	recs, err := m.cfg.Store.ListRollouts(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rec.Deployment] = true
		r, err := decode(rec)
		if err != nil {
			m.log.Warn("rollout", "err", err)
			continue
		}
		m.put(ctx, rec.Deployment, r)
	}
	m.mu.RLock()
	var gone []string
	for name := range m.cache {
		if !seen[name] {
			gone = append(gone, name)
		}
	}
	m.mu.RUnlock()
	for _, name := range gone {
		m.put(ctx, name, nil)
	}
	return nil
}

// ---- following the deployments ----

// Sync gives every deployment a rollout of its current version and drops
// those of deleted deployments. The deployment service calls it after each
// of its writes, so the rollout of a new version exists before the write
// returns; the other replicas do it on the change notification.
func (m *Manager) Sync(ctx context.Context) {
	deps, err := m.cfg.Store.ListDeployments(ctx)
	if err != nil {
		m.log.Warn("rollout: list deployments", "err", err)
		return
	}
	names := map[string]bool{}
	for _, d := range deps {
		names[d.Name] = true
		if err := m.ensure(ctx, d); err != nil {
			m.log.Warn("rollout: follow deployment", "deployment", d.Name, "err", err)
		}
	}
	recs, err := m.cfg.Store.ListRollouts(ctx)
	if err != nil {
		return
	}
	for _, rec := range recs {
		if !names[rec.Deployment] {
			if err := m.cfg.Store.DeleteRollout(ctx, rec.Deployment); err != nil && !errors.Is(err, store.ErrNotFound) {
				m.log.Warn("rollout: delete", "deployment", rec.Deployment, "err", err)
			}
			m.put(ctx, rec.Deployment, nil)
		}
	}
}

// ensure writes the rollout of d's current version when the stored one is
// of another version: the new version supersedes it.
func (m *Manager) ensure(ctx context.Context, d store.Deployment) error {
	for range 5 {
		rec, err := m.cfg.Store.GetRollout(ctx, d.Name)
		var cur *record
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			if cur, err = decode(rec); err != nil {
				return err
			}
			if cur.Version == d.Version {
				m.mu.RLock()
				cached := m.cache[d.Name]
				m.mu.RUnlock()
				if cached == nil || cached.revision != cur.revision {
					m.put(ctx, d.Name, cur)
				}
				return nil
			}
		}
		n := successor(cur, d.Name, d.Version, Resolve(d.Current.Spec.Rollout), m.now(), m.cfg.Holder)
		out, err := n.encode()
		if err != nil {
			return err
		}
		expect := 0
		if cur != nil {
			expect = cur.revision
		}
		err = m.cfg.Store.PutRollout(ctx, out, expect)
		if errors.Is(err, store.ErrVersionConflict) {
			continue // another replica wrote it: read it again
		}
		if err != nil {
			return err
		}
		n.revision = expect + 1
		m.put(ctx, d.Name, n)
		m.log.Info("rollout", "deployment", d.Name, "version", d.Version, "state", n.State, "reason", n.Reason)
		return nil
	}
	return fmt.Errorf("rollout of %q: lost the race five times", d.Name)
}

// ---- reading ----

func (m *Manager) load(ctx context.Context, name string) (*record, error) {
	rec, err := m.cfg.Store.GetRollout(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if _, derr := m.cfg.Store.GetDeployment(ctx, name); errors.Is(derr, store.ErrNotFound) {
			return nil, domainerr.NotFoundf("deployment %q does not exist; GET /api/v1/deployments lists them", name)
		}
		return nil, domainerr.NotFoundf("deployment %q has no rollout recorded yet; retry in a moment", name)
	}
	if err != nil {
		return nil, err
	}
	return decode(rec)
}

// Get is a deployment's rollout with its progress.
func (m *Manager) Get(ctx context.Context, name string) (api.Rollout, error) {
	r, err := m.load(ctx, name)
	if err != nil {
		return api.Rollout{}, err
	}
	agents, err := m.cfg.Store.ListAgentRecords(ctx)
	if err != nil {
		return api.Rollout{}, err
	}
	return m.view(r, m.fleet(r, agents)), nil
}

// List is every deployment's rollout with its progress.
func (m *Manager) List(ctx context.Context) ([]api.Rollout, error) {
	recs, err := m.cfg.Store.ListRollouts(ctx)
	if err != nil {
		return nil, err
	}
	agents, err := m.cfg.Store.ListAgentRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := []api.Rollout{}
	for _, rec := range recs {
		r, err := decode(rec)
		if err != nil {
			continue
		}
		out = append(out, m.view(r, m.fleet(r, agents)))
	}
	return out, nil
}

// hostState is one targeted host as the rollout sees it.
type hostState struct {
	host   string
	online bool
	status api.HostStatus
}

// fleet is the hosts a deployment targets now, by name; those r has reached
// come with their status against their desired state (which this layer
// shapes), the others only with whether they are online and when last seen
// (a status costs a desired-state computation per host).
func (m *Manager) fleet(r *record, agents []store.Agent) map[string]hostState {
	deps := m.cfg.Deployments.Snapshot()
	out := map[string]hostState{}
	for host, a := range deployment.LatestPerHost(agents) {
		if d, _ := deployment.Assign(deps, host, a.Labels); d == nil || d.Name != r.Deployment {
			continue
		}
		hs := hostState{host: host, online: m.cfg.Deployments.Online(a), status: api.HostStatus{Host: host, LastSeen: a.LastSeen}}
		if r.State == api.RolloutCompleted || r.admitted[host] {
			hs.status = m.cfg.Deployments.HostStatus(a)
		}
		out[host] = hs
	}
	return out
}

func (m *Manager) view(r *record, hosts map[string]hostState) api.Rollout {
	p := r.Policy.policy()
	v := api.Rollout{
		Deployment: r.Deployment, Version: r.Version, FromVersion: r.From, State: r.State, Reason: r.Reason,
		Policy: p.View(), Stage: len(r.Batches), Total: len(hosts), Failures: r.Failures, Transitions: r.Transitions,
		StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt, Final: api.IsFinalRollout(r.State),
	}
	v.Stages = len(r.Batches)
	for left, k := len(hosts)-len(r.admitted), len(r.Batches); left > 0; k++ {
		left -= p.BatchSize(k, len(hosts))
		v.Stages++
	}
	if r.State == api.RolloutCompleted {
		v.Stages = len(r.Batches)
	}
	for _, b := range r.Batches {
		if len(b.Hosts) > listBatchHosts {
			b.Hosts = nil
		}
		v.Batches = append(v.Batches, b)
	}
	for h, s := range hosts {
		reached := r.State == api.RolloutCompleted || r.State != api.RolloutAborted && r.admitted[h]
		if !reached {
			continue
		}
		v.Reached++
		switch {
		case !s.online:
			v.Offline++
		case s.status.Version != r.Version:
		case s.status.Status == api.StatusApplied:
			v.Applied++
		case s.status.Status == api.StatusFailed || s.status.Status == api.StatusDegraded:
			v.Failed++
		}
	}
	return v
}

// ---- the operator's actions ----

// update changes a rollout with a compare-and-set, retried on a lost race.
func (m *Manager) update(ctx context.Context, name string, fn func(r *record) error) (*record, error) {
	for range 5 {
		r, err := m.load(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := fn(r); err != nil {
			return nil, err
		}
		out, err := r.encode()
		if err != nil {
			return nil, err
		}
		err = m.cfg.Store.PutRollout(ctx, out, r.revision)
		if errors.Is(err, store.ErrVersionConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.revision++
		m.put(ctx, name, r)
		return r, nil
	}
	return nil, &domainerr.Conflict{Title: "Version conflict", Detail: fmt.Sprintf("the rollout of %q kept changing under this write; retry", name)}
}

func stateConflict(r *record, action string) error {
	return &domainerr.Conflict{Title: "Rollout not " + map[string]string{"pause": "rolling", "resume": "paused", "abort": "active"}[action],
		Detail: fmt.Sprintf("cannot %s the rollout of deployment %q version %d: it is %s (%s)", action, r.Deployment, r.Version, r.State, r.Reason),
		Extra:  map[string]any{"state": r.State}}
}

func (m *Manager) act(ctx context.Context, name, action string, fn func(r *record) error) (api.Rollout, error) {
	if _, err := m.update(ctx, name, fn); err != nil {
		return api.Rollout{}, err
	}
	m.log.Info("rollout "+action, "deployment", name)
	return m.Get(ctx, name)
}

// Pause stops a rolling rollout where it is: reached hosts keep the new
// version, the others the previous one, until Resume or Abort.
func (m *Manager) Pause(ctx context.Context, name, reason string) (api.Rollout, error) {
	return m.act(ctx, name, "pause", func(r *record) error {
		if r.State != api.RolloutRolling {
			return stateConflict(r, "pause")
		}
		r.transition(m.now(), m.cfg.Holder, api.RolloutPaused, orDefault(reason, "paused by an operator"))
		return nil
	})
}

// Resume continues a paused rollout. The failures recorded so far are
// accepted (they no longer pause it); the current batch soaks again.
func (m *Manager) Resume(ctx context.Context, name, reason string) (api.Rollout, error) {
	return m.act(ctx, name, "resume", func(r *record) error {
		if r.State != api.RolloutPaused {
			return stateConflict(r, "resume")
		}
		for i := range r.Failures {
			r.Failures[i].Accepted = true
		}
		if n := len(r.Batches); n > 0 {
			r.Batches[n-1].HealthySince, r.Batches[n-1].SoakUntil = time.Time{}, time.Time{}
		}
		r.transition(m.now(), m.cfg.Holder, api.RolloutRolling, orDefault(reason, "resumed by an operator"))
		return nil
	})
}

// Abort ends a rollout and returns every host it reached to the version it
// ran before (the layer reverts; no version is written). The deployment's
// current version stays the aborted one: deploy a new version, or roll back,
// to go on.
func (m *Manager) Abort(ctx context.Context, name, reason string) (api.Rollout, error) {
	return m.act(ctx, name, "abort", func(r *record) error {
		if !r.active() {
			return stateConflict(r, "abort")
		}
		r.transition(m.now(), m.cfg.Holder, api.RolloutAborted, orDefault(reason, fmt.Sprintf("aborted by an operator: the %d reached host(s) return to version %d", len(r.admitted), r.From)))
		return nil
	})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sortedHosts lists a set's online hosts by name.
func sortedHosts(m map[string]hostState, skip func(string) bool) []string {
	var out []string
	for h, s := range m {
		if s.online && !skip(h) {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// admissionOrder puts first the hosts a superseded rollout had reached:
// they run a version that was never vetted (a rollback after a bad batch
// fixes them first), then the others by name.
func (r *record) admissionOrder(hosts []string) []string {
	sort.SliceStable(hosts, func(i, j int) bool {
		_, hi := r.Held[hosts[i]]
		_, hj := r.Held[hosts[j]]
		return hi && !hj
	})
	return hosts
}
