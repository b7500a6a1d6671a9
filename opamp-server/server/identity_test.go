package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/protobuf/proto"

	"github.com/phoenix-otel/phoenix/opamp-server/agentsim"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/otlpingest"
	"github.com/phoenix-otel/phoenix/opamp-server/server"
)

// A rogue agent holding the enrollment token gets nothing of another host:
// claiming its host name under a new instance uid gets no config and
// neither shadows the real agent nor makes it show offline; claiming the
// real agent's instance uid is refused outright. It waits as pending until
// an operator approves it (the binding moves) or revokes it.
func TestRogueAgentWithEnrollmentTokenGetsNothing(t *testing.T) {
	ts := startServer(t, newConfig(t))
	real := ts.agent(t, "web-1", nil)
	ts.waitAgentKnown(t, "web-1")
	ts.mustCall(t, "POST", "/api/v1/deployments", deploymentBody("web", "web-1"), 201)
	ts.waitHosts(t, api.StatusApplied, "web-1")

	// The rogue and the impostor are stopped by the test (a second Stop of
	// an opamp-go client waits out its context).
	rogue, err := agentsim.Start(context.Background(), agentsim.Options{URL: ts.OpAMPURL(), Token: ts.EnrollmentToken(), Host: "web-1", Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "rogue pending", func() (bool, string) {
		out := ts.mustCall(t, "GET", "/api/v1/identities?state=pending", nil, 200)
		ids, _ := out["identities"].([]any)
		for _, x := range ids {
			m := x.(map[string]any)
			if m["instance_uid"] == rogue.UID().String() && m["claimed_host"] == "web-1" && m["bound_to"] == real.UID().String() {
				return true, ""
			}
		}
		return false, fmt.Sprint(out)
	})
	if code, out := ts.call(t, "GET", "/api/v1/agents/"+rogue.UID().String(), nil); code != 200 || out["pending_host"] != "web-1" || out["host_name"] != "" {
		t.Fatalf("the rogue's record: %d %v", code, out)
	}
	// Heartbeats every 200ms for a second: the rogue never gets the config.
	time.Sleep(time.Second)
	if n := len(rogue.Received()); n != 0 {
		t.Fatalf("the rogue agent received %d configs of web-1", n)
	}
	h := ts.mustCall(t, "GET", "/api/v1/hosts/web-1", nil, 200)
	if h["agent_uid"] != real.UID().String() || h["status"] != api.StatusApplied {
		t.Fatalf("web-1 after the rogue connected: %v", h)
	}
	// The rogue leaving does not make web-1 offline.
	if err := rogue.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if h := ts.mustCall(t, "GET", "/api/v1/hosts/web-1", nil, 200); h["status"] != api.StatusApplied || h["agent_uid"] != real.UID().String() {
		t.Fatalf("web-1 after the rogue left: %v", h)
	}

	// The enrollment token cannot act as the real agent's instance uid.
	impostor, err := agentsim.Start(context.Background(), agentsim.Options{URL: ts.OpAMPURL(), Token: ts.EnrollmentToken(), Host: "web-1", Heartbeat: 200 * time.Millisecond, UID: real.UID()})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := len(impostor.Received()); n != 0 || impostor.Credential() != "" {
		t.Fatalf("an impostor of the real uid got %d configs, credential %q", n, impostor.Credential())
	}
	if h := ts.mustCall(t, "GET", "/api/v1/hosts/web-1", nil, 200); h["connected"] != true {
		t.Fatalf("web-1 after the impostor: %v", h)
	}
	_ = impostor.Stop(context.Background())

	// Approve moves the binding: a host reinstalled under a new uid.
	newcomer := ts.agent(t, "web-1", nil)
	eventually(t, "newcomer pending", func() (bool, string) {
		code, out := ts.call(t, "POST", "/api/v1/agents/"+newcomer.UID().String()+"/approve", nil)
		return code == 200 && out["state"] == api.IdentityBound, fmt.Sprint(code, out)
	})
	eventually(t, "newcomer gets web-1's config", func() (bool, string) { return len(newcomer.Received()) == 1, "" })
	// The old agent is now the pending one; approving it moves web-1 back,
	// and then it waits for nothing.
	ts.mustCall(t, "POST", "/api/v1/agents/"+real.UID().String()+"/approve", nil, 200)
	ts.mustCall(t, "POST", "/api/v1/agents/"+real.UID().String()+"/approve", nil, 409)
	ts.mustCall(t, "POST", "/api/v1/agents/"+uuid.NewString()+"/approve", nil, 404)
	ts.mustCall(t, "GET", "/api/v1/identities?state=weird", nil, 400)
}

// postMetrics posts one export to the ingest with token and extra headers.
func postMetrics(t *testing.T, url, token string, md pmetric.Metrics, header map[string]string) (int, string) {
	t.Helper()
	body, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// series builds an export of n phoenix series, from a resource naming instance.
func series(instance string, prefix string, n int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	if instance != "" {
		rm.Resource().Attributes().PutStr("service.instance.id", instance)
	}
	sm := rm.ScopeMetrics().AppendEmpty()
	for i := range n {
		m := sm.Metrics().AppendEmpty()
		m.SetName(fmt.Sprintf("phoenix.%s.%d", prefix, i))
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetIntValue(int64(i))
		dp.SetTimestamp(pcommonNow())
	}
	return md
}

func seriesOf(t *testing.T, ts *testServer, uid string) int {
	t.Helper()
	out := ts.mustCall(t, "GET", "/api/v1/metrics/series?agent="+uid+"&since=1h", nil, 200)
	bs, _ := out["buckets"].([]any)
	return len(bs)
}

// Figures are the credential's agent's: a request of agent A that names
// agent B, in the agent-id header or in service.instance.id, is refused and
// stores nothing; the enrollment token ingests nothing.
func TestForgedIngestUnderAnotherAgentRefused(t *testing.T) {
	ts := startServer(t, newConfig(t))
	a := ts.agent(t, "a-1", nil)
	b := ts.agent(t, "b-1", nil)
	eventually(t, "offers", func() (bool, string) { return a.OwnMetrics() != nil && b.OwnMetrics() != nil, "" })
	url := a.OwnMetrics().GetDestinationEndpoint()
	credA := a.Credential()
	bID := b.UID().String()
	for _, c := range []struct {
		name   string
		token  string
		md     pmetric.Metrics
		header map[string]string
		want   int
		says   string
	}{
		{"agent-id header of B", credA, series("", "forged", 3), map[string]string{server.HeaderAgentID: bID}, 403, "names another agent"},
		{"service.instance.id of B", credA, series(bID, "forged", 3), nil, 403, "service.instance.id"},
		{"enrollment token", ts.EnrollmentToken(), series(bID, "forged", 3), nil, 401, "enrollment token only enrols"},
		{"API token", ts.APIToken(), series(bID, "forged", 3), nil, 401, "own credential"},
	} {
		if code, body := postMetrics(t, url, c.token, c.md, c.header); code != c.want || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, code, body, c.want, c.says)
		}
	}
	if n := seriesOf(t, ts, bID); n != 0 {
		t.Fatalf("%d series stored under agent B", n)
	}
	// A's own figures, with its own id in both places, are taken.
	if code, body := postMetrics(t, url, credA, series(a.UID().String(), "own", 3), map[string]string{server.HeaderAgentID: a.UID().String()}); code != 200 {
		t.Fatalf("A's own figures: %d %s", code, body)
	}
	if n := seriesOf(t, ts, a.UID().String()); n != 3 {
		t.Fatalf("A has %d series, want 3", n)
	}
}

