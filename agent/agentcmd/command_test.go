package agentcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	got, err := parseLabels([]string{"env=prod", " team = sre ", "empty="})
	if err != nil {
		t.Fatal(err)
	}
	if got["env"] != "prod" || got["team"] != "sre" || got["empty"] != "" || len(got) != 3 {
		t.Fatalf("labels = %v", got)
	}
	for _, bad := range []string{"novalue", "=x"} {
		if _, err := parseLabels([]string{bad}); err == nil || !strings.Contains(err.Error(), "--label") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}

func TestResolveToken(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	if err := os.WriteFile(f, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := resolveToken("", f); err != nil || tok != "s3cret" {
		t.Fatalf("token file: %q, %v", tok, err)
	}
	if _, err := resolveToken("a", f); err == nil {
		t.Fatal("--token and --token-file together accepted")
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := resolveToken("", empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty token file: %v", err)
	}
	if _, err := resolveToken("", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "--token-file") {
		t.Fatalf("missing token file: %v", err)
	}
	t.Setenv(TokenEnv, "from-env")
	if tok, _ := resolveToken("", ""); tok != "from-env" {
		t.Fatalf("env token = %q", tok)
	}
}

func TestBadFlagsFailBeforeStarting(t *testing.T) {
	cmd := NewCommand()
	cmd.SetArgs([]string{"--server=http://x:1/v1/opamp", "--data-dir=" + t.TempDir(), "--collector=/nonexistent"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "--server") || !strings.Contains(err.Error(), "--collector") {
		t.Fatalf("error = %v, want both --server and --collector named", err)
	}
	cmd = NewCommand()
	cmd.SetArgs([]string{"--log-level=loud"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Fatalf("error = %v", err)
	}
}
