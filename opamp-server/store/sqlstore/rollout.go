package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// PutRollout implements store.RolloutStore.
func (s *Store) PutRollout(ctx context.Context, r store.RolloutRecord, expect int) error {
	if r.Deployment == "" {
		return errors.New("rollout without a deployment")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var res sql.Result
	if expect == 0 {
		res, err = tx.ExecContext(ctx, s.q(`INSERT INTO rollouts (deployment, version, state, revision, updated_at, record)
VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (deployment) DO NOTHING`),
			r.Deployment, r.Version, r.State, r.UpdatedAt.UnixNano(), string(r.Record))
	} else {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE rollouts SET version = ?, state = ?, revision = ?, updated_at = ?, record = ?
WHERE deployment = ? AND revision = ?`), r.Version, r.State, expect+1, r.UpdatedAt.UnixNano(), string(r.Record), r.Deployment, expect)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("rollout of %q is not at revision %d: %w", r.Deployment, expect, store.ErrVersionConflict)
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeRollout, Key: r.Deployment, Version: r.Version})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

const rolloutCols = `deployment, version, state, revision, updated_at, record`

func scanRollout(sc interface{ Scan(...any) error }) (store.RolloutRecord, error) {
	var r store.RolloutRecord
	var updated int64
	var rec string
	if err := sc.Scan(&r.Deployment, &r.Version, &r.State, &r.Revision, &updated, &rec); err != nil {
		return r, err
	}
	r.UpdatedAt, r.Record = time.Unix(0, updated).UTC(), []byte(rec)
	return r, nil
}

// GetRollout implements store.RolloutStore.
func (s *Store) GetRollout(ctx context.Context, deployment string) (store.RolloutRecord, error) {
	r, err := scanRollout(s.db.QueryRowContext(ctx, s.q(`SELECT `+rolloutCols+` FROM rollouts WHERE deployment = ?`), deployment))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rollout of deployment %q: %w", deployment, store.ErrNotFound)
	}
	return r, err
}

// ListRollouts implements store.RolloutStore.
func (s *Store) ListRollouts(ctx context.Context) ([]store.RolloutRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+rolloutCols+` FROM rollouts ORDER BY deployment`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanRollout)
}

// DeleteRollout implements store.RolloutStore.
func (s *Store) DeleteRollout(ctx context.Context, deployment string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM rollouts WHERE deployment = ?`), deployment)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("rollout of deployment %q: %w", deployment, store.ErrNotFound)
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeRollout, Key: deployment, Deleted: true})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

// LeaseRollout implements store.RolloutStore: one conditional UPDATE,
// atomic on both back ends.
func (s *Store) LeaseRollout(ctx context.Context, deployment, holder string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE rollouts SET lease_holder = ?, lease_until = ?
WHERE deployment = ? AND (lease_holder = ? OR lease_holder = '' OR lease_until < ?)`), holder, until.UnixNano(), deployment, holder, now.UnixNano())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
