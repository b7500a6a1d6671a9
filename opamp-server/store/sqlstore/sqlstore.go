// Package sqlstore implements store.Store over database/sql once, for both
// SQLite and PostgreSQL. The dialects differ only in placeholders, the lock
// that serialises deployment writes across replicas, how changes are
// announced (in-process for SQLite, NOTIFY for PostgreSQL) and the migrations.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

//go:embed migrations
var migrationsFS embed.FS

// Dialect is what differs between the databases.
type Dialect struct {
	Name string // "sqlite" or "postgres": also the migrations folder
	// Dollar placeholders ($1, $2, ...) instead of "?".
	Dollar bool
	// Lock is run first in every transaction that writes deployments, so the
	// one-deployment-per-host check sees every committed deployment ("" when
	// the database serialises writers itself, as SQLite does).
	Lock string
	// Notify announces a change inside the writing transaction (PostgreSQL
	// NOTIFY); nil publishes in-process after commit.
	Notify func(ctx context.Context, tx *sql.Tx, payload string) error
	// Arrays: the driver takes Go slices as array parameters (PostgreSQL),
	// so a batch of agents is one statement and one round trip (unnest)
	// instead of one per agent.
	Arrays bool
}

// Store is the shared implementation.
type Store struct {
	db       *sql.DB
	d        Dialect
	serverID string

	feed *changeFeed

	// Statements of the hot paths, prepared once (database/sql re-prepares
	// them on a new connection by itself).
	stmtUpsertAgent, stmtTouchAgent, stmtBumpGeneration *sql.Stmt
}

// Open wraps db, applies the pending migrations and returns the store.
func Open(ctx context.Context, db *sql.DB, d Dialect, serverID string) (*Store, error) {
	s := &Store{db: db, d: d, serverID: serverID, feed: newChangeFeed()}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.stmtUpsertAgent, s.upsertAgentSQL()},
		{&s.stmtTouchAgent, s.touchAgentSQL()},
		{&s.stmtBumpGeneration, `UPDATE store_generation SET generation = generation + 1 WHERE id = 1`},
	} {
		st, err := db.PrepareContext(ctx, s.q(p.query))
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.dst = st
	}
	return s, nil
}

// DB is the underlying handle (tests and the PostgreSQL listener).
func (s *Store) DB() *sql.DB { return s.db }

