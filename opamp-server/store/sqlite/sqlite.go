// Package sqlite is phoenix-server's default store: SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo), in WAL mode, in one file under the data
// directory.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlstore"
)

// FileName is the database file inside the data directory.
const FileName = "phoenix.db"

// Open opens (creating when needed) dataDir/phoenix.db and migrates it.
func Open(ctx context.Context, dataDir, serverID string) (*sqlstore.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite store: data directory %s: %w", dataDir, err)
	}
	return OpenFile(ctx, filepath.Join(dataDir, FileName), serverID)
}

// OpenFile opens the database at path. The file, and so its WAL and shared
// memory files (SQLite gives them the database file's mode), are the
// owner's only: they hold credentials' hashes and sealed secrets.
func OpenFile(ctx context.Context, path, serverID string) (*sqlstore.Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("sqlite store %s: %w", p, err)
		}
	}
	q := url.Values{}
	// WAL lets readers run beside the writer; busy_timeout makes concurrent
	// writers wait instead of failing; immediate transactions take the write
	// lock up front, so two writers never deadlock upgrading a read lock.
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	s, err := sqlstore.Open(ctx, db, sqlstore.Dialect{Name: "sqlite"}, serverID)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	return s, nil
}
