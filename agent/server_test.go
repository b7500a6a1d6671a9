package agent_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server"
	"github.com/open-telemetry/opamp-go/server/types"
)

// opampServer is a real OpAMP server (opamp-go's server package, WebSocket
// on a loopback port) that behaves like phoenix-server towards one agent:
// it checks the enrollment token, records what the agent reports, pushes the
// desired config when the reported hash differs, and never re-pushes a hash
// the agent reported FAILED.
type opampServer struct {
	t     testing.TB
	token string
	addr  string
	srv   server.OpAMPServer

	mu          sync.Mutex
	conn        types.Connection
	connects    int
	rejected    int
	uid         []byte
	desc        *protobufs.AgentDescription
	caps        uint64
	customCaps  []string
	health      *protobufs.ComponentHealth
	effective   *protobufs.EffectiveConfig
	status      *protobufs.RemoteConfigStatus
	statuses    []*protobufs.RemoteConfigStatus // every status report, in order
	custom      []*protobufs.CustomMessage
	desired     *protobufs.AgentRemoteConfig
	failedSeen  map[string]bool
	pushes      map[string]int // how many times each hash was sent
	ownMetrics  *protobufs.TelemetryConnectionSettings
	disconnects int
	// credential is accepted beside the token once offered (offerCredential);
	// auths are the Authorization headers of every connection attempt.
	credential string
	auths      []string
}

func newOpAMPServer(t testing.TB, token string) *opampServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &opampServer{t: t, token: token, addr: addr, failedSeen: map[string]bool{}, pushes: map[string]int{}}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *opampServer) url() string { return "ws://" + s.addr + "/v1/opamp" }

func (s *opampServer) start() {
	s.t.Helper()
	srv := server.New(nil)
	err := srv.Start(server.StartSettings{
		ListenEndpoint: s.addr,
		ListenPath:     "/v1/opamp",
		Settings: server.Settings{
			CustomCapabilities: []string{"io.phoenix.loadsim"},
			Callbacks: types.Callbacks{
				OnConnecting: func(r *http.Request) types.ConnectionResponse {
					auth := r.Header.Get("Authorization")
					s.mu.Lock()
					s.auths = append(s.auths, auth)
					ok := auth == "Bearer "+s.token || (s.credential != "" && auth == "Bearer "+s.credential)
					if !ok {
						s.rejected++
					}
					s.mu.Unlock()
					if !ok {
						return types.ConnectionResponse{Accept: false, HTTPStatusCode: http.StatusUnauthorized}
					}
					return types.ConnectionResponse{Accept: true, ConnectionCallbacks: types.ConnectionCallbacks{
						OnConnected: func(_ context.Context, c types.Connection) {
							s.mu.Lock()
							s.conn = c
							s.connects++
							s.mu.Unlock()
						},
						OnMessage: s.onMessage,
						OnConnectionClose: func(c types.Connection) {
							s.mu.Lock()
							if s.conn == c {
								s.conn = nil
							}
							s.disconnects++
							s.mu.Unlock()
						},
					}}
				},
			},
		},
	})
	if err != nil {
		s.t.Fatalf("start OpAMP server on %s: %v", s.addr, err)
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

func (s *opampServer) stop() {
	s.mu.Lock()
	srv := s.srv
	conn := s.conn
	s.srv = nil
	s.conn = nil
	s.mu.Unlock()
	// http.Server.Shutdown leaves hijacked WebSocket connections open: a
	// stopped server must drop its agents too.
	if conn != nil {
		_ = conn.Disconnect()
	}
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	}
}

func (s *opampServer) onMessage(_ context.Context, c types.Connection, m *protobufs.AgentToServer) *protobufs.ServerToAgent {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = c
	s.uid = m.InstanceUid
	if m.AgentDescription != nil {
		s.desc = m.AgentDescription
	}
	if m.Capabilities != 0 {
		s.caps = m.Capabilities
	}
	if m.CustomCapabilities != nil {
		s.customCaps = m.CustomCapabilities.Capabilities
	}
	if m.Health != nil {
		s.health = m.Health
	}
	if m.EffectiveConfig != nil {
		s.effective = m.EffectiveConfig
	}
	if m.RemoteConfigStatus != nil {
		s.status = m.RemoteConfigStatus
		s.statuses = append(s.statuses, m.RemoteConfigStatus)
		if m.RemoteConfigStatus.Status == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED {
			s.failedSeen[string(m.RemoteConfigStatus.LastRemoteConfigHash)] = true
		}
	}
	if m.CustomMessage != nil {
		s.custom = append(s.custom, m.CustomMessage)
	}
	resp := &protobufs.ServerToAgent{InstanceUid: m.InstanceUid}
	if rc := s.pushLocked(); rc != nil {
		resp.RemoteConfig = rc
	}
	if s.ownMetrics != nil && m.AgentDescription != nil {
		// Offer connection settings with every full state report (first
		// message after a connect).
		resp.ConnectionSettings = &protobufs.ConnectionSettingsOffers{Hash: []byte(s.ownMetrics.DestinationEndpoint), OwnMetrics: s.ownMetrics}
	}
	return resp
}

// pushLocked returns the desired config when the agent should get it.
func (s *opampServer) pushLocked() *protobufs.AgentRemoteConfig {
	if s.desired == nil {
		return nil
	}
	h := string(s.desired.ConfigHash)
	if s.failedSeen[h] {
		return nil
	}
	if s.status != nil && string(s.status.LastRemoteConfigHash) == h {
		return nil
	}
	s.pushes[h]++
	return s.desired
}

// setDesired makes cfg the agent's desired config and pushes it now when the
// agent is connected. It returns the config's hash.
func (s *opampServer) setDesired(cfg string) []byte {
	s.t.Helper()
	sum := sha256.Sum256([]byte(cfg))
	rc := &protobufs.AgentRemoteConfig{
		Config:     &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{"": {Body: []byte(cfg), ContentType: "text/yaml"}}},
		ConfigHash: sum[:],
	}
	s.mu.Lock()
	s.desired = rc
	conn := s.conn
	var push *protobufs.AgentRemoteConfig
	if conn != nil {
		push = s.pushLocked()
	}
	s.mu.Unlock()
	if push != nil {
		s.send(conn, &protobufs.ServerToAgent{RemoteConfig: push})
	}
	return sum[:]
}