// The series caps hold: past the per-request cap a 413, past the per-agent
// cap a 429, each saying which limit and which flag; a refused request
// stores nothing.
func TestIngestCapsHold(t *testing.T) {
	cfg := newConfig(t)
	cfg.IngestLimits = otlpingest.Limits{MaxSeriesPerRequest: 5, MaxSeriesPerAgent: 8}
	ts := startServer(t, cfg)
	a := ts.agent(t, "a-1", nil)
	eventually(t, "offer", func() (bool, string) { return a.OwnMetrics() != nil, "" })
	url, cred, uid := a.OwnMetrics().GetDestinationEndpoint(), a.Credential(), a.UID().String()
	if code, body := postMetrics(t, url, cred, series("", "x", 6), nil); code != 413 || !strings.Contains(body, "6 distinct series") || !strings.Contains(body, "--ingest-max-series-per-request") {
		t.Fatalf("6 series in one request: %d %s", code, body)
	}
	if code, body := postMetrics(t, url, cred, series("", "x", 5), nil); code != 200 {
		t.Fatalf("5 series: %d %s", code, body)
	}
	if code, body := postMetrics(t, url, cred, series("", "y", 5), nil); code != 429 || !strings.Contains(body, "--ingest-max-series-per-agent") {
		t.Fatalf("10 series of one agent: %d %s", code, body)
	}
	if code, _ := postMetrics(t, url, cred, series("", "x", 5), nil); code != 200 {
		t.Fatalf("known series after the cap: %d", code)
	}
	if n := seriesOf(t, ts, uid); n != 5 {
		t.Fatalf("%d series stored, want 5", n)
	}
}