// q rewrites "?" placeholders for the dialect.
func (s *Store) q(query string) string {
	if !s.d.Dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migration is one embedded, versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the dialect's embedded migrations in order.
func Migrations(dialect string) ([]Migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s/%s: name must start with a number and '_'", dir, name)
		}
		body, err := fs.ReadFile(migrationsFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

func (s *Store) migrate(ctx context.Context) error {
	migs, err := Migrations(s.d.Name)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	if s.d.Lock != "" {
		// Replicas starting together must not both apply a migration.
		if _, err := tx.ExecContext(ctx, s.d.Lock); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	maxKnown := 0
	for _, m := range migs {
		maxKnown = max(maxKnown, m.Version)
	}
	for v := range applied {
		if v > maxKnown {
			return fmt.Errorf("migrate: the database is at schema version %d but this phoenix-server knows up to %d; run a newer phoenix-server", v, maxKnown)
		}
	}
	for _, m := range migs {
		if applied[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: %s/%s: %w", s.d.Name, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.Version, m.Name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return tx.Commit()
}

// SchemaVersion is the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// ---- changes ----

// Subscribe implements store.Store: changes are never dropped; unread
// changes to the same deployment or agent coalesce into the latest one.
func (s *Store) Subscribe(ctx context.Context) <-chan store.Change {
	return s.feed.subscribe(ctx)
}

// Publish delivers a change to the subscribers of this process. The
// PostgreSQL listener calls it for every NOTIFY it receives; a change with
// Keys is one change per key.
func (s *Store) Publish(c store.Change) {
	if len(c.Keys) == 0 {
		s.feed.publish(c)
		return
	}
	keys := c.Keys
	c.Keys = nil
	for _, k := range keys {
		c.Key = k
		s.feed.publish(c)
	}
}

// PendingChanges is the number of changes published but not yet read by
// the subscribers of this process (tests and metrics).
func (s *Store) PendingChanges() int { return s.feed.pendingCount() }

// announce is called inside a writing transaction; it returns what to run
// after a successful commit.
func (s *Store) announce(ctx context.Context, tx *sql.Tx, c store.Change) (func(), error) {
	c.Origin = s.serverID
	if s.d.Notify != nil {
		b, _ := json.Marshal(c)
		return func() {}, s.d.Notify(ctx, tx, string(b))
	}
	return func() { s.Publish(c) }, nil
}

// ---- deployments ----

func (s *Store) lockDeployments(ctx context.Context, tx *sql.Tx) error {
	if s.d.Lock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.Lock)
	return err
}

// CreateDeployment implements store.Store.
func (s *Store) CreateDeployment(ctx context.Context, name string, spec store.DeploymentSpec, check store.ConflictCheck) (store.DeploymentVersion, error) {
	return s.writeVersion(ctx, name, 0, spec, 0, check)
}

// AddDeploymentVersion implements store.Store.
func (s *Store) AddDeploymentVersion(ctx context.Context, name string, expect int, spec store.DeploymentSpec, rollbackOf int, check store.ConflictCheck) (store.DeploymentVersion, error) {
	if expect < 1 {
		return store.DeploymentVersion{}, fmt.Errorf("expected version must be >= 1, got %d", expect)
	}
	return s.writeVersion(ctx, name, expect, spec, rollbackOf, check)
}

func (s *Store) writeVersion(ctx context.Context, name string, expect int, spec store.DeploymentSpec, rollbackOf int, check store.ConflictCheck) (store.DeploymentVersion, error) {
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return store.DeploymentVersion{}, fmt.Errorf("encode spec: %w", err)
	}
	// The agents are read before the lock, and without their effective
	// configs: the lock serialises deployment writes (every committed
	// deployment is seen), and agents come and go independently of it, so
	// holding it (and, on SQLite, the write lock) while N agents are read
	// would only stall the agents' own writes.
	var agents []store.Agent
	if check != nil {
		if agents, err = s.listAgentMatchKeys(ctx); err != nil {
			return store.DeploymentVersion{}, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.DeploymentVersion{}, err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := s.lockDeployments(ctx, tx); err != nil {
		return store.DeploymentVersion{}, err
	}
	var cur int
	err = tx.QueryRowContext(ctx, s.q(`SELECT version FROM deployments WHERE name = ?`), name).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if expect != 0 {
			return store.DeploymentVersion{}, fmt.Errorf("deployment %q: %w", name, store.ErrNotFound)
		}
	case err != nil:
		return store.DeploymentVersion{}, err
	case expect == 0:
		return store.DeploymentVersion{}, fmt.Errorf("deployment %q: %w", name, store.ErrExists)
	case cur != expect:
		return store.DeploymentVersion{}, fmt.Errorf("deployment %q is at version %d, not %d: %w", name, cur, expect, store.ErrVersionConflict)
	}
	if check != nil {
		others, err := s.listDeployments(ctx, tx, name)
		if err != nil {
			return store.DeploymentVersion{}, err
		}
		if err := check(others, agents); err != nil {
			return store.DeploymentVersion{}, err
		}
	}
	now := time.Now().UTC()
	v := store.DeploymentVersion{Deployment: name, Version: expect + 1, Spec: spec, RollbackOf: rollbackOf, CreatedAt: now}
	if expect == 0 {
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO deployments (name, version, created_at, updated_at) VALUES (?, ?, ?, ?)`),
			name, v.Version, now.UnixNano(), now.UnixNano())
	} else {
		_, err = tx.ExecContext(ctx, s.q(`UPDATE deployments SET version = ?, updated_at = ? WHERE name = ?`), v.Version, now.UnixNano(), name)
	}
	if err != nil {
		return store.DeploymentVersion{}, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deployment_versions (deployment, version, spec, rollback_of, created_at) VALUES (?, ?, ?, ?, ?)`),
		name, v.Version, string(specJSON), rollbackOf, now.UnixNano()); err != nil {
		return store.DeploymentVersion{}, err
	}
	if err := s.bumpGeneration(ctx, tx); err != nil {
		return store.DeploymentVersion{}, err
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeDeployment, Key: name, Version: v.Version})
	if err != nil {
		return store.DeploymentVersion{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.DeploymentVersion{}, err
	}
	after()
	return v, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const deploymentCols = `d.name, d.version, d.created_at, d.updated_at, v.spec, v.rollback_of, v.created_at`

// collectRows scans every row with scan, closes rows, and reports the
// iteration's error.
func collectRows[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanDeployment(sc interface{ Scan(...any) error }) (store.Deployment, error) {
	var d store.Deployment
	var created, updated, vCreated int64
	var spec string
	if err := sc.Scan(&d.Name, &d.Version, &created, &updated, &spec, &d.Current.RollbackOf, &vCreated); err != nil {
		return d, err
	}
	d.CreatedAt, d.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	d.Current.Deployment, d.Current.Version, d.Current.CreatedAt = d.Name, d.Version, time.Unix(0, vCreated).UTC()
	if err := json.Unmarshal([]byte(spec), &d.Current.Spec); err != nil {
		return d, fmt.Errorf("deployment %q version %d: stored spec is corrupt: %w", d.Name, d.Version, err)
	}
	return d, nil
}

// GetDeployment implements store.Store.
func (s *Store) GetDeployment(ctx context.Context, name string) (store.Deployment, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+deploymentCols+` FROM deployments d JOIN deployment_versions v ON v.deployment = d.name AND v.version = d.version WHERE d.name = ?`), name)
	d, err := scanDeployment(row)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("deployment %q: %w", name, store.ErrNotFound)
	}
	return d, err
}

// ListDeployments implements store.Store.
func (s *Store) ListDeployments(ctx context.Context) ([]store.Deployment, error) {
	return s.listDeployments(ctx, s.db, "")
}

func (s *Store) listDeployments(ctx context.Context, q querier, except string) ([]store.Deployment, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT `+deploymentCols+` FROM deployments d JOIN deployment_versions v ON v.deployment = d.name AND v.version = d.version WHERE d.name <> ? ORDER BY d.created_at, d.name`), except)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanDeployment)
}

func scanVersion(sc interface{ Scan(...any) error }) (store.DeploymentVersion, error) {
	var v store.DeploymentVersion
	var spec string
	var created int64
	if err := sc.Scan(&v.Deployment, &v.Version, &spec, &v.RollbackOf, &created); err != nil {
		return v, err
	}
	v.CreatedAt = time.Unix(0, created).UTC()
	if err := json.Unmarshal([]byte(spec), &v.Spec); err != nil {
		return v, fmt.Errorf("deployment %q version %d: stored spec is corrupt: %w", v.Deployment, v.Version, err)
	}
	return v, nil
}

// GetDeploymentVersion implements store.Store.
func (s *Store) GetDeploymentVersion(ctx context.Context, name string, version int) (store.DeploymentVersion, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT deployment, version, spec, rollback_of, created_at FROM deployment_versions WHERE deployment = ? AND version = ?`), name, version)
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		if _, derr := s.GetDeployment(ctx, name); derr != nil {
			return v, derr
		}
		return v, fmt.Errorf("deployment %q has no version %d: %w", name, version, store.ErrNotFound)
	}
	return v, err
}

