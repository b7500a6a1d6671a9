package configfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

type settings struct {
	server, tokenFile, token string
	timeout                  time.Duration
	labels                   []string
	ran                      bool
}

func command(s *settings) *cobra.Command {
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { s.ran = true; return nil }, SilenceUsage: true, SilenceErrors: true}
	f := cmd.Flags()
	f.StringVar(&s.server, "server", "ws://default", "")
	f.StringVar(&s.tokenFile, "token-file", "", "")
	f.StringVar(&s.token, "token", "", "")
	f.DurationVar(&s.timeout, "apply-timeout", time.Minute, "")
	f.StringSliceVar(&s.labels, "label", nil, "")
	Register(cmd)
	return cmd
}

func write(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, args ...string) (*settings, error) {
	t.Helper()
	s := &settings{}
	cmd := command(s)
	cmd.SetArgs(args)
	return s, cmd.Execute()
}

func TestFileSetsFlags(t *testing.T) {
	p := write(t, "server: wss://phoenix:4320/v1/opamp\ntoken-file: /etc/phoenix/enrollment-token\napply-timeout: 2m\nlabel: [env=prod, team=web]\n", 0o644)
	s, err := run(t, "--config", p)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ran || s.server != "wss://phoenix:4320/v1/opamp" || s.tokenFile != "/etc/phoenix/enrollment-token" || s.timeout != 2*time.Minute || strings.Join(s.labels, ",") != "env=prod,team=web" {
		t.Fatalf("settings from the file: %+v", s)
	}
}

func TestCommandLineWins(t *testing.T) {
	p := write(t, "server: wss://from-file\napply-timeout: 2m\n", 0o644)
	s, err := run(t, "--server", "ws://from-flag", "--config", p)
	if err != nil {
		t.Fatal(err)
	}
	if s.server != "ws://from-flag" || s.timeout != 2*time.Minute {
		t.Fatalf("flag must win, file fills the rest: %+v", s)
	}
}

func TestNoConfigKeepsDefaults(t *testing.T) {
	s, err := run(t)
	if err != nil || s.server != "ws://default" || s.timeout != time.Minute {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestErrorsNameFileLineAndKey(t *testing.T) {
	for _, c := range []struct {
		body string
		mode os.FileMode
		want []string
	}{
		{"server: x\nsevrer: y\n", 0o644, []string{"line 2: sevrer: unknown setting", "known: apply-timeout, label, server, token, token-file"}},
		{"apply-timeout: soon\n", 0o644, []string{"line 1: apply-timeout", `"soon"`}},
		{"token: phx_enroll_secret\n", 0o644, []string{"line 1: token: a secret in a file other users can read", "chmod 600"}},
		{"server: [a, b]\n", 0o644, []string{"line 1: server: takes one value"}},
		{"server:\n", 0o644, []string{"line 1: server: no value"}},
		{"server: a\nserver: b\n", 0o644, []string{"line 2: server: given twice"}},
		{"- server\n", 0o644, []string{"want a mapping"}},
		{"server: {a: b}\n", 0o644, []string{"not a mapping"}},
		{"config: other.yaml\n", 0o644, []string{"config: unknown setting"}},
	} {
		p := write(t, c.body, c.mode)
		s, err := run(t, "--config", p)
		if err == nil {
			t.Errorf("%q: no error", c.body)
			continue
		}
		if s.ran {
			t.Errorf("%q: the command ran despite a bad config", c.body)
		}
		for _, w := range append(c.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not contain %q", c.body, err, w)
			}
		}
		if strings.Contains(err.Error(), "phx_enroll_secret") {
			t.Errorf("the error echoes the secret: %v", err)
		}
	}
}

func TestSecretInPrivateFileIsRead(t *testing.T) {
	p := write(t, "token: phx_enroll_secret\n", 0o600)
	s, err := run(t, "--config", p)
	if err != nil || s.token != "phx_enroll_secret" {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := run(t, "--config", filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}
