package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// PutExperiment implements store.ExperimentStore.
func (s *Store) PutExperiment(ctx context.Context, r store.ExperimentRecord, expect int) error {
	if r.Name == "" {
		return errors.New("experiment without a name")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var res sql.Result
	if expect == 0 {
		res, err = tx.ExecContext(ctx, s.q(`INSERT INTO experiments (name, status, active, revision, created_at, record)
VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (name) DO NOTHING`),
			r.Name, r.Status, boolInt(r.Active), r.CreatedAt.UnixNano(), string(r.Record))
	} else {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE experiments SET status = ?, active = ?, revision = ?, record = ?
WHERE name = ? AND revision = ?`), r.Status, boolInt(r.Active), expect+1, string(r.Record), r.Name, expect)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("experiment %q is not at revision %d: %w", r.Name, expect, store.ErrVersionConflict)
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeExperiment, Key: r.Name, Version: expect + 1})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

const experimentCols = `name, status, active, revision, created_at, record`

func scanExperiment(sc interface{ Scan(...any) error }) (store.ExperimentRecord, error) {
	var r store.ExperimentRecord
	var active int
	var created int64
	var rec string
	if err := sc.Scan(&r.Name, &r.Status, &active, &r.Revision, &created, &rec); err != nil {
		return r, err
	}
	r.Active, r.CreatedAt, r.Record = active != 0, time.Unix(0, created).UTC(), []byte(rec)
	return r, nil
}

// GetExperiment implements store.ExperimentStore.
func (s *Store) GetExperiment(ctx context.Context, name string) (store.ExperimentRecord, error) {
	r, err := scanExperiment(s.db.QueryRowContext(ctx, s.q(`SELECT `+experimentCols+` FROM experiments WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("experiment %q: %w", name, store.ErrNotFound)
	}
	return r, err
}

// ListExperiments implements store.ExperimentStore.
func (s *Store) ListExperiments(ctx context.Context, activeOnly bool) ([]store.ExperimentRecord, error) {
	q := `SELECT ` + experimentCols + ` FROM experiments`
	if activeOnly {
		q += ` WHERE active = 1`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC, name DESC`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanExperiment)
}

// DeleteExperiment implements store.ExperimentStore.
func (s *Store) DeleteExperiment(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM experiments WHERE name = ?`), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("experiment %q: %w", name, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM experiment_samples WHERE experiment = ?`), name); err != nil {
		return err
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeExperiment, Key: name, Deleted: true})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

// AddExperimentSamples implements store.ExperimentStore.
func (s *Store) AddExperimentSamples(ctx context.Context, name string, samples []store.ExperimentSample) error {
	if len(samples) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO experiment_samples (experiment, interval_no, host, variant, kpi, at, value)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment, interval_no, host, variant, kpi) DO NOTHING`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, x := range samples {
		if _, err := stmt.ExecContext(ctx, name, x.Interval, x.Host, x.Variant, x.KPI, x.Time.UnixNano(), x.Value); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ListExperimentSamples implements store.ExperimentStore.
func (s *Store) ListExperimentSamples(ctx context.Context, name string) ([]store.ExperimentSample, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT interval_no, host, variant, kpi, at, value FROM experiment_samples
WHERE experiment = ? ORDER BY interval_no, host, variant, kpi`), name)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(sc interface{ Scan(...any) error }) (store.ExperimentSample, error) {
		var x store.ExperimentSample
		var at int64
		err := sc.Scan(&x.Interval, &x.Host, &x.Variant, &x.KPI, &at, &x.Value)
		x.Time = time.Unix(0, at).UTC()
		return x, err
	})
}

// LeaseExperiment implements store.ExperimentStore: one conditional UPDATE,
// atomic on both back ends.
func (s *Store) LeaseExperiment(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE experiments SET lease_holder = ?, lease_until = ?
WHERE name = ? AND (lease_holder = ? OR lease_holder = '' OR lease_until < ?)`), holder, until.UnixNano(), name, holder, now.UnixNano())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
