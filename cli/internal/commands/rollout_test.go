package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// failAfterFirst takes the first config it gets and fails every other.
func failAfterFirst() func([]byte) string {
	var mu sync.Mutex
	var first []byte
	return func(body []byte) string {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = append([]byte{}, body...)
		}
		if bytes.Equal(first, body) {
			return ""
		}
		return "told to fail: bad exporter"
	}
}

// phoenix pipeline rollout status --watch follows a staged rollout until a
// failing host pauses it (exit 1, the host and its error shown); resume
// and status --watch follow it to completion; abort returns the reached
// hosts; pause of a finished rollout is refused. A real server and
// agentsim agents over OpAMP.
func TestRolloutCommands(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 7; i++ {
		h := fmt.Sprintf("h%d", i)
		var mod []func(*agentsim.Options)
		if h == "h3" {
			mod = append(mod, func(o *agentsim.Options) { o.Fail = failAfterFirst() })
		}
		e.agent(h, map[string]string{"role": "web"}, mod...)
	}
	eventually(t, "seven agents", func() (bool, string) {
		r := e.run("agent", "list", "-o", "json")
		return strings.Count(r.out, `"host_name": "h`) == 7, r.out
	})
	e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--selector", "role=web", "--destination", "debug", "--watch")
	ctx := context.Background()
	revise := func(k int) {
		t.Helper()
		d, err := e.srv.Deployments().Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		spec := d.Current.Spec
		spec.Params = map[string]any{"k": k}
		spec.Rollout = &store.RolloutPolicy{FirstBatch: 2, Factor: 2, Soak: "1s"}
		if _, err := e.srv.Deployments().Update(ctx, "web", d.Version, spec); err != nil {
			t.Fatal(err)
		}
	}
	revise(20)
	r := e.must(1, "pipeline", "rollout", "status", "web", "--watch")
	if !strings.Contains(r.out, "host h3 failed: told to fail") || !strings.Contains(r.err, "paused") || !strings.Contains(r.out, "stage 2/3") {
		t.Fatalf("watch until paused:\n%s", r)
	}
	r = e.must(0, "pipeline", "rollout", "status", "web")
	for _, want := range []string{"paused", "batch 2", "h3, h4", "host h3"} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("status lacks %q:\n%s", want, r)
		}
	}
	e.must(0, "pipeline", "rollout", "resume", "web", "--reason", "h3 is known bad")
	r = e.must(0, "pipeline", "rollout", "status", "web", "--watch")
	if !strings.Contains(r.out, "completed") {
		t.Fatalf("watch until completed:\n%s", r)
	}
	r = e.must(0, "pipeline", "rollout", "status", "web", "-o", "json")
	var ro api.Rollout
	if err := json.Unmarshal([]byte(r.out), &ro); err != nil || ro.State != api.RolloutCompleted || ro.Total != 7 || ro.Applied != 6 || len(ro.Batches) != 3 {
		t.Fatalf("json status: %+v %v\n%s", ro, err, r)
	}
	if r := e.run("pipeline", "rollout", "pause", "web"); r.code == 0 || !strings.Contains(r.err, "completed") {
		t.Fatalf("pause of a completed rollout:\n%s", r)
	}
	revise(30)
	eventually(t, "version 3 rolling", func() (bool, string) {
		r := e.run("pipeline", "rollout", "status", "web", "-o", "json")
		var ro api.Rollout
		_ = json.Unmarshal([]byte(r.out), &ro)
		return ro.Version == 3 && ro.Stage >= 1, r.out
	})
	r = e.must(0, "pipeline", "rollout", "abort", "web", "--reason", "wrong k")
	if !strings.Contains(r.out, "aborted") || !strings.Contains(r.out, "wrong k") {
		t.Fatalf("abort:\n%s", r)
	}
	if r := e.run("pipeline", "rollout", "status", "nope"); r.code != 3 {
		t.Fatalf("status of a missing deployment: %s", r)
	}
}