// rawAgent is an OpAMP agent over a bare WebSocket (the opamp-go framing: a
// zero header byte, then the protobuf), so a test sees the very moment the
// server closes its connection.
type rawAgent struct {
	conn *websocket.Conn
	uid  uuid.UUID
}

func dialRaw(t testing.TB, url, token string, uid uuid.UUID, host string) (*rawAgent, *protobufs.ServerToAgent, error) {
	c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		if resp != nil {
			return nil, nil, fmt.Errorf("dial: %v (HTTP %d)", err, resp.StatusCode)
		}
		return nil, nil, err
	}
	a := &rawAgent{conn: c, uid: uid}
	desc := &protobufs.AgentDescription{NonIdentifyingAttributes: []*protobufs.KeyValue{{Key: "host.name", Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: host}}}}}
	msg := &protobufs.AgentToServer{InstanceUid: uid[:], AgentDescription: desc, Capabilities: uint64(agentsim.Capabilities)}
	b, _ := proto.Marshal(msg)
	if err := c.WriteMessage(websocket.BinaryMessage, append([]byte{0}, b...)); err != nil {
		c.Close()
		return nil, nil, err
	}
	resp2, err := a.read()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return a, resp2, nil
}

func (a *rawAgent) read() (*protobufs.ServerToAgent, error) {
	_, data, err := a.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || data[0] != 0 {
		return nil, fmt.Errorf("unexpected OpAMP frame header %v", data[:min(len(data), 1)])
	}
	out := &protobufs.ServerToAgent{}
	return out, proto.Unmarshal(data[1:], out)
}

// untilClosed reads until the server closes the connection.
func (a *rawAgent) untilClosed() error {
	a.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		if _, err := a.read(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				return err
			}
			return nil
		}
	}
}

func credentialOf(r *protobufs.ServerToAgent) string {
	for _, h := range r.GetConnectionSettings().GetOpamp().GetHeaders().GetHeaders() {
		if v, ok := strings.CutPrefix(h.GetValue(), "Bearer "); ok {
			return v
		}
	}
	return ""
}

