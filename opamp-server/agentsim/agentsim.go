// Package agentsim simulates phoenix-agents with real opamp-go clients: it
// connects over WebSocket or plain-HTTP polling, reports a description with a
// host name and labels, "applies" remote configs (APPLYING, then APPLIED or
// FAILED), reports the effective config and health, and records what the
// server sent. The server's integration tests and the scale benchmark use it.
//
// With Options.Rollback it behaves like the contrib opampsupervisor with
// automatic_config_rollback: a config B that fails is reported
// APPLYING(B) -> FAILED(B), then the agent goes back to the config A it ran
// before and reports APPLIED(A). The server must then remember that B failed
// by itself: the agent's reported hash no longer says so.
package agentsim

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/agent"
)

// Capabilities of a simulated agent: those of phoenix-agent.
const Capabilities = agent.Capabilities

// Options configure a simulated agent.
type Options struct {
	URL    string // ws(s)://host:port/v1/opamp or http(s)://... with HTTP
	Token  string // enrollment token
	Host   string
	Labels map[string]string
	UID    uuid.UUID // zero: a new UUIDv7
	// HTTP polls over plain HTTP instead of holding a WebSocket.
	HTTP bool
	// Heartbeat is the heartbeat (WebSocket) or polling (HTTP) interval;
	// zero keeps opamp-go's default (30s).
	Heartbeat time.Duration
	// Fail decides whether applying a config fails: a non-empty message
	// makes the agent report FAILED with it and keep its previous config.
	Fail func(body []byte) string
	// ApplyDelay is how long "applying" takes.
	ApplyDelay time.Duration
	// Rollback: after FAILED(B), go back to the previous config A and
	// report APPLIED(A) (the contrib supervisor's automatic_config_rollback).
	Rollback  bool
	TLSConfig *tls.Config
	// Previous state, as a restarted agent would have persisted it.
	RemoteConfigStatus *protobufs.RemoteConfigStatus
	Effective          []byte
}

// Received is one remote config the agent got.
type Received struct {
	Hash string
	Body []byte
	At   time.Time
}

// Agent is a running simulated agent.
type Agent struct {
	opts   Options
	client client.OpAMPClient

	mu         sync.Mutex
	effective  []byte
	received   []Received
	status     *protobufs.RemoteConfigStatus
	ownMetrics *protobufs.TelemetryConnectionSettings
	credential string // issued by the server on enrolment; presented from then on
	connected  bool
	fullState  int
	connectErr error
	appliedAt  map[string]time.Time
	// applied is the hash of the config the agent runs (what a rollback
	// reports APPLIED again).
	applied []byte
	fail    func(body []byte) string
	custom  []*protobufs.CustomMessage
}

