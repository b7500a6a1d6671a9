package identity

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

func newRegistry(t *testing.T) (*Registry, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	file := filepath.Join(dir, "enrollment-token")
	if err := os.WriteFile(file, []byte("phx_enroll_one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return New(st, "phx_enroll_one", file), file
}

func TestEnrolOnceThenOnlyTheCredential(t *testing.T) {
	ctx := context.Background()
	r, _ := newRegistry(t)
	p, err := r.Authenticate(ctx, "phx_enroll_one")
	if err != nil || !p.Enrolling() {
		t.Fatalf("enrollment token: %+v %v", p, err)
	}
	for _, bad := range []string{"", "phx_enroll_two", "phx_agent_0000", "Bearer phx_enroll_one"} {
		if _, err := r.Authenticate(ctx, bad); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("token %q: %v, want ErrUnauthorized", bad, err)
		}
	}
	tok, err := r.Admit(ctx, p, "uid-a", "web-1")
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+64 {
		t.Fatalf("enrolment: %q %v", tok, err)
	}
	// The enrollment token can no longer act as uid-a.
	if _, err := r.Admit(ctx, p, "uid-a", "web-1"); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("second enrolment of uid-a: %v", err)
	}
	own, err := r.Authenticate(ctx, tok)
	if err != nil || own.UID != "uid-a" {
		t.Fatalf("credential: %+v %v", own, err)
	}
	if _, err := r.Admit(ctx, own, "uid-a", "web-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admit(ctx, own, "uid-b", "web-1"); !errors.Is(err, ErrWrongAgent) {
		t.Fatalf("uid-a's credential for uid-b: %v", err)
	}
}

func TestHostBindingApproveRevoke(t *testing.T) {
	ctx := context.Background()
	r, _ := newRegistry(t)
	enrol := func(uid string) string {
		tok, err := r.Admit(ctx, Principal{}, uid, "")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tokA, _ := enrol("uid-a"), enrol("uid-b")
	if c, err := r.ClaimHost(ctx, "uid-a", "web-1"); err != nil || !c.Bound {
		t.Fatalf("first claim: %+v %v", c, err)
	}
	if c, err := r.ClaimHost(ctx, "uid-b", "web-1"); err != nil || c.Bound || c.Holder != "uid-a" {
		t.Fatalf("second claim: %+v %v", c, err)
	}
	b, _ := r.Get(ctx, "uid-b")
	if b.State != StatePending || b.Holder != "uid-a" {
		t.Fatalf("uid-b: %+v", b)
	}
	if _, err := r.Approve(ctx, "uid-a"); !errors.Is(err, ErrNothingPending) {
		t.Fatalf("approve of a bound agent: %v", err)
	}
	if b, err := r.Approve(ctx, "uid-b"); err != nil || b.State != StateBound {
		t.Fatalf("approve uid-b: %+v %v", b, err)
	}
	if c, _ := r.ClaimHost(ctx, "uid-a", "web-1"); c.Bound {
		t.Fatal("uid-a still holds web-1 after uid-b was approved")
	}
	// Revoke: the credential stops working at once, even though it was cached.
	if _, err := r.Authenticate(ctx, tokA); err != nil {
		t.Fatal(err)
	}
	if a, err := r.Revoke(ctx, "uid-a"); err != nil || a.State != StateRevoked {
		t.Fatalf("revoke: %+v %v", a, err)
	}
	if _, err := r.Authenticate(ctx, tokA); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked credential: %v", err)
	}
	if _, err := r.Admit(ctx, Principal{}, "uid-a", ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("re-enrolment of a revoked agent: %v", err)
	}
	if _, err := r.Revoke(ctx, "uid-zzz"); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("revoke of an unknown agent: %v", err)
	}
	// Approve readmits: a new enrolment, a new credential; the old one stays dead.
	if a, err := r.Approve(ctx, "uid-a"); err != nil || a.State != StateReadmitted {
		t.Fatalf("readmit: %+v %v", a, err)
	}
	tokA2, err := r.Admit(ctx, Principal{}, "uid-a", "")
	if err != nil || tokA2 == tokA {
		t.Fatalf("re-enrolment: %v", err)
	}
	if _, err := r.Authenticate(ctx, tokA); err == nil {
		t.Fatal("the first credential works again after readmission")
	}
}

// Rotating the enrollment token file takes effect without a restart and
// leaves enrolled credentials working.
func TestEnrollmentRotation(t *testing.T) {
	ctx := context.Background()
	r, file := newRegistry(t)
	tok, err := r.Admit(ctx, Principal{}, "uid-a", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("phx_enroll_two_longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	os.Chtimes(file, future, future)
	if _, err := r.Authenticate(ctx, "phx_enroll_one"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("the old enrollment token after rotation: %v", err)
	}
	if p, err := r.Authenticate(ctx, "phx_enroll_two_longer"); err != nil || !p.Enrolling() {
		t.Fatalf("the new enrollment token: %v", err)
	}
	if p, err := r.Authenticate(ctx, tok); err != nil || p.UID != "uid-a" {
		t.Fatalf("an enrolled credential after rotation: %v", err)
	}
}