// ListDeploymentVersions implements store.Store.
func (s *Store) ListDeploymentVersions(ctx context.Context, name string) ([]store.DeploymentVersion, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT deployment, version, spec, rollback_of, created_at FROM deployment_versions WHERE deployment = ? ORDER BY version`), name)
	if err != nil {
		return nil, err
	}
	out, err := collectRows(rows, scanVersion)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("deployment %q: %w", name, store.ErrNotFound)
	}
	return out, nil
}

// DeleteDeployment implements store.Store.
func (s *Store) DeleteDeployment(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := s.lockDeployments(ctx, tx); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM deployments WHERE name = ?`), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("deployment %q: %w", name, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM deployment_versions WHERE deployment = ?`), name); err != nil {
		return err
	}
	if err := s.bumpGeneration(ctx, tx); err != nil {
		return err
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeDeployment, Key: name, Deleted: true})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

// ---- agents ----

const upsertAgentConflict = `
ON CONFLICT (instance_uid) DO UPDATE SET host_name = excluded.host_name, server_id = excluded.server_id,
  connected = excluded.connected, last_seen = excluded.last_seen, record = excluded.record, effective_config = excluded.effective_config`

func (s *Store) upsertAgentSQL() string {
	if s.d.Arrays {
		return `INSERT INTO agents (instance_uid, host_name, server_id, connected, last_seen, record, effective_config)
SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[])` + upsertAgentConflict
	}
	return `INSERT INTO agents (instance_uid, host_name, server_id, connected, last_seen, record, effective_config)
