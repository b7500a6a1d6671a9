package sqlstore_test

import (
	"context"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres"
	"github.com/phoenix-otel/phoenix/opamp-server/store/postgres/pgtest"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
	"github.com/phoenix-otel/phoenix/opamp-server/store/storetest"
)

// The conformance suite runs here as well as in the sqlite and postgres
// packages: sqlstore holds the SQL both back ends share, and a mutation
// tester (gremlins, `make mutation`) runs only the mutated package's own
// tests, so without these a change to sqlstore would meet no test.

func TestConformanceSQLite(t *testing.T) {
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

func TestConformancePostgres(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T) func(*testing.T, string) store.Store {
		dsn := pgtest.FreshDatabase(t)
		return func(t *testing.T, serverID string) store.Store {
			s, err := postgres.Open(context.Background(), dsn, serverID)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
