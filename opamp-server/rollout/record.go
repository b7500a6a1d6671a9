package rollout

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// record is a deployment's rollout as stored (the store's record JSON).
type record struct {
	Deployment string `json:"deployment"`
	Version    int    `json:"version"`
	// From is the version a host not admitted keeps (0: none); Held names
	// the hosts that keep another one: those a superseded rollout had
	// reached keep the version it gave them.
	From        int                  `json:"from_version"`
	Held        map[string]int       `json:"held,omitempty"`
	State       string               `json:"state"`
	Reason      string               `json:"reason,omitempty"`
	Policy      storedPolicy         `json:"policy"`
	Batches     []api.RolloutBatch   `json:"batches,omitempty"`
	Failures    []api.RolloutFailure `json:"failures,omitempty"`
	Transitions []api.Transition     `json:"transitions,omitempty"`
	StartedAt   time.Time            `json:"started_at"`
	UpdatedAt   time.Time            `json:"updated_at"`

	revision int
	admitted map[string]bool
}

// storedPolicy is Policy in the record (the soak as a duration string).
type storedPolicy struct {
	Strategy   string `json:"strategy"`
	FirstBatch int    `json:"first_batch"`
	Factor     int    `json:"factor"`
	MaxBatch   int    `json:"max_batch,omitempty"`
	Soak       string `json:"soak"`
}

func storePolicy(p Policy) storedPolicy {
	return storedPolicy{Strategy: p.Strategy, FirstBatch: p.FirstBatch, Factor: p.Factor, MaxBatch: p.MaxBatch, Soak: p.Soak.String()}
}

func (s storedPolicy) policy() Policy {
	d, _ := time.ParseDuration(s.Soak)
	return Policy{Strategy: s.Strategy, FirstBatch: max(1, s.FirstBatch), Factor: max(1, s.Factor), MaxBatch: s.MaxBatch, Soak: d}
}

func decode(rec store.RolloutRecord) (*record, error) {
	var r record
	if err := json.Unmarshal(rec.Record, &r); err != nil {
		return nil, fmt.Errorf("rollout of %q: stored record does not decode: %w", rec.Deployment, err)
	}
	r.revision = rec.Revision
	r.index()
	return &r, nil
}

func (r *record) encode() (store.RolloutRecord, error) {
	b, err := json.Marshal(r)
	return store.RolloutRecord{Deployment: r.Deployment, Version: r.Version, State: r.State, UpdatedAt: r.UpdatedAt, Record: b}, err
}

func (r *record) index() {
	r.admitted = map[string]bool{}
	for _, b := range r.Batches {
		for _, h := range b.Hosts {
			r.admitted[h] = true
		}
	}
}

// active: the rollout holds hosts back (rolling or paused).
func (r *record) active() bool { return r.State == api.RolloutRolling || r.State == api.RolloutPaused }

// versionFor is the version of the deployment a host runs under this
// rollout: the new one once admitted (or once the rollout completed), the
// one it ran before otherwise (or after an abort).
func (r *record) versionFor(host string) int {
	switch {
	case r.State == api.RolloutCompleted:
		return r.Version
	case r.State != api.RolloutAborted && r.admitted[host]:
		return r.Version
	}
	if v, ok := r.Held[host]; ok {
		return v
	}
	return r.From
}

// versions lists the versions the rollout may give a host.
func (r *record) versions() []int {
	seen := map[int]bool{}
	var out []int
	add := func(v int) {
		if v > 0 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if r.State != api.RolloutCompleted {
		add(r.From)
		for _, v := range r.Held {
			add(v)
		}
	}
	// The version itself too: a replica whose deployment cache already has
	// a newer version than this rollout (written, its rollout not yet
	// read) keeps every host where this rollout puts it.
	if !seen[r.Version] {
		out = append(out, r.Version)
	}
	sort.Ints(out)
	return out
}

// mapping summarises what hosts get: when it changes, the deployment's
// hosts are reconciled again.
func (r *record) mapping() string {
	if r == nil {
		return ""
	}
	final := r.State == api.RolloutCompleted || r.State == api.RolloutAborted
	return fmt.Sprint(r.Version, "/", r.From, "/", final, r.State == api.RolloutAborted, "/", len(r.admitted), "/", len(r.Held))
}

func (r *record) transition(now time.Time, by, state, reason string) {
	r.State, r.Reason, r.UpdatedAt = state, reason, now
	r.Transitions = append(r.Transitions, api.Transition{Status: state, At: now, Reason: reason, By: by})
	if len(r.Transitions) > 100 { // a rollout paused and resumed forever stays bounded
		r.Transitions = append(r.Transitions[:1], r.Transitions[len(r.Transitions)-99:]...)
	}
}

func (r *record) accepted(host string) bool {
	for _, f := range r.Failures {
		if f.Host == host && f.Accepted {
			return true
		}
	}
	return false
}

// successor is the rollout of a new version after r (nil: none recorded):
// hosts not admitted to it keep what r gave them, so a version that
// supersedes one still rolling out never reaches the hosts that one had not.
func successor(r *record, name string, version int, p Policy, now time.Time, by string) *record {
	n := &record{Deployment: name, Version: version, Policy: storePolicy(p), StartedAt: now, UpdatedAt: now}
	n.admitted = map[string]bool{}
	switch {
	case r == nil || r.Version > version:
		reason := "version 1 goes to every host at once: no earlier version of this deployment runs there"
		if version > 1 {
			reason = fmt.Sprintf("no rollout was recorded before version %d: it is taken as running everywhere", version)
		}
		n.transition(now, by, api.RolloutCompleted, reason)
		return n
	case r.State == api.RolloutCompleted:
		n.From = r.Version
	default:
		n.From = r.From
		n.Held = map[string]int{}
		for h, v := range r.Held {
			n.Held[h] = v
		}
		if r.State != api.RolloutAborted {
			for h := range r.admitted {
				n.Held[h] = r.Version
			}
		}
		for h, v := range n.Held {
			if v == n.From {
				delete(n.Held, h)
			}
		}
	}
	if p.Strategy == api.RolloutAllAtOnce {
		n.transition(now, by, api.RolloutCompleted, "rollout strategy all-at-once: every host gets it at once")
		return n
	}
	reason := fmt.Sprintf("version %d rolls out in stages from version %d", version, n.From)
	if r.active() {
		reason += fmt.Sprintf("; it supersedes the rollout of version %d (%s), whose %d reached host(s) keep version %d until reached", r.Version, r.State, len(r.admitted), r.Version)
	}
	n.transition(now, by, api.RolloutRolling, reason)
	return n
}
