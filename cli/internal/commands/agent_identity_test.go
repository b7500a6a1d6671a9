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