VALUES (?, ?, ?, ?, ?, ?, ?)` + upsertAgentConflict
}

func (s *Store) touchAgentSQL() string {
	if s.d.Arrays {
		return `UPDATE agents SET last_seen = ? WHERE instance_uid = ANY(?::text[]) AND server_id = ? AND last_seen < ?`
	}
	return `UPDATE agents SET last_seen = ? WHERE instance_uid = ? AND server_id = ? AND last_seen < ?`
}

// UpsertAgent implements store.Store.
func (s *Store) UpsertAgent(ctx context.Context, a store.Agent, notify bool) error {
	return s.UpsertAgents(ctx, []store.Agent{a}, notify)
}

// notifyChunk is how many agent uids one PostgreSQL NOTIFY carries: a
// payload must stay under 8,000 bytes and a uid is 36.
const notifyChunk = 150

// UpsertAgents implements store.Store: one transaction, one prepared
// statement, and (with notify) one announcement per chunk of agents.
func (s *Store) UpsertAgents(ctx context.Context, agents []store.Agent, notify bool) error {
	if len(agents) == 0 {
		return nil
	}
	for _, a := range agents {
		if a.InstanceUID == "" {
			return errors.New("agent without instance uid")
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	stmt := tx.StmtContext(ctx, s.stmtUpsertAgent)
	// The last record of an agent wins (one statement may not touch a row twice).
	last := make(map[string]int, len(agents))
	for i, a := range agents {
		last[a.InstanceUID] = i
	}
	uids := make([]string, 0, len(last))
	var arr struct {
		uid, host, server, rec, eff []string
		conn, seen                  []int64
	}
	for i, a := range agents {
		if last[a.InstanceUID] != i {
			continue
		}
		rec, err := json.Marshal(a)
		if err != nil {
			return err
		}
		uids = append(uids, a.InstanceUID)
		if s.d.Arrays {
			arr.uid, arr.host, arr.server = append(arr.uid, a.InstanceUID), append(arr.host, a.HostName), append(arr.server, a.ServerID)
			arr.conn, arr.seen = append(arr.conn, int64(boolInt(a.Connected))), append(arr.seen, a.LastSeen.UnixNano())
			arr.rec, arr.eff = append(arr.rec, string(rec)), append(arr.eff, a.EffectiveConfig)
			continue
		}
		if _, err := stmt.ExecContext(ctx, a.InstanceUID, a.HostName, a.ServerID, boolInt(a.Connected), a.LastSeen.UnixNano(), string(rec), a.EffectiveConfig); err != nil {
			return fmt.Errorf("agent %s: %w", a.InstanceUID, err)
		}
	}
	if s.d.Arrays {
		if _, err := stmt.ExecContext(ctx, arr.uid, arr.host, arr.server, arr.conn, arr.seen, arr.rec, arr.eff); err != nil {
			return fmt.Errorf("%d agents: %w", len(uids), err)
		}
	}
	after := func() {}
	if notify {
		var afters []func()
		for i := 0; i < len(uids); i += notifyChunk {
			c := store.Change{Kind: store.ChangeAgent, Keys: uids[i:min(i+notifyChunk, len(uids))]}
			if len(c.Keys) == 1 {
				c.Key, c.Keys = c.Keys[0], nil
			}
			a, err := s.announce(ctx, tx, c)
			if err != nil {
				return err
			}
			afters = append(afters, a)
		}
		after = func() {
			for _, a := range afters {
				a()
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

// TouchAgents implements store.Store: liveness only, no announcement, and
// only where serverID still holds the agent.
func (s *Store) TouchAgents(ctx context.Context, uids []string, serverID string, at time.Time) error {
	if len(uids) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	stmt := tx.StmtContext(ctx, s.stmtTouchAgent)
	ns := at.UnixNano()
	if s.d.Arrays {
		if _, err := stmt.ExecContext(ctx, ns, uids, serverID, ns); err != nil {
			return fmt.Errorf("%d agents: %w", len(uids), err)
		}
		return tx.Commit()
	}
	for _, uid := range uids {
		if _, err := stmt.ExecContext(ctx, ns, uid, serverID, ns); err != nil {
			return fmt.Errorf("agent %s: %w", uid, err)
		}
	}
	return tx.Commit()
}

// DeploymentsGeneration implements store.Store.
func (s *Store) DeploymentsGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := s.db.QueryRowContext(ctx, `SELECT generation FROM store_generation WHERE id = 1`).Scan(&g)
	return g, err
}

func (s *Store) bumpGeneration(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.StmtContext(ctx, s.stmtBumpGeneration).ExecContext(ctx)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const agentCols = `instance_uid, server_id, connected, last_seen, record, effective_config`

func scanAgent(sc interface{ Scan(...any) error }) (store.Agent, error) {
	var a store.Agent
	var uid, serverID, rec, eff string
	var connected int
	var lastSeen int64
	if err := sc.Scan(&uid, &serverID, &connected, &lastSeen, &rec, &eff); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(rec), &a); err != nil {
		return a, fmt.Errorf("agent %s: stored record is corrupt: %w", uid, err)
	}
	a.InstanceUID, a.ServerID, a.Connected, a.EffectiveConfig = uid, serverID, connected != 0, eff
	a.LastSeen = time.Unix(0, lastSeen).UTC()
	return a, nil
}

// GetAgent implements store.Store.
func (s *Store) GetAgent(ctx context.Context, uid string) (store.Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, s.q(`SELECT `+agentCols+` FROM agents WHERE instance_uid = ?`), uid))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("agent %s: %w", uid, store.ErrNotFound)
	}
	return a, err
}

// ListAgents implements store.Store.
func (s *Store) ListAgents(ctx context.Context) ([]store.Agent, error) {
	return s.listAgents(ctx, s.db)
}

// ListAgentRecords implements store.Store.
func (s *Store) ListAgentRecords(ctx context.Context) ([]store.Agent, error) {
	return s.listAgentTargets(ctx)
}

// ListAgentsSeenBefore implements store.Store.
func (s *Store) ListAgentsSeenBefore(ctx context.Context, t time.Time) ([]store.Agent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT instance_uid, server_id, connected, last_seen, record, '' FROM agents WHERE last_seen < ? ORDER BY host_name, instance_uid`), t.UnixNano())
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanAgent)
}

