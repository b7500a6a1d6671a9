package sqlstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlstore"
)

// Migrations lists each dialect's migrations in version order, named
// after their version, the same versions for both dialects.
func TestMigrationsInVersionOrder(t *testing.T) {
	var versions [2]string
	for i, d := range []string{"sqlite", "postgres"} {
		ms, err := sqlstore.Migrations(d)
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s: %d migrations, %v", d, len(ms), err)
		}
		var vs []string
		for j, m := range ms {
			if j > 0 && m.Version <= ms[j-1].Version {
				t.Errorf("%s: %s after %s", d, m.Name, ms[j-1].Name)
			}
			if n, _, _ := strings.Cut(m.Name, "_"); n != strconv.Itoa(m.Version) && strings.TrimLeft(n, "0") != strconv.Itoa(m.Version) {
				t.Errorf("%s: %s has version %d", d, m.Name, m.Version)
			}
			if strings.TrimSpace(m.SQL) == "" {
				t.Errorf("%s: %s is empty", d, m.Name)
			}
			vs = append(vs, strconv.Itoa(m.Version))
		}
		versions[i] = strings.Join(vs, ",")
	}
	if versions[0] != versions[1] {
		t.Errorf("sqlite versions %s, postgres %s", versions[0], versions[1])
	}
}

// A database of an older schema (the last migration not applied) gets the
// missing migration when a newer server opens it.
func TestOpenAppliesMissingMigrations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ms, err := sqlstore.Migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1]
	s, err := sqlite.Open(ctx, dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != last.Version {
		t.Fatalf("schema version %d %v, want %d", v, err, last.Version)
	}
	// Undo the last migration (it creates the rollouts table).
	if !strings.Contains(last.SQL, "CREATE TABLE rollouts") {
		t.Fatalf("the last migration %s no longer creates rollouts: adapt this test", last.Name)
	}
	if _, err := s.DB().Exec(`DROP TABLE rollouts`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`DELETE FROM schema_migrations WHERE version = ?`, last.Version); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != last.Version {
		t.Fatalf("after reopening: schema version %d %v, want %d", v, err, last.Version)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM rollouts`).Scan(&n); err != nil {
		t.Fatalf("rollouts after reopening: %v", err)
	}
}