// forcePush sends a config regardless of what the agent reported.
func (s *opampServer) forcePush(cfg string) []byte {
	sum := sha256.Sum256([]byte(cfg))
	rc := &protobufs.AgentRemoteConfig{
		Config:     &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{"": {Body: []byte(cfg)}}},
		ConfigHash: sum[:],
	}
	s.mu.Lock()
	conn := s.conn
	s.pushes[string(sum[:])]++
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{RemoteConfig: rc})
	return sum[:]
}

func (s *opampServer) offerOwnMetrics(endpoint string) {
	s.mu.Lock()
	s.ownMetrics = &protobufs.TelemetryConnectionSettings{DestinationEndpoint: endpoint}
	conn := s.conn
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{ConnectionSettings: &protobufs.ConnectionSettingsOffers{
		Hash: []byte(endpoint), OwnMetrics: &protobufs.TelemetryConnectionSettings{DestinationEndpoint: endpoint},
	}})
}

// offerCredential issues the agent its own credential, as phoenix-server
// does on enrolment, and accepts it from then on.
func (s *opampServer) offerCredential(tok string) {
	s.mu.Lock()
	s.credential = tok
	conn := s.conn
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{ConnectionSettings: &protobufs.ConnectionSettingsOffers{
		Hash:  []byte("credential:" + tok),
		Opamp: &protobufs.OpAMPConnectionSettings{Headers: &protobufs.Headers{Headers: []*protobufs.Header{{Key: "Authorization", Value: "Bearer " + tok}}}},
	}})
}

// offerOwnMetricsWithHeaders offers an own_metrics destination with headers.
func (s *opampServer) offerOwnMetricsWithHeaders(endpoint string, headers map[string]string) {
	om := &protobufs.TelemetryConnectionSettings{DestinationEndpoint: endpoint, Headers: &protobufs.Headers{}}
	for k, v := range headers {
		om.Headers.Headers = append(om.Headers.Headers, &protobufs.Header{Key: k, Value: v})
	}
	s.mu.Lock()
	s.ownMetrics = om
	conn := s.conn
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{ConnectionSettings: &protobufs.ConnectionSettingsOffers{Hash: []byte("om:" + endpoint), OwnMetrics: om}})
}

