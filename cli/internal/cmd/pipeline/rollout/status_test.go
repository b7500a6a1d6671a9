package rollout

import (
	"bytes"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// On a terminal the watch draws a bar of hosts applied of total, with the
// stage and failures as lines above it; elsewhere it prints plain lines.
func TestWatchOutput(t *testing.T) {
	r := api.Rollout{Deployment: "web", Version: 2, State: api.RolloutRolling, Stage: 2, Stages: 5, Total: 40, Applied: 12, Reason: "batch 2"}
	var tty bytes.Buffer
	w := newWatcher(&tty, &output.Printer{W: &tty, Format: output.Table, Term: output.Terminal{Width: 100}})
	if err := w.show(nil, r); err != nil {
		t.Fatal(err)
	}
	r.Applied, r.Failed, r.Failures = 17, 1, []api.RolloutFailure{{Host: "h9", Status: "failed", Error: "bad exporter"}}
	if err := w.show(nil, r); err != nil {
		t.Fatal(err)
	}
	w.done()
	out := tty.String()
	for _, want := range []string{"12/40", "17/40", "stage 2/5", "host h9 failed: bad exporter", "|"} {
		if !strings.Contains(out, want) {
			t.Fatalf("terminal output lacks %q:\n%q", want, out)
		}
	}
	var plain bytes.Buffer
	w = newWatcher(&plain, &output.Printer{W: &plain, Format: output.Table})
	_ = w.show(nil, r)
	_ = w.show(nil, r) // unchanged: no second line
	if lines := strings.Count(plain.String(), "\n"); lines != 2 || strings.Contains(plain.String(), "\r") || !strings.Contains(plain.String(), "17/40 hosts applied, 1 failed") {
		t.Fatalf("plain output (%d lines):\n%s", lines, plain.String())
	}
}
