package commands_test

import (
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
)

// agent retry: a host whose config FAILED gets it pushed again once the
// cause is fixed, and --watch follows it to applied.
func TestAgentRetry(t *testing.T) {
	e := newEnv(t)
	a := e.agent("web-1", nil, func(o *agentsim.Options) {
		o.Fail = func([]byte) string { return "listen tcp :8888: bind: address already in use" }
	})
	r := e.run("pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--watch", "--timeout", "60s")
	if r.code != 1 || !strings.Contains(r.out+r.err, "address already in use") {
		t.Fatalf("deploy to a failing host:\n%s", r)
	}
	if n := len(a.Received()); n != 1 {
		t.Fatalf("received %d configs before the retry, want 1", n)
	}
	a.SetFail(nil) // the port is free now
	r = e.must(0, "agent", "retry", "web-1", "--watch", "--timeout", "60s")
	if !strings.Contains(r.out, "host web-1: failed configs forgotten") {
		t.Fatalf("retry output:\n%s", r)
	}
	if n := len(a.Received()); n != 2 {
		t.Fatalf("received %d configs after the retry, want 2", n)
	}
	e.must(3, "agent", "retry", "nosuch-host")
}