// Start connects a simulated agent.
func Start(ctx context.Context, opts Options) (*Agent, error) {
	if opts.UID == uuid.Nil {
		opts.UID = uuid.Must(uuid.NewV7())
	}
	a := &Agent{opts: opts, effective: opts.Effective, status: opts.RemoteConfigStatus, appliedAt: map[string]time.Time{}, fail: opts.Fail}
	if st := opts.RemoteConfigStatus; st != nil && st.GetStatus() == protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED {
		a.applied = st.GetLastRemoteConfigHash()
	}
	if opts.HTTP {
		a.client = client.NewHTTP(nil)
	} else {
		a.client = client.NewWebSocket(nil)
	}
	if err := a.client.SetAgentDescription(a.description()); err != nil {
		return nil, err
	}
	if err := a.client.SetCustomCapabilities(&protobufs.CustomCapabilities{Capabilities: []string{agent.RetryCapability}}); err != nil {
		return nil, err
	}
	_ = a.client.SetHealth(&protobufs.ComponentHealth{Healthy: true, StartTimeUnixNano: uint64(time.Now().UnixNano()), Status: "running"})
	settings := types.StartSettings{
		OpAMPServerURL: opts.URL,
		HeaderFunc: func(h http.Header) http.Header {
			h.Set("Authorization", "Bearer "+a.Token())
			return h
		},

		TLSConfig:          opts.TLSConfig,
		InstanceUid:        types.InstanceUid(opts.UID),
		Capabilities:       Capabilities,
		RemoteConfigStatus: opts.RemoteConfigStatus,
		Callbacks: types.Callbacks{
			OnConnect: func(context.Context) { a.mu.Lock(); a.connected, a.connectErr = true, nil; a.mu.Unlock() },
			// Like phoenix-agent: take the credential the server issues.
			OnOpampConnectionSettings: func(_ context.Context, s *protobufs.OpAMPConnectionSettings) error {
				for _, h := range s.GetHeaders().GetHeaders() {
					if v, ok := strings.CutPrefix(h.GetValue(), "Bearer "); ok && strings.EqualFold(h.GetKey(), "Authorization") {
						a.mu.Lock()
						a.credential = v
						a.mu.Unlock()
					}
				}
				return nil
			},
			OnConnectFailed: func(_ context.Context, err error) { a.mu.Lock(); a.connected, a.connectErr = false, err; a.mu.Unlock() },
			OnMessage:       a.onMessage,
			GetEffectiveConfig: func(context.Context) (*protobufs.EffectiveConfig, error) {
				a.mu.Lock()
				defer a.mu.Unlock()
				return &protobufs.EffectiveConfig{ConfigMap: &protobufs.AgentConfigMap{ConfigMap: map[string]*protobufs.AgentConfigFile{
					"phoenix.yaml": {Body: a.effective, ContentType: "text/yaml"},
				}}}, nil
			},
		},
	}
	if opts.Heartbeat > 0 {
		hb := opts.Heartbeat
		settings.HeartbeatInterval = &hb
	}
	if err := a.client.Start(ctx, settings); err != nil {
		return nil, err
	}
	return a, nil
}

func kv(k, v string) *protobufs.KeyValue {
	return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
}

func (a *Agent) description() *protobufs.AgentDescription {
	nonID := []*protobufs.KeyValue{kv("host.name", a.opts.Host), kv("os.type", "linux"), kv("host.arch", "amd64"),
		kv("phoenix.agent.version", "sim"), kv("phoenix.collector.version", "sim")}
	keys := make([]string, 0, len(a.opts.Labels))
	for k := range a.opts.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		nonID = append(nonID, kv("phoenix.label."+k, a.opts.Labels[k]))
	}
	return &protobufs.AgentDescription{
		IdentifyingAttributes:    []*protobufs.KeyValue{kv("service.name", "phoenix-otelcol"), kv("service.instance.id", a.opts.UID.String())},
		NonIdentifyingAttributes: nonID,
	}
}

func (a *Agent) onMessage(ctx context.Context, msg *types.MessageData) {
	if msg.OwnMetricsConnSettings != nil {
		a.mu.Lock()
		a.ownMetrics = msg.OwnMetricsConnSettings
		a.mu.Unlock()
	}
	if msg.CustomMessage != nil {
		a.mu.Lock()
		a.custom = append(a.custom, msg.CustomMessage)
		a.mu.Unlock()
	}
	rc := msg.RemoteConfig
	if rc == nil {
		return
	}
	var names []string
	files := rc.GetConfig().GetConfigMap()
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var body []byte
	for _, n := range names {
		body = append(body, files[n].GetBody()...)
	}
	hash := rc.GetConfigHash()
	a.mu.Lock()
	a.received = append(a.received, Received{Hash: hex.EncodeToString(hash), Body: body, At: time.Now()})
	a.mu.Unlock()
	a.setStatus(hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLYING, "")
	if a.opts.ApplyDelay > 0 {
		select {
		case <-time.After(a.opts.ApplyDelay):
		case <-ctx.Done():
			return
		}
	}
	a.mu.Lock()
	fail := a.fail
	a.mu.Unlock()
	if fail != nil {
		if why := fail(body); why != "" {
			a.setStatus(hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED, why)
			a.mu.Lock()
			prev := a.applied
			a.mu.Unlock()
			if a.opts.Rollback && len(prev) > 0 {
				// The supervisor restarts its collector on the previous
				// config, outside the message callback; FAILED(B) goes
				// out before APPLIED(A).
				go func() {
					time.Sleep(300 * time.Millisecond)
					a.setStatus(prev, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, "")
				}()
			}
			return
		}
	}
	a.mu.Lock()
	a.effective = body
	a.applied = hash
	a.appliedAt[hex.EncodeToString(hash)] = time.Now()
	a.mu.Unlock()
	_ = a.client.UpdateEffectiveConfig(ctx)
	a.setStatus(hash, protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED, "")
}

