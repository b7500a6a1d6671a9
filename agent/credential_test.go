package agent_test

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
)

// headerSink is an OTLP/HTTP endpoint that records one header of every
// request it receives.
type headerSink struct {
	url    string
	header string
	mu     sync.Mutex
	seen   []string
}

func newHeaderSink(t *testing.T, header string) *headerSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &headerSink{url: "http://" + l.Addr().String(), header: header}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Get(s.header))
		s.mu.Unlock()
		out, _ := pmetricotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *headerSink) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, v := range s.seen {
			if v == want {
				s.mu.Unlock()
				return
			}
		}
		n := len(s.seen)
		s.mu.Unlock()
		_ = n
		time.Sleep(100 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("%s never received %s %q; it saw %q", s.url, s.header, want, s.seen)
}

// The agent takes the credential the server offers, keeps it 0600 in its
// data dir, presents it on every later connection (and after a restart),
// hands it and the config's secrets to the collector through its
// environment only: no config file on disk and no reported effective config
// carries either, and no file in the data dir is readable by another user.
func TestCredentialAndSecretsStayOutOfFiles(t *testing.T) {
	const cred = "phx_agent_0123456789abcdef-test-credential"
	const secret = "s3cret-destination-key"
	srv := newOpAMPServer(t, testToken)
	own := newHeaderSink(t, "Authorization")
	dest := newHeaderSink(t, "X-Api-Key")
	dir := t.TempDir()
	r := startAgent(t, testConfig(t, srv, dir))
	srv.waitFor(t, "connect", 30*time.Second, func(sn snapshot) bool { return sn.connected })

	srv.offerCredential(cred)
	credFile := filepath.Join(dir, "credential")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(credFile)
		if err == nil && strings.TrimSpace(string(b)) == cred {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("credential file: %q %v", b, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.offerOwnMetricsWithHeaders(own.url+"/v1/metrics", map[string]string{"Authorization": "Bearer " + cred})
	own.waitFor(t, "Bearer "+cred)

	cfg := fmt.Sprintf(`receivers:
  host_metrics:
    collection_interval: 500ms
    scrapers: {memory: {}}
exporters:
  otlp_http:
    endpoint: %s
    compression: none
    headers:
      X-Api-Key: %s
service:
  pipelines:
    metrics: {receivers: [host_metrics], exporters: [otlp_http]}
`, dest.url, agentsecrets.Ref("PHOENIX_SECRET_0"))
	hash := srv.pushFiles(map[string]string{
		"phoenix.yaml":        cfg,
		agentsecrets.FileName: string(agentsecrets.Encode(map[string]string{"PHOENIX_SECRET_0": secret})),
	})
	srv.waitStatus(t, hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, 60*time.Second)
	dest.waitFor(t, secret)

	// Reported effective config: neither the credential nor the secret.
	sn := srv.waitFor(t, "effective config", 30*time.Second, func(sn snapshot) bool {
		_, ok := sn.effective.GetConfigMap().GetConfigMap()["phoenix.yaml"]
		return ok
	})
	for name, f := range sn.effective.GetConfigMap().GetConfigMap() {
		if name == agentsecrets.FileName || strings.Contains(string(f.GetBody()), secret) || strings.Contains(string(f.GetBody()), cred) {
			t.Fatalf("reported effective config %q carries a secret:\n%s", name, f.GetBody())
		}
	}
	// Files: the collector's configs carry neither; nothing is readable by others.
	for _, name := range []string{"config/effective.yaml", "config/candidate.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) || strings.Contains(string(b), cred) || strings.Contains(string(b), testToken) {
			t.Fatalf("%s carries a secret:\n%s", name, b)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by other users", p, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A reconnect presents the credential, and so does a restarted agent.
	srv.stop()
	srv.start()
	srv.waitFor(t, "reconnect", 30*time.Second, func(sn snapshot) bool { return sn.connected })
	auths := srv.authsSeen()
	if auths[0] != "Bearer "+testToken || auths[len(auths)-1] != "Bearer "+cred {
		t.Fatalf("Authorization headers over time: %q", auths)
	}
	r.stop(t)
	n := len(srv.authsSeen())
	startAgent(t, testConfig(t, srv, dir))
	srv.waitFor(t, "restarted agent", 30*time.Second, func(sn snapshot) bool { return sn.connected && len(srv.authsSeen()) > n })
	if auths := srv.authsSeen(); auths[n] != "Bearer "+cred {
		t.Fatalf("a restarted agent presented %q, want its credential", auths[n])
	}
}

// A server that no longer knows the agent's credential (its database was
// reset) refuses it; after a few refused handshakes the agent tries the
// enrollment token once, and keeps the new credential it is issued.
func TestCredentialRefusedFallsBackToEnrolment(t *testing.T) {
	srv := newOpAMPServer(t, testToken)
	dir := t.TempDir()
	startAgent(t, testConfig(t, srv, dir))
	srv.waitFor(t, "connect", 30*time.Second, func(sn snapshot) bool { return sn.connected })
	srv.offerCredential("phx_agent_first")
	waitCredentialFile(t, dir, "phx_agent_first")

	srv.stop()
	srv.mu.Lock()
	srv.credential = "" // a new database: the credential is unknown
	srv.mu.Unlock()
	srv.start()
	srv.waitFor(t, "re-enrolment with the enrollment token", 60*time.Second, func(sn snapshot) bool { return sn.connected })
	auths := srv.authsSeen()
	// Three dials with the credential (one may have found the server still
	// down), then the enrollment token.
	if n := len(auths); auths[n-1] != "Bearer "+testToken || auths[n-2] != "Bearer phx_agent_first" || srv.snap().rejected < 2 {
		t.Fatalf("Authorization headers over time: %q (rejected %d)", auths, srv.snap().rejected)
	}
	srv.offerCredential("phx_agent_second")
	waitCredentialFile(t, dir, "phx_agent_second")
}

func waitCredentialFile(t *testing.T, dir, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, "credential"))
		if err == nil && strings.TrimSpace(string(b)) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("credential file: %q %v, want %q", b, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
