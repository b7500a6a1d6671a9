package server_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// A destination key never shows: not in any API response (deployments,
// versions, rendered configs, hosts, agents), not in the server's log (at
// debug level), not in what the agent reports back, not in the database
// files, and no file of the data dir is readable by another user. The agent
// gets it apart from the config body, which refers to it as ${env:...}.
func TestNoSecretAnywhere(t *testing.T) {
	const secret = "s3cret-destination-key-0123456789"
	logs := &lockedBuffer{}
	cfg := newConfig(t)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := startServer(t, cfg)
	a := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	body := deploymentBody("web", "web-1")
	body["destination"] = map[string]any{"type": "otlphttp", "endpoint": "https://metrics.example.invalid", "headers": map[string]any{"X-Api-Key": secret}}
	created := ts.mustCall(t, "POST", "/api/v1/deployments", body, 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")
	ts.mustCall(t, "PATCH", "/api/v1/deployments/web", map[string]any{"params": map[string]any{"k": 20}}, 200)
	ts.waitHosts(t, api.StatusApplied, "web-1")

	// The agent got the value, apart from the config body.
	got := a.Received()
	last := string(got[len(got)-1].Body)
	if !strings.Contains(last, "${env:PHOENIX_SECRET_X_API_KEY_") || !strings.Contains(last, secret) {
		t.Fatalf("the agent's config lacks the reference or the value:\n%s", last)
	}
	yamlPart := last[:strings.Index(last, "{\"PHOENIX_SECRET_")]
	if strings.Contains(yamlPart, secret) {
		t.Fatalf("the config body carries the secret:\n%s", yamlPart)
	}

	responses := []string{fmt.Sprint(created)}
	for _, p := range []string{"/api/v1/deployments", "/api/v1/deployments/web", "/api/v1/deployments/web/versions",
		"/api/v1/deployments/web/versions/1", "/api/v1/deployments/web/config", "/api/v1/deployments/web/status",
		"/api/v1/hosts", "/api/v1/hosts/web-1", "/api/v1/hosts/web-1/config", "/api/v1/agents", "/api/v1/agents/" + a.UID().String(), "/api/v1/identities"} {
		code, out := ts.call(t, "GET", p, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %v", p, code, out)
		}
		responses = append(responses, p+": "+fmt.Sprint(out))
	}
	// The agent echoed the whole config map, secrets entry included, as its
	// effective config: the server redacted what it had sent.
	eventually(t, "echoed config stored", func() (bool, string) {
		_, out := ts.call(t, "GET", "/api/v1/hosts/web-1/config", nil)
		s := fmt.Sprint(out)
		return strings.Contains(s, agentsecrets.EnvPrefix) && strings.Contains(s, "REDACTED"), s
	})
	secrets := map[string]string{"destination key": secret, "agent credential": a.Credential(), "enrollment token": ts.EnrollmentToken()}
	for _, r := range responses {
		for what, s := range secrets {
			if what != "enrollment token" && strings.Contains(r, s) {
				t.Fatalf("an API response shows the %s: %s", what, r)
			}
		}
	}
	for what, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("the server log shows the %s", what)
		}
	}

	// The data dir: owner-only, and no file holds the key or the credential in clear.
	dir := cfg.DataDir
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v %v", fi.Mode().Perm(), err)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by other users", p, fi.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, what := range []string{"destination key", "agent credential"} {
			if bytes.Contains(b, []byte(secrets[what])) {
				t.Errorf("%s holds the %s in clear", p, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Deploying the same spec again, destination key in clear, changes nothing:
// the server compares it as it stores it (its reference).
func TestUnchangedDeployWithSecretIsOneVersion(t *testing.T) {
	ts := startServer(t, newConfig(t))
	body := deploymentBody("web", "web-1")
	body["destination"] = map[string]any{"type": "otlphttp", "endpoint": "https://metrics.example.invalid", "headers": map[string]any{"X-Api-Key": "same-key-0123456789"}}
	ts.mustCall(t, "POST", "/api/v1/deployments", body, 201)
	ts.mustCall(t, "POST", "/api/v1/deployments", body, 200)
	put := map[string]any{"template": body["template"], "params": body["params"], "destination": body["destination"], "target": body["target"]}
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", put, 200)
	vs := ts.mustCall(t, "GET", "/api/v1/deployments/web/versions", nil, 200)
	if n := len(vs["versions"].([]any)); n != 1 {
		t.Fatalf("%d versions after two unchanged deploys: %v", n, vs)
	}
	// A new key is a change.
	body["destination"].(map[string]any)["headers"] = map[string]any{"X-Api-Key": "other-key-0123456789"}
	put["destination"] = body["destination"]
	ts.mustCall(t, "PUT", "/api/v1/deployments/web", put, 200)
	vs = ts.mustCall(t, "GET", "/api/v1/deployments/web/versions", nil, 200)
	if n := len(vs["versions"].([]any)); n != 2 {
		t.Fatalf("%d versions after a key change, want 2", n)
	}
}