// listAgentMatchKeys lists the agents with only what a target matches on
// (host name and labels), for the overlap check of a deployment write. It
// decodes two fields of each record instead of all of them: the write
// reads every agent, and during a rollout it competes with the rollout's
// own work for the CPU.
func (s *Store) listAgentMatchKeys(ctx context.Context) ([]store.Agent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT instance_uid, host_name, record FROM agents ORDER BY host_name, instance_uid`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(sc interface{ Scan(...any) error }) (store.Agent, error) {
		var a store.Agent
		var rec string
		if err := sc.Scan(&a.InstanceUID, &a.HostName, &rec); err != nil {
			return a, err
		}
		var keys struct {
			Labels map[string]string `json:"labels"`
		}
		if err := json.Unmarshal([]byte(rec), &keys); err != nil {
			return a, fmt.Errorf("agent %s: stored record is corrupt: %w", a.InstanceUID, err)
		}
		a.Labels = keys.Labels
		return a, nil
	})
}

// listAgentTargets lists the agents without their effective configs (what
// a status needs).
func (s *Store) listAgentTargets(ctx context.Context) ([]store.Agent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT instance_uid, server_id, connected, last_seen, record, '' FROM agents ORDER BY host_name, instance_uid`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanAgent)
}

func (s *Store) listAgents(ctx context.Context, q querier) ([]store.Agent, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY host_name, instance_uid`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanAgent)
}

// MarkDisconnected implements store.Store.
func (s *Store) MarkDisconnected(ctx context.Context, uid, serverID string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	res, err := tx.ExecContext(ctx, s.q(`UPDATE agents SET connected = 0, last_seen = ? WHERE instance_uid = ? AND server_id = ? AND connected = 1`),
		at.UnixNano(), uid, serverID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another replica holds it now, or it was already offline
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeAgent, Key: uid})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

// MarkServerDisconnected implements store.Store.
func (s *Store) MarkServerDisconnected(ctx context.Context, serverID string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE agents SET connected = 0 WHERE server_id = ?`), serverID)
	return err
}