// pushFiles sends a config of several files (e.g. the secrets entry).
func (s *opampServer) pushFiles(files map[string]string) []byte {
	h := sha256.New()
	m := map[string]*protobufs.AgentConfigFile{}
	for _, n := range sortedNames(files) {
		h.Write([]byte(n + "\x00" + files[n] + "\x00"))
		m[n] = &protobufs.AgentConfigFile{Body: []byte(files[n])}
	}
	sum := h.Sum(nil)
	rc := &protobufs.AgentRemoteConfig{Config: &protobufs.AgentConfigMap{ConfigMap: m}, ConfigHash: sum}
	s.mu.Lock()
	s.desired = rc
	conn := s.conn
	s.pushes[string(sum)]++
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{RemoteConfig: rc})
	return sum
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *opampServer) authsSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

func (s *opampServer) sendCustom(typ string, data []byte) {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{CustomMessage: &protobufs.CustomMessage{Capability: "io.phoenix.loadsim", Type: typ, Data: data}})
}

func (s *opampServer) send(conn types.Connection, m *protobufs.ServerToAgent) {
	s.t.Helper()
	if conn == nil {
		s.t.Fatal("OpAMP server: no agent connected")
	}
	s.mu.Lock()
	m.InstanceUid = s.uid
	s.mu.Unlock()
	if err := conn.Send(context.Background(), m); err != nil {
		s.t.Fatalf("OpAMP server: send: %v", err)
	}
}

// snapshot is a consistent copy of what the server knows.
type snapshot struct {
	connected  bool
	connects   int
	rejected   int
	uid        []byte
	desc       *protobufs.AgentDescription
	caps       uint64
	customCaps []string
	health     *protobufs.ComponentHealth
	effective  *protobufs.EffectiveConfig
	status     *protobufs.RemoteConfigStatus
	statuses   []*protobufs.RemoteConfigStatus
	custom     []*protobufs.CustomMessage
	pushes     map[string]int
}

func (s *opampServer) snap() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := make(map[string]int, len(s.pushes))
	for k, v := range s.pushes {
		p[k] = v
	}
	return snapshot{
		connected: s.conn != nil, connects: s.connects, rejected: s.rejected, uid: s.uid, desc: s.desc,
		caps: s.caps, customCaps: s.customCaps, health: s.health, effective: s.effective,
		status: s.status, statuses: append([]*protobufs.RemoteConfigStatus(nil), s.statuses...),
		custom: append([]*protobufs.CustomMessage(nil), s.custom...), pushes: p,
	}
}

// waitFor polls the server's view until cond holds. The timeout bounds a
// hung agent; it is not a performance assertion.
func (s *opampServer) waitFor(t testing.TB, what string, timeout time.Duration, cond func(snapshot) bool) snapshot {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sn := s.snap()
		if cond(sn) {
			return sn
		}
		if time.Now().After(deadline) {
			t.Fatalf("OpAMP server: %s: not reached after %s; last status=%s health=%s", what, timeout, describeStatus(sn.status), describeHealth(sn.health))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *opampServer) waitStatus(t testing.TB, hash []byte, want protobufs.RemoteConfigStatuses, timeout time.Duration) *protobufs.RemoteConfigStatus {
	t.Helper()
	sn := s.waitFor(t, fmt.Sprintf("remote config status %s for %x", want, hash[:4]), timeout, func(sn snapshot) bool {
		return sn.status != nil && string(sn.status.LastRemoteConfigHash) == string(hash) && sn.status.Status == want
	})
	return sn.status
}

func describeStatus(st *protobufs.RemoteConfigStatus) string {
	if st == nil {
		return "<none>"
	}
	h := st.LastRemoteConfigHash
	if len(h) > 4 {
		h = h[:4]
	}
	return fmt.Sprintf("%s(%x) %q", st.Status, h, firstLineOf(st.ErrorMessage))
}

func describeHealth(h *protobufs.ComponentHealth) string {
	if h == nil {
		return "<none>"
	}
	return fmt.Sprintf("healthy=%v status=%q collector=%q err=%q", h.Healthy, h.Status, h.ComponentHealthMap["collector"].GetStatus(), firstLineOf(h.LastError))
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func (s *opampServer) sendRestart() {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	s.send(conn, &protobufs.ServerToAgent{Command: &protobufs.ServerToAgentCommand{Type: protobufs.CommandType_CommandType_Restart}})
}
