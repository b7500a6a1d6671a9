package server

import (
	"maps"
	"slices"
	"sync/atomic"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// A push round visits only the sessions whose desired state the change can
// move, and it decides which without taking their locks. Before, every
// round reconciled all N sessions under their locks: a 20-host deployment
// changed during a 3,000-host rollout waited for 16 workers to work through
// the whole fleet, whose locks the rollout's own round and the agents'
// answers held, and arrived when the rollout did (19.2 s instead of 2.2 s,
// benchmarks/README.md).

// sessionRoute is what a round needs of a session: reconcile stores it (with
// sess.mu held) after it computed the desired state, and rounds read it
// lock-free. labels is the agent's label map, which merge replaces and never
// mutates once filled.
type sessionRoute struct {
	host       string
	labels     map[string]string
	deployment string
	conflicts  []string
}

// pushTargets is a session's half of the lock-free round filter.
type pushTargets struct {
	route atomic.Pointer[sessionRoute]
	// reconciling is set while reconcile runs: such a session may have read
	// the deployments before the change and not yet stored its route, so
	// every round includes it (its push then waits for the lock and
	// reconciles again with the new state).
	reconciling atomic.Bool
}

// setRoute records the inputs and outcome of a reconcile; it allocates
// only when one of them changed.
func (p *pushTargets) setRoute(host string, labels map[string]string, d desired) {
	if r := p.route.Load(); r != nil && r.host == host && r.deployment == d.Deployment &&
		slices.Equal(r.conflicts, d.Conflicts) && maps.Equal(r.labels, labels) {
		return
	}
	p.route.Store(&sessionRoute{host: host, labels: labels, deployment: d.Deployment, conflicts: d.Conflicts})
}

// affectedBy returns the filter of a round for a change of deployment name
// ("" = everything: a resync). A change of a deployment (a new version, a
// new target, a rollout batch, a deletion) can move exactly the hosts that
// it owns, that it lists as a conflict, or that its target matches now;
// Assign gives every other host the same answer as before.
func (f *fleet) affectedBy(name string) func(*session) bool {
	if name == "" {
		return func(*session) bool { return true }
	}
	for _, d := range f.deploymentsSnapshot() {
		if d.Name == name {
			t := d.Current.Spec.Target
			return affected(name, &t)
		}
	}
	return affected(name, nil) // deleted
}

// affected is the filter for deployment name whose target is now target
// (nil: deleted).
func affected(name string, target *store.Target) func(*session) bool {
	return func(s *session) bool {
		if s.targets.reconciling.Load() {
			return true
		}
		r := s.targets.route.Load()
		if r == nil {
			return true // never reconciled: push decides
		}
		if r.deployment == name || slices.Contains(r.conflicts, name) {
			return true
		}
		return target != nil && target.Matches(r.host, r.labels)
	}
}

// onHost is the filter of the sessions of one host name.
func onHost(host string) func(*session) bool {
	return func(s *session) bool {
		if s.targets.reconciling.Load() {
			return true
		}
		r := s.targets.route.Load()
		return r == nil || r.host == host
	}
}
