package store

import (
	"context"
	"time"
)

// ChangeLoadSim announces a load simulation job write (Key: the job id), so
// every replica's manager reconciles at once instead of polling.
const ChangeLoadSim = "loadsim"

// LoadSimJob is a load simulation job as stored: the record is the job's
// JSON (owned by opamp-server/internal/loadsim); the other fields are
// columns for lookups and the compare-and-set.
type LoadSimJob struct {
	ID         string
	TargetHost string
	Status     string
	// Active: pending or running.
	Active bool
	// Revision counts writes; PutLoadSimJob compares and sets it.
	Revision  int
	CreatedAt time.Time
	Record    []byte
}

// LoadSimStore keeps load simulation jobs. It is part of Store.
type LoadSimStore interface {
	// PutLoadSimJob writes j when the stored revision is expect (0: a new
	// job) and stores it with revision expect+1. A lost race (or an existing
	// id for a new job) is ErrVersionConflict.
	PutLoadSimJob(ctx context.Context, j LoadSimJob, expect int) error
	// GetLoadSimJob returns a job or ErrNotFound.
	GetLoadSimJob(ctx context.Context, id string) (LoadSimJob, error)
	// ListLoadSimJobs returns jobs newest first; activeOnly keeps the
	// pending and running ones.
	ListLoadSimJobs(ctx context.Context, activeOnly bool) ([]LoadSimJob, error)
}
