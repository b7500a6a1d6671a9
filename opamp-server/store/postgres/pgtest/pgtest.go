// Package pgtest gives tests a fresh PostgreSQL database on the cluster named
// by PHOENIX_TEST_POSTGRES_DSN (scripts/start-postgres.sh prints one).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding an administrative DSN of a test cluster.
const EnvDSN = "PHOENIX_TEST_POSTGRES_DSN"

// DSN returns the cluster DSN, skipping the test when it is unset outside CI
// and failing it in CI (where .ci/run starts a cluster).
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: in CI, .ci/run must start PostgreSQL with scripts/start-postgres.sh", EnvDSN)
		}
		t.Skipf("%s is not set: start a cluster with scripts/start-postgres.sh and export the DSN it prints to run the PostgreSQL tests", EnvDSN)
	}
	return dsn
}

// FreshDatabase creates an empty database for this test, drops it on
// cleanup, and returns its DSN.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	admin := DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "phoenix_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(admin, name)
}

// WithDatabase returns dsn pointing at database name.
func WithDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	return dsn + " dbname=" + name // later keys win in key=value DSNs
}
