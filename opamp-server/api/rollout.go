package api

import "time"

// Rollout states. Rolling and paused hold the hosts not yet reached on the
// previous version; completed and aborted will not change by themselves.
const (
	RolloutRolling   = "rolling"
	RolloutPaused    = "paused"
	RolloutCompleted = "completed"
	RolloutAborted   = "aborted"
)

// Rollout strategies.
const (
	RolloutStaged    = "staged"
	RolloutAllAtOnce = "all-at-once"
)

// RolloutPolicy is how a deployment version reaches its hosts; zero fields
// take the defaults (staged, first batch 3, factor 5, max batch 10% of the
// targeted hosts but at least 100, soak 30s).
type RolloutPolicy struct {
	Strategy   string `json:"strategy,omitempty"`
	FirstBatch int    `json:"first_batch,omitempty"`
	Factor     int    `json:"factor,omitempty"`
	MaxBatch   int    `json:"max_batch,omitempty"`
	Soak       string `json:"soak,omitempty"`
}

// RolloutBatch is one stage of a rollout.
type RolloutBatch struct {
	Number int      `json:"number"` // 1-based
	Size   int      `json:"size"`
	Hosts  []string `json:"hosts,omitempty"`
	// StartedAt is when its hosts were admitted to the new version;
	// HealthySince when every reached host was last seen applied and
	// healthy (zero while not); the next batch starts at SoakUntil.
	StartedAt    time.Time `json:"started_at"`
	HealthySince time.Time `json:"healthy_since,omitzero"`
	SoakUntil    time.Time `json:"soak_until,omitzero"`
	// By names the server replica that admitted the batch (the one that
	// held the drive lease).
	By string `json:"by,omitempty"`
}

// RolloutFailure is a reached host that failed (or degraded) on the new
// version.
type RolloutFailure struct {
	Host   string    `json:"host"`
	Status string    `json:"status"`
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
	// Accepted: an operator resumed past it (it no longer pauses).
	Accepted bool `json:"accepted,omitempty"`
}

// Rollout is GET /api/v1/deployments/{name}/rollout: how the deployment's
// current version is reaching its hosts.
type Rollout struct {
	Deployment string `json:"deployment"`
	Version    int    `json:"version"`
	// FromVersion is the version hosts not yet reached keep (0: none, they
	// run no config of this deployment).
	FromVersion int           `json:"from_version"`
	State       string        `json:"state"`
	Reason      string        `json:"reason,omitempty"`
	Policy      RolloutPolicy `json:"policy"`
	// Stage is the number of the current batch (0: none admitted yet);
	// Stages is how many the plan has at the current fleet size.
	Stage  int `json:"stage"`
	Stages int `json:"stages"`
	// Total is the hosts the version targets; Reached those admitted to
	// it; Applied the reached ones applied and healthy; Failed the reached
	// ones failed or degraded; Offline the reached ones not connected.
	Total       int              `json:"total"`
	Reached     int              `json:"reached"`
	Applied     int              `json:"applied"`
	Failed      int              `json:"failed"`
	Offline     int              `json:"offline"`
	Batches     []RolloutBatch   `json:"batches,omitempty"`
	Failures    []RolloutFailure `json:"failures,omitempty"`
	Transitions []Transition     `json:"transitions,omitempty"`
	StartedAt   time.Time        `json:"started_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	// Final: completed or aborted.
	Final bool `json:"final"`
}

// IsFinalRollout reports whether a rollout state will not change by itself.
func IsFinalRollout(state string) bool {
	return state == RolloutCompleted || state == RolloutAborted
}

// RolloutList is GET /api/v1/rollouts.
type RolloutList struct {
	Rollouts []Rollout `json:"rollouts"`
}

// RolloutAction is the optional body of POST .../rollout/{pause,resume,abort}.
type RolloutAction struct {
	// Reason is recorded with the transition.
	Reason string `json:"reason,omitempty"`
}

// EventRollout carries a Rollout (its state or batches changed).
const EventRollout = "rollout.updated"
