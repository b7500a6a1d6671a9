package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Bad flags fail before anything starts, naming the flag.
func TestBadFlags(t *testing.T) {
	cases := map[string][]string{
		"--tls-cert":      {"--tls-cert", "cert.pem", "--data-dir", t.TempDir()},
		"--http-addr":     {"--http-addr", "8080", "--data-dir", t.TempDir()},
		"--log-level":     {"--log-level", "loud", "--data-dir", t.TempDir()},
		"store DSN":       {"--store", "mysql://x", "--data-dir", t.TempDir(), "--opamp-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"},
		"--advertise-url": {"--advertise-url", "ftp://x", "--data-dir", t.TempDir()},
	}
	for want, args := range cases {
		cmd := newCommand()
		cmd.SetArgs(args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err = %v, want one naming %s", args, err, want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://u:secret@h:5432/db"); strings.Contains(got, "secret") {
		t.Fatalf("password printed: %s", got)
	}
}
