package cliconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, LocalTokenFile), []byte("local-tok\n"), 0o600)
	file := File{Server: "http://file:8080", Token: "file-tok", CAFile: "file.pem"}
	e := map[string]string{EnvServer: "http://env:8080", EnvToken: "env-tok", EnvDataDir: dir}
	cases := []struct {
		name        string
		flags       Flags
		env         map[string]string
		file        File
		server, tok string
		src         Source
	}{
		{"flags win", Flags{Server: "http://flag", Token: "flag-tok"}, e, file, "http://flag", "flag-tok", FromFlag},
		{"env beats file", Flags{}, e, file, "http://env:8080", "env-tok", FromEnv},
		{"file", Flags{}, map[string]string{EnvDataDir: dir}, file, "http://file:8080", "file-tok", FromFile},
		{"local token, default server", Flags{}, map[string]string{EnvDataDir: dir}, File{}, DefaultServer, "local-tok", FromLocal},
		{"nothing", Flags{}, map[string]string{EnvDataDir: filepath.Join(dir, "none")}, File{}, DefaultServer, "", FromNone},
	}
	for _, c := range cases {
		s := Resolve(c.flags, env(c.env), "cfg.yaml", c.file)
		if s.Server.Value != c.server || s.Token.Value != c.tok || s.Token.Source != c.src {
			t.Errorf("%s: got server %q token %q (%s)", c.name, s.Server.Value, s.Token.Value, s.Token.Source)
		}
	}
}

func TestLoadSave(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "config.yaml")
	if f, err := Load(p); err != nil || f != (File{}) {
		t.Fatalf("missing file: %+v %v", f, err)
	}
	want := File{Server: "https://phoenix.example:8080", Token: "t", CAFile: "/ca.pem"}
	if err := Save(p, want); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	if got, err := Load(p); err != nil || got != want {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	os.WriteFile(p, nil, 0o600)
	if f, err := Load(p); err != nil || f != (File{}) {
		t.Fatalf("empty file: %+v %v", f, err)
	}
	os.WriteFile(p, []byte("server: [\n"), 0o600)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("broken file: %v", err)
	}
}

func TestCheckServerAndMask(t *testing.T) {
	for in, want := range map[string]string{"http://a:1/": "http://a:1", "https://b": "https://b"} {
		if got, err := CheckServer(in); err != nil || got != want {
			t.Errorf("CheckServer(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"a:1", "ftp://a", "http://", "http://a/?x=1"} {
		if _, err := CheckServer(bad); err == nil {
			t.Errorf("CheckServer(%q) accepted", bad)
		}
	}
	if Mask("phx_api_0123456789") != "phx_********" || Mask("short") != "********" || Mask("") != "" {
		t.Fatal("Mask")
	}
}