func (a *Agent) setStatus(hash []byte, st protobufs.RemoteConfigStatuses, msg string) {
	s := &protobufs.RemoteConfigStatus{LastRemoteConfigHash: hash, Status: st, ErrorMessage: msg}
	a.mu.Lock()
	a.status = s
	a.mu.Unlock()
	_ = a.client.SetRemoteConfigStatus(s)
}

// SetFail replaces Options.Fail (e.g. the operator fixed the host).
func (a *Agent) SetFail(fail func(body []byte) string) {
	a.mu.Lock()
	a.fail = fail
	a.mu.Unlock()
}

// SetHealth reports a health as the agent's (a crash-looping collector,
// failing exports, ...).
func (a *Agent) SetHealth(h *protobufs.ComponentHealth) error {
	return a.client.SetHealth(h)
}

// CustomMessages lists the custom messages the server sent, in order.
func (a *Agent) CustomMessages() []*protobufs.CustomMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*protobufs.CustomMessage(nil), a.custom...)
}

// UID is the agent's instance uid.
func (a *Agent) UID() uuid.UUID { return a.opts.UID }

// Host is the agent's host name.
func (a *Agent) Host() string { return a.opts.Host }

// Received lists the remote configs the server sent, in order.
func (a *Agent) Received() []Received {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Received(nil), a.received...)
}

// AppliedAt is when the agent applied the config with that hex hash (zero if not).
func (a *Agent) AppliedAt(hash string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appliedAt[hash]
}

// Effective is the config the agent "runs".
func (a *Agent) Effective() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]byte(nil), a.effective...)
}

// EffectiveHash is the hex sha256 of Effective.
func (a *Agent) EffectiveHash() string {
	h := sha256.Sum256(a.Effective())
	return hex.EncodeToString(h[:])
}

// Status is the last remote config status the agent reported.
func (a *Agent) Status() *protobufs.RemoteConfigStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// Token is what the agent presents: its credential once issued, else the
// enrollment token.
func (a *Agent) Token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.credential != "" {
		return a.credential
	}
	return a.opts.Token
}

// Credential is the credential the server issued ("" before enrolment).
func (a *Agent) Credential() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.credential
}

// OwnMetrics is the own_metrics offer, if any.
func (a *Agent) OwnMetrics() *protobufs.TelemetryConnectionSettings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ownMetrics
}

// Connected reports whether the last connection attempt succeeded.
func (a *Agent) Connected() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

// ConnectError is the last connection failure.
func (a *Agent) ConnectError() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connectErr
}

// Restartable returns options that restart this agent with its state, as
// phoenix-agent does from its data directory.
func (a *Agent) Restartable() Options {
	o := a.opts
	a.mu.Lock()
	o.RemoteConfigStatus, o.Effective = a.status, append([]byte(nil), a.effective...)
	if a.credential != "" {
		o.Token = a.credential // as phoenix-agent keeps it in its data dir
	}
	a.mu.Unlock()
	return o
}

// Stop disconnects the agent.
func (a *Agent) Stop(ctx context.Context) error {
	return a.client.Stop(ctx)
}

// HeaderValue returns a header of an own_metrics offer.
func HeaderValue(s *protobufs.TelemetryConnectionSettings, key string) string {
	for _, h := range s.GetHeaders().GetHeaders() {
		if strings.EqualFold(h.GetKey(), key) {
			return h.GetValue()
		}
	}
	return ""
}
