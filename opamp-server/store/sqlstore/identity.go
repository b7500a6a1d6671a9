package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

const credentialCols = `instance_uid, token_hash, claimed_host, created_at, revoked_at`

func scanCredential(sc interface{ Scan(...any) error }) (store.Credential, error) {
	var c store.Credential
	var created, revoked int64
	if err := sc.Scan(&c.InstanceUID, &c.TokenHash, &c.ClaimedHost, &created, &revoked); err != nil {
		return c, err
	}
	c.CreatedAt = time.Unix(0, created).UTC()
	if revoked != 0 {
		c.RevokedAt = time.Unix(0, revoked).UTC()
	}
	return c, nil
}

// identityChange writes inside a transaction and announces a ChangeIdentity
// for uid after it commits.
func (s *Store) identityChange(ctx context.Context, uid string, write func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := write(tx); err != nil {
		return err
	}
	after, err := s.announce(ctx, tx, store.Change{Kind: store.ChangeIdentity, Key: uid})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	after()
	return nil
}

// CreateCredential implements store.IdentityStore. An existing row with an
// empty token hash (a readmitted agent) is taken over. Nothing is announced:
// no replica can hold a cached answer about a token that did not exist.
func (s *Store) CreateCredential(ctx context.Context, c store.Credential) error {
	if c.InstanceUID == "" || c.TokenHash == "" {
		return errors.New("credential without instance uid or token hash")
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO agent_credentials (`+credentialCols+`) VALUES (?, ?, ?, ?, 0)
ON CONFLICT (instance_uid) DO UPDATE SET token_hash = excluded.token_hash, claimed_host = excluded.claimed_host,
  created_at = excluded.created_at, revoked_at = 0
WHERE agent_credentials.token_hash = '' AND agent_credentials.revoked_at = 0`),
		c.InstanceUID, c.TokenHash, c.ClaimedHost, c.CreatedAt.UnixNano())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("agent %s already holds a credential: %w", c.InstanceUID, store.ErrExists)
	}
	return nil
}

// GetCredential implements store.IdentityStore.
func (s *Store) GetCredential(ctx context.Context, uid string) (store.Credential, error) {
	c, err := scanCredential(s.db.QueryRowContext(ctx, s.q(`SELECT `+credentialCols+` FROM agent_credentials WHERE instance_uid = ?`), uid))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("credential of agent %s: %w", uid, store.ErrNotFound)
	}
	return c, err
}

// CredentialByTokenHash implements store.IdentityStore.
func (s *Store) CredentialByTokenHash(ctx context.Context, tokenHash string) (store.Credential, error) {
	if tokenHash == "" {
		return store.Credential{}, fmt.Errorf("credential: %w", store.ErrNotFound)
	}
	c, err := scanCredential(s.db.QueryRowContext(ctx, s.q(`SELECT `+credentialCols+` FROM agent_credentials WHERE token_hash = ?`), tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("credential: %w", store.ErrNotFound)
	}
	return c, err
}

// ListCredentials implements store.IdentityStore.
func (s *Store) ListCredentials(ctx context.Context) ([]store.Credential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+credentialCols+` FROM agent_credentials ORDER BY created_at, instance_uid`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanCredential)
}

// SetClaimedHost implements store.IdentityStore.
func (s *Store) SetClaimedHost(ctx context.Context, uid, host string) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE agent_credentials SET claimed_host = ? WHERE instance_uid = ?`), host, uid)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("credential of agent %s: %w", uid, store.ErrNotFound)
	}
	return nil
}

// RevokeCredential implements store.IdentityStore.
func (s *Store) RevokeCredential(ctx context.Context, uid string, at time.Time) error {
	return s.identityChange(ctx, uid, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE agent_credentials SET revoked_at = ? WHERE instance_uid = ?`), at.UnixNano(), uid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("agent %s never enrolled: %w", uid, store.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM host_bindings WHERE instance_uid = ?`), uid)
		return err
	})
}

// ReadmitCredential implements store.IdentityStore.
func (s *Store) ReadmitCredential(ctx context.Context, uid string) error {
	return s.identityChange(ctx, uid, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE agent_credentials SET revoked_at = 0, token_hash = '' WHERE instance_uid = ?`), uid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("agent %s never enrolled: %w", uid, store.ErrNotFound)
		}
		return nil
	})
}

func scanBinding(sc interface{ Scan(...any) error }) (store.HostBinding, error) {
	var b store.HostBinding
	var at int64
	err := sc.Scan(&b.HostName, &b.InstanceUID, &at)
	b.BoundAt = time.Unix(0, at).UTC()
	return b, err
}

// BindHost implements store.IdentityStore: the first claim wins, whichever
// replica sees it (the primary key decides).
func (s *Store) BindHost(ctx context.Context, host, uid string, at time.Time) (store.HostBinding, error) {
	if host == "" || uid == "" {
		return store.HostBinding{}, errors.New("host binding without host name or instance uid")
	}
	// Read first: every reconnect claims again, and a bound name (the
	// usual case) needs no write.
	const sel = `SELECT host_name, instance_uid, bound_at FROM host_bindings WHERE host_name = ?`
	b, err := scanBinding(s.db.QueryRowContext(ctx, s.q(sel), host))
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return b, err
	}
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO host_bindings (host_name, instance_uid, bound_at) VALUES (?, ?, ?)
ON CONFLICT (host_name) DO NOTHING`), host, uid, at.UnixNano()); err != nil {
		return store.HostBinding{}, err
	}
	return scanBinding(s.db.QueryRowContext(ctx, s.q(sel), host))
}

// MoveHostBinding implements store.IdentityStore.
func (s *Store) MoveHostBinding(ctx context.Context, host, uid string, at time.Time) error {
	if host == "" || uid == "" {
		return errors.New("host binding without host name or instance uid")
	}
	return s.identityChange(ctx, uid, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO host_bindings (host_name, instance_uid, bound_at) VALUES (?, ?, ?)
ON CONFLICT (host_name) DO UPDATE SET instance_uid = excluded.instance_uid, bound_at = excluded.bound_at`), host, uid, at.UnixNano())
		return err
	})
}

// ListHostBindings implements store.IdentityStore.
func (s *Store) ListHostBindings(ctx context.Context) ([]store.HostBinding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT host_name, instance_uid, bound_at FROM host_bindings ORDER BY host_name`)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanBinding)
}
