package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/server"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// e2eLogger discards the parts' logs unless PHOENIX_E2E_LOG is set.
func e2eLogger() *slog.Logger {
	if os.Getenv("PHOENIX_E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer runs a phoenix-server on SQLite under dir/server with loopback
// ports, stopped when the test ends.
func startServer(t *testing.T, dir, id string, logger *slog.Logger, res ...store.Resolution) *server.Server {
	t.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{OpAMPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: filepath.Join(dir, "server"), ServerID: id, Logger: logger,
		MetricResolutions: res})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = srv.Stop(c)
	})
	return srv
}
