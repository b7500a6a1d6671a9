package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
	"github.com/phoenix-otel/phoenix/opamp-server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(*testing.T, string) store.Store {
		dir := t.TempDir()
		return func(t *testing.T, serverID string) store.Store {
			s, err := sqlite.Open(context.Background(), dir, serverID)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

func TestWALAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := sqlite.Open(context.Background(), dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(mode, "wal") {
		t.Fatalf("journal_mode = %s, want wal", mode)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Fatalf("database file: %v", err)
	}
	if v, err := s.SchemaVersion(context.Background()); err != nil || v < 1 {
		t.Fatalf("schema version %d %v", v, err)
	}
}

func TestUnwritableDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), filepath.Join(f, "sub"), "a")
	if err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Fatalf("err = %v, want a data directory error", err)
	}
}

func BenchmarkAgentWrites(b *testing.B) {
	s, err := sqlite.Open(context.Background(), b.TempDir(), "a")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchAgentWrites(b, s)
}

// The database, its WAL and its shared memory are the owner's only, even
// under a permissive umask, and so is the directory Open creates.
func TestFilesAreOwnersOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	s, err := sqlite.Open(context.Background(), dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec(`CREATE TABLE perm_probe (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v %v, want 0700", fi.Mode().Perm(), err)
	}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal", sqlite.FileName + "-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

func BenchmarkAgentReads(b *testing.B) {
	s, err := sqlite.Open(context.Background(), b.TempDir(), "a")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchAgentReads(b, s)
}
