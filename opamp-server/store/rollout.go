package store

import (
	"context"
	"time"
)

// ChangeRollout announces a rollout write (Key: the deployment's name), so
// every replica re-computes the desired state of the hosts it admitted.
const ChangeRollout = "rollout"

// RolloutPolicy is how a deployment version reaches its hosts (part of the
// deployment spec, so every version carries its own). Zero fields take the
// defaults of opamp-server/rollout.
type RolloutPolicy struct {
	// Strategy is "staged" (the default) or "all-at-once".
	Strategy string `json:"strategy,omitempty"`
	// FirstBatch is the size of the first batch (default 3).
	FirstBatch int `json:"first_batch,omitempty"`
	// Factor multiplies each batch to get the next (default 5).
	Factor int `json:"factor,omitempty"`
	// MaxBatch caps a batch (default 10% of the targeted hosts, at least 100).
	MaxBatch int `json:"max_batch,omitempty"`
	// Soak is how long a batch stays applied and healthy before the next
	// starts, a Go duration (default 30s).
	Soak string `json:"soak,omitempty"`
}

// RolloutRecord is a deployment's current rollout as stored: Record is the
// rollout's JSON (owned by opamp-server/rollout); the other fields are
// columns for lookups and the compare-and-set.
type RolloutRecord struct {
	Deployment string
	Version    int
	State      string
	// Revision counts writes; PutRollout compares and sets it.
	Revision  int
	UpdatedAt time.Time
	Record    []byte
}

// RolloutStore keeps one rollout per deployment (the newest; a new version
// replaces it). It is part of Store.
type RolloutStore interface {
	// PutRollout writes r when the stored revision is expect (0: no row
	// yet) and stores it with revision expect+1, announcing a
	// ChangeRollout. A lost race is ErrVersionConflict.
	PutRollout(ctx context.Context, r RolloutRecord, expect int) error
	// GetRollout returns a deployment's rollout or ErrNotFound.
	GetRollout(ctx context.Context, deployment string) (RolloutRecord, error)
	// ListRollouts returns every rollout, by deployment name.
	ListRollouts(ctx context.Context) ([]RolloutRecord, error)
	// DeleteRollout removes a deployment's rollout (ErrNotFound).
	DeleteRollout(ctx context.Context, deployment string) error
	// LeaseRollout gives holder the right to drive the rollout until
	// `until`, when no other holder has an unexpired lease; it reports
	// whether holder has it. Renewing one's own lease always succeeds.
	LeaseRollout(ctx context.Context, deployment, holder string, now, until time.Time) (bool, error)
}