// DeleteAgent implements store.Store.
func (s *Store) DeleteAgent(ctx context.Context, uid string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM agents WHERE instance_uid = ?`), uid)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("agent %s: %w", uid, store.ErrNotFound)
	}
	return nil
}

// ---- metrics ----

// WriteMetrics implements store.Store.
func (s *Store) WriteMetrics(ctx context.Context, points []store.MetricPoint, resolutions []store.Resolution) error {
	if len(points) == 0 || len(resolutions) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	// A sample older than the bucket's last one does not replace "last".
	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO metric_buckets (agent_uid, name, pipeline, stage, variant, step, bucket, last, last_ts, min, max, sum, count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
ON CONFLICT (agent_uid, name, pipeline, stage, variant, step, bucket) DO UPDATE SET
  last = CASE WHEN excluded.last_ts >= metric_buckets.last_ts THEN excluded.last ELSE metric_buckets.last END,
  last_ts = CASE WHEN excluded.last_ts >= metric_buckets.last_ts THEN excluded.last_ts ELSE metric_buckets.last_ts END,
  min = CASE WHEN excluded.min < metric_buckets.min THEN excluded.min ELSE metric_buckets.min END,
  max = CASE WHEN excluded.max > metric_buckets.max THEN excluded.max ELSE metric_buckets.max END,
  sum = metric_buckets.sum + excluded.sum,
  count = metric_buckets.count + 1`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, p := range points {
		for _, r := range resolutions {
			step := int64(r.Step / time.Second)
			if step <= 0 {
				return fmt.Errorf("resolution step %s is below one second", r.Step)
			}
			bucket := p.Time.Unix() / step * step
			if _, err := stmt.ExecContext(ctx, p.AgentUID, p.Name, p.Pipeline, p.Stage, p.Variant, step, bucket,
				p.Value, p.Time.UnixNano(), p.Value, p.Value, p.Value); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// QueryMetrics implements store.Store.
func (s *Store) QueryMetrics(ctx context.Context, q store.MetricQuery) ([]store.MetricBucket, error) {
	var where []string
	var args []any
	add := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	add("agent_uid", q.AgentUID)
	add("name", q.Name)
	add("pipeline", q.Pipeline)
	add("stage", q.Stage)
	add("variant", q.Variant)
	where = append(where, "step = ?", "bucket >= ?")
	args = append(args, int64(q.Step/time.Second), q.Since.Unix())
	limit := q.Limit
	if limit <= 0 || limit > 100000 {
		limit = 10000
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT agent_uid, name, pipeline, stage, variant, step, bucket, last, min, max, sum, count FROM metric_buckets WHERE `+
		strings.Join(where, " AND ")+` ORDER BY agent_uid, name, pipeline, stage, variant, bucket LIMIT `+strconv.Itoa(limit)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.MetricBucket
	for rows.Next() {
		var b store.MetricBucket
		var bucket int64
		if err := rows.Scan(&b.AgentUID, &b.Name, &b.Pipeline, &b.Stage, &b.Variant, &b.Step, &bucket, &b.Last, &b.Min, &b.Max, &b.Sum, &b.Count); err != nil {
			return nil, err
		}
		b.Start = time.Unix(bucket, 0).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// PruneMetrics implements store.Store.
func (s *Store) PruneMetrics(ctx context.Context, now time.Time, resolutions []store.Resolution) (int64, error) {
	var total int64
	for _, r := range resolutions {
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM metric_buckets WHERE step = ? AND bucket < ?`),
			int64(r.Step/time.Second), now.Add(-r.Retention).Unix())
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.stmtUpsertAgent, s.stmtTouchAgent, s.stmtBumpGeneration} {
		if st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

var _ store.Store = (*Store)(nil)
