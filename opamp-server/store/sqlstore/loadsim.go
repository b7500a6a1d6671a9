package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// PutLoadSimJob implements store.LoadSimStore.
func (s *Store) PutLoadSimJob(ctx context.Context, j store.LoadSimJob, expect int) error {
	if j.ID == "" {
		return errors.New("load simulation job without id")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var res sql.Result
	if expect == 0 {
		// ON CONFLICT DO NOTHING: an existing id is a lost race, not an error
		// of the database.
		res, err = tx.ExecContext(ctx, s.q(`INSERT INTO loadsim_jobs (id, target_host, status, active, revision, created_at, record)
VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING`),
			j.ID, j.TargetHost, j.Status, boolInt(j.Active), j.CreatedAt.UnixNano(), string(j.Record))
	} else {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE loadsim_jobs SET target_host = ?, status = ?, active = ?, revision = ?, record = ?
WHERE id = ? AND revision = ?`),
			j.TargetHost, j.Status, boolInt(j.Active), expect+1, string(j.Record), j.ID, expect)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("load simulation job %q is not at revision %d: %w", j.ID, expect, store.ErrVersionConflict)
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeLoadSim, Key: j.ID, Version: expect + 1})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

const loadSimCols = `id, target_host, status, active, revision, created_at, record`

func scanLoadSimJob(sc interface{ Scan(...any) error }) (store.LoadSimJob, error) {
	var j store.LoadSimJob
	var active int
	var created int64
	var rec string
	if err := sc.Scan(&j.ID, &j.TargetHost, &j.Status, &active, &j.Revision, &created, &rec); err != nil {
		return j, err
	}
	j.Active, j.CreatedAt, j.Record = active != 0, time.Unix(0, created).UTC(), []byte(rec)
	return j, nil
}

// GetLoadSimJob implements store.LoadSimStore.
func (s *Store) GetLoadSimJob(ctx context.Context, id string) (store.LoadSimJob, error) {
	j, err := scanLoadSimJob(s.db.QueryRowContext(ctx, s.q(`SELECT `+loadSimCols+` FROM loadsim_jobs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("load simulation job %q: %w", id, store.ErrNotFound)
	}
	return j, err
}

// ListLoadSimJobs implements store.LoadSimStore.
func (s *Store) ListLoadSimJobs(ctx context.Context, activeOnly bool) ([]store.LoadSimJob, error) {
	q := `SELECT ` + loadSimCols + ` FROM loadsim_jobs`
	if activeOnly {
		q += ` WHERE active = 1`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanLoadSimJob)
}