// A revoked agent is cut off at once: its live connection closes, its
// credential opens no new session and ingests nothing, and it cannot enrol
// again with the enrollment token (until approved).
func TestRevokedAgentCutOff(t *testing.T) {
	ts := startServer(t, newConfig(t))
	uid := uuid.Must(uuid.NewV7())
	a, first, err := dialRaw(t, ts.OpAMPURL(), ts.EnrollmentToken(), uid, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	a.conn.Close()
	cred := credentialOf(first)
	if cred == "" {
		t.Fatalf("no credential on enrolment: %v", first)
	}
	a, _, err = dialRaw(t, ts.OpAMPURL(), cred, uid, "web-1")
	if err != nil {
		t.Fatalf("reconnect with the credential: %v", err)
	}
	defer a.conn.Close()
	ingest := ts.APIURL() + "/v1/metrics"
	if code, body := postMetrics(t, ingest, cred, series("", "x", 1), nil); code != 200 {
		t.Fatalf("ingest before revoke: %d %s", code, body)
	}
	start := time.Now()
	out := ts.mustCall(t, "POST", "/api/v1/agents/"+uid.String()+"/revoke", nil, 200)
	if out["state"] != api.IdentityRevoked {
		t.Fatalf("revoke: %v", out)
	}
	if err := a.untilClosed(); err != nil {
		t.Fatalf("the revoked agent's connection stayed open: %v", err)
	}
	t.Logf("revoked agent disconnected %s after the revoke request started", time.Since(start))
	if _, _, err := dialRaw(t, ts.OpAMPURL(), cred, uid, "web-1"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a revoked agent reconnected with its credential: %v", err)
	}
	if x, r, err := dialRaw(t, ts.OpAMPURL(), ts.EnrollmentToken(), uid, "web-1"); err == nil {
		if r.GetErrorResponse() == nil || credentialOf(r) != "" || !strings.Contains(r.GetErrorResponse().GetErrorMessage(), "revoked") {
			t.Fatalf("a revoked agent enrolled again: %v", r)
		}
		x.conn.Close()
	}
	if code, _ := postMetrics(t, ingest, cred, series("", "x", 1), nil); code != 401 {
		t.Fatalf("ingest after revoke: %d", code)
	}
	// Approve readmits it: it enrols again, with a new credential.
	ts.mustCall(t, "POST", "/api/v1/agents/"+uid.String()+"/approve", nil, 200)
	b, again, err := dialRaw(t, ts.OpAMPURL(), ts.EnrollmentToken(), uid, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	b.conn.Close()
	if c := credentialOf(again); c == "" || c == cred {
		t.Fatalf("re-enrolment credential %q (old %q)", c, cred)
	}
}

// Rotating the enrollment token file disconnects no enrolled agent, and
// new agents enrol with the new token only.
func TestEnrollmentRotationKeepsAgents(t *testing.T) {
	cfg := newConfig(t)
	ts := startServer(t, cfg)
	old := ts.EnrollmentToken()
	a, first, err := dialRaw(t, ts.OpAMPURL(), old, uuid.Must(uuid.NewV7()), "web-1")
	if err != nil {
		t.Fatal(err)
	}
	defer a.conn.Close()
	cred := credentialOf(first)
	if err := writeTokenFile(cfg, "phx_enroll_rotated_0123456789"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new token in force", func() (bool, string) { return ts.EnrollmentToken() == "phx_enroll_rotated_0123456789", "" })
	// Still connected: the server answers it.
	b, _ := proto.Marshal(&protobufs.AgentToServer{InstanceUid: a.uid[:], SequenceNum: 1})
	if err := a.conn.WriteMessage(websocket.BinaryMessage, append([]byte{0}, b...)); err != nil {
		t.Fatal(err)
	}
	a.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := a.read(); err != nil {
		t.Fatalf("an enrolled agent lost its connection on rotation: %v", err)
	}
	if x, _, err := dialRaw(t, ts.OpAMPURL(), cred, a.uid, "web-1"); err != nil {
		t.Fatalf("the credential after rotation: %v", err)
	} else {
		x.conn.Close()
	}
	if _, _, err := dialRaw(t, ts.OpAMPURL(), old, uuid.Must(uuid.NewV7()), "web-2"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("the old enrollment token still enrols: %v", err)
	}
	x, r, err := dialRaw(t, ts.OpAMPURL(), "phx_enroll_rotated_0123456789", uuid.Must(uuid.NewV7()), "web-2")
	if err != nil || credentialOf(r) == "" {
		t.Fatalf("the new enrollment token: %v", err)
	}
	x.conn.Close()
}

// A third-party-like agent (an opamp-go client) that reports its merged
// config, with the own_metrics Authorization header the server offered,
// has it redacted before it is stored or served.
func TestEchoedCredentialIsRedacted(t *testing.T) {
	ts := startServer(t, newConfig(t))
	uid := uuid.Must(uuid.NewV7())
	var effective []byte
	var cred string
	done := make(chan struct{}, 1)
	c := client.NewWebSocket(nil)
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	desc := &protobufs.AgentDescription{NonIdentifyingAttributes: []*protobufs.KeyValue{{Key: "host.name", Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: "echo-1"}}}}}
	if err := c.SetAgentDescription(desc); err != nil {
		t.Fatal(err)
	}
	if err := c.SetHealth(&protobufs.ComponentHealth{Healthy: true}); err != nil {
		t.Fatal(err)
	}
	err := c.Start(context.Background(), types.StartSettings{
		OpAMPServerURL: ts.OpAMPURL(),
		HeaderFunc: func(h http.Header) http.Header {
			<-mu
			tok := cred
			mu <- struct{}{}
			if tok == "" {
				tok = ts.EnrollmentToken()
			}
			h.Set("Authorization", "Bearer "+tok)
			return h
		},
		InstanceUid:  types.InstanceUid(uid),
		Capabilities: agentsim.Capabilities,
		Callbacks: types.Callbacks{
			OnOpampConnectionSettings: func(_ context.Context, s *protobufs.OpAMPConnectionSettings) error {
				<-mu
				cred = credentialOf(&protobufs.ServerToAgent{ConnectionSettings: &protobufs.ConnectionSettingsOffers{Opamp: s}})
				mu <- struct{}{}
				return nil
			},
			OnMessage: func(ctx context.Context, m *types.MessageData) {
				if om := m.OwnMetricsConnSettings; om != nil {
					// The contrib supervisor's merged config carries the header.
					<-mu
					effective = fmt.Appendf(nil, "service:\n  telemetry:\n    metrics:\n      readers:\n        - periodic:\n            exporter:\n              otlp:\n                endpoint: %s\n                headers:\n                  - name: Authorization\n                    value: %q\n",
						om.GetDestinationEndpoint(), agentsim.HeaderValue(om, "Authorization"))
					mu <- struct{}{}
					go func() { _ = c.UpdateEffectiveConfig(ctx); done <- struct{}{} }()
				}
			},
			GetEffectiveConfig: func(context.Context) (*protobufs.EffectiveConfig, error) {
				<-mu
				defer func() { mu <- struct{}{} }()
				return &protobufs.EffectiveConfig{ConfigMap: &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{"": {Body: effective}}}}, nil
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("no own_metrics offer")
	}
	<-mu
	tok := cred
	echoed := string(effective)
	mu <- struct{}{}
	if tok == "" || !strings.Contains(echoed, tok) {
		t.Fatalf("the test agent did not echo its credential: %q", echoed)
	}
	eventually(t, "effective config stored", func() (bool, string) {
		code, out := ts.call(t, "GET", "/api/v1/hosts/echo-1/config", nil)
		s := fmt.Sprint(out)
		return code == 200 && strings.Contains(s, "REDACTED"), s
	})
	_, out := ts.call(t, "GET", "/api/v1/hosts/echo-1/config", nil)
	if s := fmt.Sprint(out); strings.Contains(s, tok) {
		t.Fatalf("GET /api/v1/hosts/echo-1/config serves the offered credential: %s", s)
	}
	stored, err := ts.Store().GetAgent(context.Background(), uid.String())
	if err != nil || strings.Contains(stored.EffectiveConfig, tok) || !strings.Contains(stored.EffectiveConfig, "Bearer REDACTED") {
		t.Fatalf("stored effective config: %q %v", stored.EffectiveConfig, err)
	}
}

// writeTokenFile rotates the enrollment token the way an operator would:
// a new file moved over the old one.
func writeTokenFile(cfg server.Config, tok string) error {
	p := cfg.EnrollmentTokenFile
	if p == "" {
		p = filepath.Join(cfg.DataDir, "enrollment-token")
	}
	tmp := p + ".new"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// An agent that cannot take a credential (no AcceptsOpAMPConnectionSettings)
// is refused on enrolment, with a message that says why, and nothing of it
// is enrolled.
func TestEnrolmentNeedsConnectionSettingsCapability(t *testing.T) {
	ts := startServer(t, newConfig(t))
	c, _, err := websocket.DefaultDialer.Dial(ts.OpAMPURL(), http.Header{"Authorization": {"Bearer " + ts.EnrollmentToken()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uid := uuid.Must(uuid.NewV7())
	caps := uint64(agentsim.Capabilities) &^ uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsOpAMPConnectionSettings)
	b, _ := proto.Marshal(&protobufs.AgentToServer{InstanceUid: uid[:], Capabilities: caps})
	if err := c.WriteMessage(websocket.BinaryMessage, append([]byte{0}, b...)); err != nil {
		t.Fatal(err)
	}
	a := &rawAgent{conn: c, uid: uid}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := a.read()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.GetErrorResponse().GetErrorMessage(), "AcceptsOpAMPConnectionSettings") || credentialOf(r) != "" {
		t.Fatalf("answer to an agent that cannot take a credential: %v", r)
	}
	out := ts.mustCall(t, "GET", "/api/v1/identities", nil, 200)
	if ids, _ := out["identities"].([]any); len(ids) != 0 {
		t.Fatalf("enrolled anyway: %v", out)
	}
}
