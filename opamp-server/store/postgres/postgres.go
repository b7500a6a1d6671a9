// Package postgres is phoenix-server's store for several replicas: PostgreSQL
// through pgx v5. Writers announce changes with NOTIFY inside their
// transaction; every replica LISTENs, so an agent connected to replica B gets
// a deployment made on replica A.
package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlstore"
)

// Channel is the LISTEN/NOTIFY channel.
const Channel = "phoenix_changes"

// lockID is the advisory lock that serialises deployment writes (and
// migrations) across replicas.
const lockID = 4320001

// Store is the PostgreSQL store: the shared SQL store plus a listener.
type Store struct {
	*sqlstore.Store
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open connects with dsn (a PostgreSQL URL or key=value string), migrates and
// starts listening for changes.
func Open(ctx context.Context, dsn, serverID string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: bad DSN: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancelPing := context.WithTimeout(ctx, 15*time.Second)
	defer cancelPing()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	d := sqlstore.Dialect{
		Name:   "postgres",
		Dollar: true,
		Arrays: true,
		Lock:   fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", lockID),
		Notify: func(ctx context.Context, tx *sql.Tx, payload string) error {
			_, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, payload)
			return err
		},
	}
	inner, err := sqlstore.Open(ctx, db, d, serverID)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s := &Store{Store: inner, cancel: cancel}
	ready := make(chan error, 1)
	s.wg.Add(1)
	go s.listen(lctx, cfg, ready)
	select {
	case err := <-ready:
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("postgres store: LISTEN %s: %w", Channel, err)
		}
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
	return s, nil
}

// listen holds one connection in LISTEN and republishes every notification
// in-process. After a lost connection it reconnects and publishes a resync,
// because notifications sent meanwhile are gone.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, ready chan<- error) {
	defer s.wg.Done()
	first := true
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+Channel)
		}
		if first {
			ready <- err
			first = false
			if err != nil {
				if conn != nil {
					conn.Close(context.Background())
				}
				return
			}
		} else if err == nil {
			s.Publish(store.Change{Kind: store.ChangeResync})
		}
		if err == nil {
			backoff = 100 * time.Millisecond
			for {
				n, werr := conn.WaitForNotification(ctx)
				if werr != nil {
					break
				}
				var c store.Change
				if json.Unmarshal([]byte(n.Payload), &c) == nil {
					s.Publish(c)
				}
			}
		}
		if conn != nil {
			conn.Close(context.Background())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Close stops the listener and closes the pool.
func (s *Store) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.Store.Close()
}

var _ store.Store = (*Store)(nil)

// SupportsReplicas tells the conformance suite that changes cross processes.
func (s *Store) SupportsReplicas() bool { return true }
