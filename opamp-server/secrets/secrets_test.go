package secrets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/opamp-server/store/sqlite"
)

func newBox(t *testing.T) (*Box, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "k", "secrets.key")
	key, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b, p
}

func TestKeyFile(t *testing.T) {
	_, p := newBox(t)
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	k1, _ := LoadOrCreateKey(p)
	k2, _ := LoadOrCreateKey(p)
	if string(k1) != string(k2) || len(k1) != 32 {
		t.Fatal("the key changed between loads")
	}
	os.Chmod(p, 0o644)
	if _, err := LoadOrCreateKey(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key file: %v", err)
	}
	os.WriteFile(p, []byte("short\n"), 0o600)
	if _, err := LoadOrCreateKey(p); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("a bad key file: %v", err)
	}
}

func TestSealOpenReference(t *testing.T) {
	b, _ := newBox(t)
	s1, s2 := b.Seal("k-123"), b.Seal("k-123")
	if s1 == s2 || !IsSealed(s1) || strings.Contains(s1, "k-123") {
		t.Fatalf("seal: %q %q", s1, s2)
	}
	if v, err := b.Open(s1); err != nil || v != "k-123" {
		t.Fatalf("open: %q %v", v, err)
	}
	other, _ := newBox(t)
	if _, err := other.Open(s1); err == nil || !strings.Contains(err.Error(), "--secrets-key-file") {
		t.Fatalf("open with another key: %v", err)
	}
	r1, r2, r3 := b.Reference("X-Api-Key", "k-123"), b.Reference("X-Api-Key", "k-123"), b.Reference("X-Api-Key", "k-456")
	if r1 != r2 || r1 == r3 || !strings.HasPrefix(r1, "${env:PHOENIX_SECRET_X_API_KEY_") || strings.Contains(r1, "k-123") {
		t.Fatalf("references %q %q %q", r1, r2, r3)
	}
	vals, missing := b.Resolve([]byte("headers:\n  a: " + r1 + "\n  b: ${env:PHOENIX_SECRET_NOPE_000000000000}\n  c: ${env:HOME}\n"))
	if len(vals) != 1 || vals[r1[6:len(r1)-1]] != "k-123" || len(missing) != 1 {
		t.Fatalf("resolve: %v %v", vals, missing)
	}
}

// Through the wrapper the database holds only sealed values; reads give
// references; writing a reference back (a rollback, a params-only update)
// keeps the same secret; a host environment reference is left alone.
func TestStoreSealsAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	inner, err := sqlite.Open(ctx, dir, "t")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	b, _ := newBox(t)
	st := WrapStore(inner, b)
	spec := store.DeploymentSpec{Template: "t", Destination: store.Destination{Type: "otlp_http", Endpoint: "https://x", Headers: map[string]string{"X-Api-Key": "topsecret-1", "X-Env": "${env:MY_KEY}"}}}
	v1, err := st.CreateDeployment(ctx, "web", spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := v1.Spec.Destination.Headers["X-Api-Key"]
	if !strings.HasPrefix(ref, "${env:PHOENIX_SECRET_X_API_KEY_") || v1.Spec.Destination.Headers["X-Env"] != "${env:MY_KEY}" {
		t.Fatalf("returned spec %v", v1.Spec.Destination.Headers)
	}
	raw, err := inner.GetDeployment(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if h := raw.Current.Spec.Destination.Headers["X-Api-Key"]; !IsSealed(h) {
		t.Fatalf("stored header %q is not sealed", h)
	}
	got, _ := st.GetDeployment(ctx, "web")
	if got.Current.Spec.Destination.Headers["X-Api-Key"] != ref {
		t.Fatalf("read back %v", got.Current.Spec.Destination.Headers)
	}
	// Writing the reference back keeps the secret.
	if _, err := st.AddDeploymentVersion(ctx, "web", 1, got.Current.Spec, 0, nil); err != nil {
		t.Fatal(err)
	}
	raw2, _ := inner.GetDeploymentVersion(ctx, "web", 2)
	if v, err := b.Open(raw2.Spec.Destination.Headers["X-Api-Key"]); err != nil || v != "topsecret-1" {
		t.Fatalf("version 2 secret: %q %v", v, err)
	}
	vs, _ := st.ListDeploymentVersions(ctx, "web")
	for _, v := range vs {
		if v.Spec.Destination.Headers["X-Api-Key"] != ref {
			t.Fatalf("version listing shows %q", v.Spec.Destination.Headers["X-Api-Key"])
		}
	}
	// Nothing of the value in the database files.
	for _, name := range []string{"phoenix.db", "phoenix.db-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "topsecret-1") {
			t.Fatalf("%s holds the secret in clear", name)
		}
	}
}
