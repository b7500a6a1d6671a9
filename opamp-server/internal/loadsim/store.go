package loadsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Store keeps jobs. Writes are compare-and-set on the job's revision, so
// that two server replicas updating one job (a user's stop on one, the
// agent's status on the other) never lose an update.
type Store interface {
	// PutJob writes j when the stored revision is expect (0: j is new) and
	// stores it with revision expect+1. It returns an error wrapping
	// ErrRevision when someone else wrote the job first (or, for a new job,
	// when the id exists).
	PutJob(ctx context.Context, j Job, expect int) error
	// GetJob returns the job or an error wrapping store.ErrNotFound.
	GetJob(ctx context.Context, id string) (Job, error)
	// ListJobs returns the jobs, newest first; activeOnly keeps pending and
	// running ones.
	ListJobs(ctx context.Context, activeOnly bool) ([]Job, error)
}

// ErrRevision is a lost compare-and-set: re-read and retry.
var ErrRevision = errors.New("load simulation job changed concurrently")

// MemStore is an in-memory Store for tests.
type MemStore struct {
	mu   sync.Mutex
	jobs map[string]Job
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{jobs: map[string]Job{}} }

// PutJob implements Store.
func (m *MemStore) PutJob(_ context.Context, j Job, expect int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.jobs[j.ID]
	if (expect == 0 && ok) || (expect != 0 && (!ok || cur.Revision != expect)) {
		return fmt.Errorf("job %s: %w", j.ID, ErrRevision)
	}
	j.Revision = expect + 1
	m.jobs[j.ID] = j
	return nil
}

// GetJob implements Store.
func (m *MemStore) GetJob(_ context.Context, id string) (Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return Job{}, fmt.Errorf("load simulation job %q: %w", id, store.ErrNotFound)
	}
	return j, nil
}

// ListJobs implements Store.
func (m *MemStore) ListJobs(_ context.Context, activeOnly bool) ([]Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Job
	for _, j := range m.jobs {
		if !activeOnly || j.Active() {
			out = append(out, j)
		}
	}
	SortNewestFirst(out)
	return out, nil
}

// SortNewestFirst orders jobs by creation, newest first, then by id.
func SortNewestFirst(js []Job) {
	sort.Slice(js, func(a, b int) bool {
		if !js[a].CreatedAt.Equal(js[b].CreatedAt) {
			return js[a].CreatedAt.After(js[b].CreatedAt)
		}
		return js[a].ID > js[b].ID
	})
}

// ServerStore keeps jobs in phoenix-server's store (SQLite or PostgreSQL),
// as JSON records with the columns the store indexes.
type ServerStore struct{ S store.LoadSimStore }

// PutJob implements Store.
func (s ServerStore) PutJob(ctx context.Context, j Job, expect int) error {
	rec, err := json.Marshal(j)
	if err != nil {
		return err
	}
	err = s.S.PutLoadSimJob(ctx, store.LoadSimJob{ID: j.ID, TargetHost: j.TargetHost, Status: string(j.Status), Active: j.Active(),
		CreatedAt: j.CreatedAt, Record: rec}, expect)
	if errors.Is(err, store.ErrVersionConflict) {
		return fmt.Errorf("job %s: %w (%w)", j.ID, ErrRevision, err)
	}
	return err
}

func decodeJob(r store.LoadSimJob) (Job, error) {
	var j Job
	if err := json.Unmarshal(r.Record, &j); err != nil {
		return j, fmt.Errorf("load simulation job %s: stored record is corrupt: %w", r.ID, err)
	}
	j.Revision = r.Revision
	return j, nil
}

// GetJob implements Store.
func (s ServerStore) GetJob(ctx context.Context, id string) (Job, error) {
	r, err := s.S.GetLoadSimJob(ctx, id)
	if err != nil {
		return Job{}, err
	}
	return decodeJob(r)
}

// ListJobs implements Store.
func (s ServerStore) ListJobs(ctx context.Context, activeOnly bool) ([]Job, error) {
	rs, err := s.S.ListLoadSimJobs(ctx, activeOnly)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(rs))
	for _, r := range rs {
		j, err := decodeJob(r)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}
