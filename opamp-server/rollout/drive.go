package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Run drives the rollouts this replica holds the lease of, and keeps the
// cache current, until ctx ends. It wakes on the store's changes (a
// rollout or deployment written, an agent's status changed), on the
// deadlines it computed (a batch's soak ending, another replica's lease
// running out) and, as a safety net, every SafetyNet. Evaluations are
// spaced by Settle.
func (m *Manager) Run(ctx context.Context, changes <-chan store.Change) {
	if err := m.reloadAll(ctx); err != nil {
		m.log.Warn("rollouts: load", "err", err)
	}
	m.Sync(ctx)
	var last time.Time
	due := time.Now() // evaluate at start: a restarted replica resumes its rollouts
	t := time.NewTimer(0)
	defer t.Stop()
	safety := time.NewTicker(m.cfg.SafetyNet)
	defer safety.Stop()
	want := func(at time.Time) {
		at = maxTime(at, last.Add(m.cfg.Settle))
		if due.IsZero() || at.Before(due) {
			due = at
			t.Reset(time.Until(due))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			switch c.Kind {
			case store.ChangeRollout:
				if err := m.reload(ctx, c.Key); err != nil {
					m.log.Warn("rollout: reload", "deployment", c.Key, "err", err)
				}
				m.cfg.Publish(ctx, c.Key)
				want(time.Now())
			case store.ChangeDeployment, store.ChangeResync:
				if c.Kind == store.ChangeResync {
					m.agents.reset() // changes may have been missed
				}
				m.Sync(ctx)
				want(time.Now())
			case store.ChangeAgent:
				m.agents.changed(c.Key)
				if m.anyRolling() {
					want(time.Now())
				}
			}
		case <-safety.C:
			m.agents.reset()
			if err := m.reloadAll(ctx); err == nil {
				m.Sync(ctx)
			}
			want(time.Now())
		case <-t.C:
			if due.IsZero() {
				continue
			}
			due, last = time.Time{}, time.Now()
			if next := m.Tick(ctx); !next.IsZero() {
				want(next)
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (m *Manager) anyRolling() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, r := range m.cache {
		if r.State == api.RolloutRolling {
			return true
		}
	}
	return false
}

// Tick advances every rolling rollout this replica holds (or can take) the
// lease of, once, and returns when it wants to run again (zero: only when
// something changes).
func (m *Manager) Tick(ctx context.Context) time.Time {
	m.mu.RLock()
	var names []string
	for name, r := range m.cache {
		if r.State == api.RolloutRolling {
			names = append(names, name)
		}
	}
	m.mu.RUnlock()
	if len(names) == 0 {
		m.agents.reset()
		return time.Time{}
	}
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	var agents []store.Agent
	for _, name := range names {
		now := m.now()
		ok, err := m.cfg.Store.LeaseRollout(ctx, name, m.cfg.Holder, now, now.Add(leaseFor))
		if err != nil {
			m.log.Warn("rollout: lease", "deployment", name, "err", err)
			continue
		}
		m.log.Debug("rollout: tick", "deployment", name, "lease", ok)
		if !ok {
			earlier(time.Now().Add(leaseFor)) // take over if its holder stops renewing
			continue
		}
		if agents == nil { // read once per tick, and only by the replica that drives
			if agents, err = m.agents.list(ctx, m.cfg.Store); err != nil {
				m.log.Warn("rollouts: list agents", "err", err)
				return time.Now().Add(m.cfg.Settle)
			}
		}
		at, err := m.advance(ctx, name, agents)
		if err != nil {
			m.log.Warn("rollout: advance", "deployment", name, "err", err)
			earlier(time.Now().Add(m.cfg.Settle))
			continue
		}
		earlier(at)
		earlier(time.Now().Add(leaseFor / 3)) // renew the lease while it rolls
	}
	return next
}

// verdict is the state of a rollout's reached hosts.
type verdict struct {
	healthy  bool // every reached online host applied and healthy on the new version
	failures []api.RolloutFailure
}

func (m *Manager) judge(r *record, hosts map[string]hostState, now time.Time) verdict {
	v := verdict{healthy: true}
	for h := range r.admitted {
		s, ok := hosts[h]
		if !ok || gone(s, now) {
			continue // gone: it gets the version when it comes back
		}
		if !s.online {
			v.healthy = false // a disconnect (a restart) is no proof of health
			continue
		}
		st := s.status
		switch {
		case st.Version != r.Version:
			v.healthy = false // this replica has not caught up with the version yet
		case st.Status == api.StatusApplied:
		case st.Status == api.StatusFailed || st.Status == api.StatusDegraded:
			if !r.accepted(h) {
				v.failures = append(v.failures, api.RolloutFailure{Host: h, Status: st.Status, Error: bound(st.Error, 512), At: now})
			}
		default:
			v.healthy = false
		}
	}
	return v
}

// offlineGrace is how long a host may be offline before the rollout goes
// on without it: a reached host offline that long no longer holds its batch,
// and a targeted host offline that long does not hold the completion (it
// gets the version when it comes back). Shorter disconnects (a server or
// agent restart) hold the rollout where it is.
const offlineGrace = 2 * time.Minute

func gone(s hostState, now time.Time) bool {
	return !s.online && now.Sub(s.status.LastSeen) > offlineGrace
}

func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// advance moves one rollout on: pause on a failure, note when its batch
// turned healthy, and start the next batch once it has soaked.
func (m *Manager) advance(ctx context.Context, name string, agents []store.Agent) (time.Time, error) {
	var next time.Time
	_, err := m.updateIf(ctx, name, func(r *record) (bool, error) {
		next = time.Time{}
		if r.State != api.RolloutRolling {
			return false, nil
		}
		now := m.now()
		hosts := m.fleet(r, agents)
		p := r.Policy.policy()
		if n := len(r.Batches); n > 0 {
			cur := &r.Batches[n-1]
			v := m.judge(r, hosts, now)
			if len(v.failures) > 0 {
				f := v.failures[0]
				r.Failures = append(r.Failures, v.failures...)
				if len(r.Failures) > 200 {
					r.Failures = r.Failures[len(r.Failures)-200:]
				}
				reason := fmt.Sprintf("host %s is %s on version %d: %s", f.Host, f.Status, r.Version, orDefault(f.Error, "no error given"))
				if len(v.failures) > 1 {
					reason += fmt.Sprintf(" (and %d more host(s))", len(v.failures)-1)
				}
				r.transition(now, m.cfg.Holder, api.RolloutPaused, "paused automatically: "+reason+
					fmt.Sprintf("; the %d host(s) not reached keep version %d", max(0, len(hosts)-len(r.admitted)), r.From))
				return true, nil
			}
			if !v.healthy {
				if cur.HealthySince.IsZero() {
					return false, nil
				}
				cur.HealthySince, cur.SoakUntil = time.Time{}, time.Time{}
				return true, nil
			}
			remaining := sortedHosts(hosts, func(h string) bool { return r.admitted[h] })
			if len(remaining) == 0 {
				if wait := waiting(r, hosts, now); !wait.IsZero() {
					next = wait
					return false, nil
				}
				r.transition(now, m.cfg.Holder, api.RolloutCompleted, fmt.Sprintf("every targeted host has version %d (%d batches)", r.Version, len(r.Batches)))
				return true, nil
			}
			if cur.HealthySince.IsZero() {
				cur.HealthySince, cur.SoakUntil = now, now.Add(p.Soak)
				next = cur.SoakUntil
				return true, nil
			}
			if now.Before(cur.SoakUntil) {
				next = cur.SoakUntil
				return false, nil
			}
		}
		remaining := r.admissionOrder(sortedHosts(hosts, func(h string) bool { return r.admitted[h] }))
		m.log.Debug("rollout: next batch", "deployment", name, "targeted", len(hosts), "remaining", len(remaining))
		if len(remaining) == 0 {
			if len(r.Batches) == 0 {
				return false, nil // no host online yet: wait for one
			}
			if wait := waiting(r, hosts, now); !wait.IsZero() {
				next = wait
				return false, nil
			}
			r.transition(now, m.cfg.Holder, api.RolloutCompleted, fmt.Sprintf("every targeted host has version %d (%d batches)", r.Version, len(r.Batches)))
			return true, nil
		}
		size := min(p.BatchSize(len(r.Batches), len(hosts)), len(remaining))
		b := api.RolloutBatch{Number: len(r.Batches) + 1, Size: size, Hosts: remaining[:size], StartedAt: now, By: m.cfg.Holder}
		r.Batches = append(r.Batches, b)
		for _, h := range b.Hosts {
			r.admitted[h] = true
		}
		r.UpdatedAt = now
		r.Reason = fmt.Sprintf("batch %d: %d host(s) (%s)", b.Number, size, strings.Join(b.Hosts[:min(3, size)], ", "))
		if size > 3 {
			r.Reason += ", …"
		}
		return true, nil
	})
	return next, err
}

// waiting is when a targeted host not reached, offline for less than
// offlineGrace, stops holding the completion (zero: none holds it).
func waiting(r *record, hosts map[string]hostState, now time.Time) time.Time {
	var until time.Time
	for h, s := range hosts {
		if r.admitted[h] || s.online || gone(s, now) {
			continue
		}
		if t := s.status.LastSeen.Add(offlineGrace); until.IsZero() || t.After(until) {
			until = t
		}
	}
	return until
}

// updateIf is update for the driver: fn says whether it changed anything
// worth writing.
func (m *Manager) updateIf(ctx context.Context, name string, fn func(r *record) (bool, error)) (*record, error) {
	changed := false
	r, err := m.update(ctx, name, func(r *record) error {
		var err error
		changed, err = fn(r)
		if err == nil && !changed {
			return errUnchanged
		}
		return err
	})
	if err == errUnchanged {
		return nil, nil
	}
	return r, err
}

var errUnchanged = fmt.Errorf("unchanged")
