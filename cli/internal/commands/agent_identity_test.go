package commands_test

import (
	"strings"
	"testing"
)

// phoenix agent pending / approve / revoke against a real server and real
// OpAMP clients; no output ever shows a credential or the enrollment token.
func TestAgentPendingApproveRevoke(t *testing.T) {
	e := newEnv(t)
	first := e.agent("web-1", nil)
	eventually(t, "web-1 bound", func() (bool, string) {
		r := e.run("agent", "pending", "--all")
		return strings.Contains(r.out, first.UID().String()) && strings.Contains(r.out, "bound"), r.String()
	})
	second := e.agent("web-1", nil)
	var pending result
	eventually(t, "second pending", func() (bool, string) {
		pending = e.run("agent", "pending")
		return pending.code == 0 && strings.Contains(pending.out, second.UID().String()) && strings.Contains(pending.out, first.UID().String()), pending.String()
	})
	if r := e.must(0, "agent", "list"); !strings.Contains(r.out, "web-1 (pending approval)") {
		t.Fatalf("agent list does not say the second agent waits:\n%s", r.out)
	}
	if strings.Contains(pending.out, "bound\n") {
		t.Fatalf("pending lists a bound agent:\n%s", pending.out)
	}
	r := e.must(0, "agent", "approve", second.UID().String())
	if !strings.Contains(r.out, "now holds host web-1") {
		t.Fatalf("approve: %s", r)
	}
	e.must(1, "agent", "approve", second.UID().String()) // nothing pending any more: a conflict
	e.must(3, "agent", "approve", "01a2336c-0000-7000-8000-000000000000")
	e.must(2, "agent", "revoke")
	r = e.must(0, "agent", "revoke", first.UID().String(), "-o", "json")
	if !strings.Contains(r.out, `"state": "revoked"`) {
		t.Fatalf("revoke -o json: %s", r)
	}
	all := e.must(0, "agent", "pending", "--all", "-o", "yaml")
	for _, out := range []string{pending.out, all.out, r.out, r.err} {
		for _, secret := range []string{e.srv.EnrollmentToken(), first.Credential(), second.Credential(), "phx_agent_"} {
			if secret != "" && strings.Contains(out, secret) {
				t.Fatalf("CLI output shows a secret %.12s...:\n%s", secret, out)
			}
		}
	}
	if first.Credential() == "" || second.Credential() == "" {
		t.Fatal("the agents were never issued credentials")
	}
}

// A destination key given to pipeline deploy never shows again: not in the
// deploy answer, show-like listings, versions, the active config, in any
// output format.
func TestDestinationKeyNeverShown(t *testing.T) {
	const secret = "s3cret-cli-destination-key-42"
	e := newEnv(t)
	e.agent("web-1", nil)
	eventually(t, "web-1 known", func() (bool, string) {
		r := e.run("agent", "list")
		return strings.Contains(r.out, "web-1"), r.String()
	})
	outs := []result{e.must(0, "pipeline", "deploy", "process-topk-v1", "--name", "web", "--host", "web-1", "--destination", "otlphttp=https://metrics.example.invalid",
		"--destination-header", "X-Api-Key="+secret, "--watch", "--timeout", "60s")}
	for _, args := range [][]string{
		{"pipeline", "list-deployments"}, {"pipeline", "list-deployments", "-o", "json"},
		{"pipeline", "versions", "web"}, {"pipeline", "versions", "web", "-o", "yaml"},
		{"pipeline", "status", "web", "-o", "json"}, {"pipeline", "get-active-config", "web"},
		{"agent", "show", "web-1", "-o", "json"},
	} {
		outs = append(outs, e.must(0, args...))
	}
	sawRef := false
	for _, r := range outs {
		if strings.Contains(r.out, secret) || strings.Contains(r.err, secret) {
			t.Fatalf("CLI output shows the destination key:\n%s", r)
		}
		sawRef = sawRef || strings.Contains(r.out, "PHOENIX_SECRET_X_API_KEY_")
	}
	if !sawRef {
		t.Fatal("no output shows the key's reference: is the header there at all?")
	}
}
