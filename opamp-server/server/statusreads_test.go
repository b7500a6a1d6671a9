package server

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

// Status reads (ListAgentRecords) see this replica's queued agent writes,
// as ListAgents does: the reader flushes first.
func TestStatusReadsSeeQueuedWrites(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, t.TempDir(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	sessions := testSessions(3, time.Now().UTC())
	w := newAgentWriter(inner, "a", slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour, time.Minute, func() []*session { return sessions })
	for _, s := range sessions {
		w.mark(s, false)
	}
	got, err := readYourWrites{Store: inner, w: w}.ListAgentRecords(ctx)
	if err != nil || len(got) != 3 {
		t.Fatalf("status read saw %d of 3 queued agents, %v", len(got), err)
	}
}
