package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server/types"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// serverCapabilities are what phoenix-server does: it accepts status and
// effective config, offers remote config and connection settings (own_metrics).
// It offers no packages and takes no connection settings requests.
const serverCapabilities = uint64(protobufs.ServerCapabilities_ServerCapabilities_AcceptsStatus |
	protobufs.ServerCapabilities_ServerCapabilities_OffersRemoteConfig |
	protobufs.ServerCapabilities_ServerCapabilities_AcceptsEffectiveConfig |
	protobufs.ServerCapabilities_ServerCapabilities_OffersConnectionSettings)

// Attribute keys of the agent description (semantic conventions; the
// phoenix-agent reports its labels as phoenix.label.<key>).
const (
	attrHostName         = "host.name"
	attrHostArch         = "host.arch"
	attrOSType           = "os.type"
	attrServiceVersion   = "service.version"
	attrAgentVersion     = "phoenix.agent.version"
	attrCollectorVersion = "phoenix.collector.version"
	labelPrefix          = "phoenix.label."
)

// HeaderAgentID is the agent-id header older offers asked agents to send.
// Ingest attributes figures to the agent whose credential sent them; a
// request whose header names another agent is refused (403).
const HeaderAgentID = "X-Phoenix-Agent-Id"

// session is this replica's view of one connected agent.
type session struct {
	mu      sync.Mutex
	uid     string
	conn    types.Connection // WebSocket; nil for plain-HTTP polling
	agent   store.Agent
	haveSeq bool
	lastSeq uint64
	// sentHash/sentAt: the config sent on this connection (or, for
	// polling, recently), so it is not sent again before the agent answers.
	sentHash string
	sentAt   time.Time
	pushedAt map[string]time.Time
	// retryMsg goes out with the config a retry pushes (reconcile sets it).
	retryMsg   *protobufs.CustomMessage
	offeredOM  bool
	advertise  string // base URL for own_metrics, from the OpAMP request
	lastStored time.Time
	id         sessionIdentity // who the agent is (identity.go)
	targets    pushTargets     // what push rounds read without mu (pushtargets.go)
}

type fleet struct {
	s *Server

	mu       sync.Mutex
	sessions map[string]*session
	conns    map[types.Connection]*session
	// refused holds WebSockets whose agent was refused, until they are
	// closed (identity.go).
	refused sync.Map

	// writer batches the agent-record writes (agentwriter.go).
	writer *agentWriter
	// configs holds one copy of each effective config (intern.go).
	configs configInterner
	// rounds runs the push rounds of deployment changes (pushrounds.go).
	rounds pushRounds
	// gen is the store's deployments generation this replica last loaded.
	gen atomic.Int64
}

func newFleet(s *Server) *fleet {
	f := &fleet{s: s, sessions: map[string]*session{}, conns: map[types.Connection]*session{}}
	f.writer = newAgentWriter(s.store, s.cfg.ServerID, s.log, s.cfg.AgentStateFlush, s.cfg.AgentLivenessFlush, f.sessionList)
	return f
}

func (f *fleet) sessionList() []*session {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*session, 0, len(f.sessions))
	for _, s := range f.sessions {
		out = append(out, s)
	}
	return out
}

func (f *fleet) callbacks() types.Callbacks {
	return types.Callbacks{OnConnecting: f.onConnecting}
}

// onConnecting accepts the enrollment token (an agent that may enrol) or an
// enrolled agent's own credential; each message is then admitted for its
// instance uid (identity.go).
func (f *fleet) onConnecting(r *http.Request) types.ConnectionResponse {
	tok := bearer(r)
	p, err := f.s.identity.Authenticate(r.Context(), tok)
	if err != nil {
		return f.refuseConnecting(r, err)
	}
	advertise := f.advertiseURL(r)
	return types.ConnectionResponse{Accept: true, ConnectionCallbacks: types.ConnectionCallbacks{
		OnMessage: func(ctx context.Context, conn types.Connection, msg *protobufs.AgentToServer) *protobufs.ServerToAgent {
			if refused, ok := f.admit(ctx, conn, msg, p, tok); !ok {
				return refused
			}
			return f.onMessage(ctx, conn, msg, advertise)
		},
		OnConnectionClose: f.onClose,
	}}
}

// advertiseURL is the base URL of the HTTP port as the agent can reach it.
func (f *fleet) advertiseURL(r *http.Request) string {
	if f.s.cfg.AdvertiseURL != "" {
		return strings.TrimRight(f.s.cfg.AdvertiseURL, "/")
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	_, port, _ := net.SplitHostPort(f.s.apiLn.Addr().String())
	return f.s.scheme(false) + "://" + net.JoinHostPort(host, port)
}

// isWS tells opamp-go's WebSocket connection from its plain-HTTP one (which
// cannot Send: its answer is the HTTP response).
func isWS(conn types.Connection) bool {
	return !strings.Contains(fmt.Sprintf("%T", conn), "httpConnection")
}

func (f *fleet) onMessage(ctx context.Context, conn types.Connection, msg *protobufs.AgentToServer, advertise string) *protobufs.ServerToAgent {
	f.s.metrics.opampMessages.Inc()
	uid, err := uuid.FromBytes(msg.GetInstanceUid())
	if err != nil {
		return &protobufs.ServerToAgent{InstanceUid: msg.GetInstanceUid(), ErrorResponse: &protobufs.ServerErrorResponse{
			Type: protobufs.ServerErrorResponseType_ServerErrorResponseType_BadRequest, ErrorMessage: "instance_uid must be 16 bytes",
		}}
	}
	ws := isWS(conn)
	sess := f.session(ctx, uid.String())
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if ws && sess.conn != conn {
		if sess.conn == nil {
			f.s.metrics.agentsConnected.Inc()
		}
		sess.conn = conn
		sess.sentHash, sess.offeredOM = "", false // a new connection gets everything again
		f.s.loadsim.Connected(sess.uid)
		f.mu.Lock()
		f.conns[conn] = sess
		f.mu.Unlock()
	}
	sess.advertise = advertise
	resp := &protobufs.ServerToAgent{InstanceUid: msg.GetInstanceUid(), Capabilities: serverCapabilities}

	if msg.GetAgentDisconnect() != nil {
		sess.agent.Connected = false
		f.storeNow(ctx, sess, true)
		return resp
	}

	// Sequence numbers: a gap, or an agent this replica knows nothing of
	// that sent a compressed status, means we may have missed state.
	full := false
	if sess.haveSeq && msg.SequenceNum != sess.lastSeq+1 {
		full = true
	}
	if !sess.haveSeq && msg.AgentDescription == nil {
		full = true
	}
	sess.haveSeq, sess.lastSeq = true, msg.SequenceNum
	if full {
		resp.Flags |= uint64(protobufs.ServerToAgentFlags_ServerToAgentFlags_ReportFullState)
		f.s.metrics.fullStateReqs.Inc()
	}

	changed := f.merge(sess, msg, ws)
	f.redactReported(sess)
	f.settleHost(ctx, sess)
	f.s.loadsim.Receive(sess.uid, msg.GetCustomMessage())
	if cs := f.connectionOffers(sess); cs != nil {
		resp.ConnectionSettings = cs
	}
	if rc := f.reconcile(sess); rc != nil {
		resp.RemoteConfig = rc
		if sess.retryMsg != nil {
			resp.CustomMessage, sess.retryMsg = sess.retryMsg, nil
		}
		changed = true
	}
	if changed {
		// Liveness alone is not written here: the writer flushes it in
		// batches (agentwriter.go).
		f.store(ctx, sess, true)
	}
	return resp
}

func (f *fleet) session(ctx context.Context, uid string) *session {
	f.mu.Lock()
	sess, ok := f.sessions[uid]
	if !ok {
		sess = &session{uid: uid, pushedAt: map[string]time.Time{}}
		f.sessions[uid] = sess
	}
	f.mu.Unlock()
	if !ok {
		sess.mu.Lock()
		if a, err := f.s.store.GetAgent(ctx, uid); err == nil {
			sess.agent = a
		} else {
			sess.agent = store.Agent{InstanceUID: uid, FirstSeen: time.Now().UTC()}
		}
		sess.mu.Unlock()
	}
	return sess
}

func attrString(v *protobufs.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *protobufs.AnyValue_StringValue:
		return x.StringValue
	case *protobufs.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *protobufs.AnyValue_BoolValue:
		if x.BoolValue {
			return "true"
		}
		return "false"
	case *protobufs.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	default:
		return ""
	}
}

func statusName(s protobufs.RemoteConfigStatuses) string {
	switch s {
	case protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLIED:
		return store.RemoteApplied
	case protobufs.RemoteConfigStatuses_RemoteConfigStatuses_APPLYING:
		return store.RemoteApplying
	case protobufs.RemoteConfigStatuses_RemoteConfigStatuses_FAILED:
		return store.RemoteFailed
	default:
		return store.RemoteUnset
	}
}

// merge folds a message into the agent record; it reports whether anything
// worth announcing changed.
func (f *fleet) merge(sess *session, msg *protobufs.AgentToServer, ws bool) bool {
	a := &sess.agent
	now := time.Now().UTC()
	changed := false
	if !a.Connected || a.ServerID != f.s.cfg.ServerID {
		changed = true
	}
	a.Connected, a.ServerID, a.LastSeen = true, f.s.cfg.ServerID, now
	if a.FirstSeen.IsZero() {
		a.FirstSeen = now
	}
	tr := "http"
	if ws {
		tr = "websocket"
	}
	if a.Transport != tr {
		a.Transport, changed = tr, true
	}
	if d := msg.GetAgentDescription(); d != nil {
		a.Identifying, a.NonIdentifying, a.Labels = map[string]string{}, map[string]string{}, map[string]string{}
		for _, kv := range d.GetIdentifyingAttributes() {
			a.Identifying[kv.GetKey()] = attrString(kv.GetValue())
		}
		for _, kv := range d.GetNonIdentifyingAttributes() {
			v := attrString(kv.GetValue())
			if k, ok := strings.CutPrefix(kv.GetKey(), labelPrefix); ok {
				a.Labels[k] = v
				continue
			}
			a.NonIdentifying[kv.GetKey()] = v
		}
		pick := func(k string) string {
			if v, ok := a.NonIdentifying[k]; ok {
				return v
			}
			return a.Identifying[k]
		}
		a.HostName, a.Arch, a.OS = pick(attrHostName), pick(attrHostArch), pick(attrOSType)
		a.AgentVersion = pick(attrAgentVersion)
		a.CollectorVersion = pick(attrCollectorVersion)
		if a.CollectorVersion == "" {
			a.CollectorVersion = pick(attrServiceVersion)
		}
		changed = true
	}
	if msg.Capabilities != 0 && msg.Capabilities != a.Capabilities {
		a.Capabilities, changed = msg.Capabilities, true
	}
	if h := msg.GetHealth(); h != nil {
		nh := healthFrom(h)
		if !reflect.DeepEqual(a.Health, nh) {
			a.Health, changed = nh, true
		}
	}
	if ec := msg.GetEffectiveConfig(); ec != nil {
		files := ec.GetConfigMap().GetConfigMap()
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		var b strings.Builder
		for i, n := range names {
			if len(names) > 1 {
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString("# file: " + n + "\n")
			}
			b.Write(files[n].GetBody())
		}
		body := b.String()
		sum := sha256.Sum256([]byte(body))
		if h := hex.EncodeToString(sum[:]); h != a.EffectiveConfigHash {
			a.EffectiveConfig, a.EffectiveConfigHash, changed = f.configs.intern(h, body), h, true
		}
	}
	if rs := msg.GetRemoteConfigStatus(); rs != nil {
		status, hash := statusName(rs.GetStatus()), hex.EncodeToString(rs.GetLastRemoteConfigHash())
		if status != a.RemoteStatus || hash != a.RemoteHash || rs.GetErrorMessage() != a.RemoteError {
			a.RemoteStatus, a.RemoteHash, a.RemoteError, changed = status, hash, rs.GetErrorMessage(), true
			switch status {
			case store.RemoteFailed:
				if a.FailedConfigs == nil {
					a.FailedConfigs = map[string]store.FailedConfig{}
				}
				a.FailedConfigs[hash] = store.FailedConfig{Error: rs.GetErrorMessage(), At: now}
				f.s.metrics.configsFailed.Inc()
				f.s.log.Warn("agent reported config FAILED", "agent", sess.uid, "host", a.HostName, "hash", short(hash), "error", rs.GetErrorMessage())
			case store.RemoteApplied:
				delete(a.FailedConfigs, hash)
				a.AppliedAt = now
				f.s.metrics.configsApplied.Inc()
				if at, ok := sess.pushedAt[hash]; ok {
					f.s.metrics.applyLatency.Observe(now.Sub(at).Seconds())
					delete(sess.pushedAt, hash)
				}
			}
		}
	}
	return changed
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

const capAcceptsRemoteConfig = uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig)
const capReportsOwnMetrics = uint64(protobufs.AgentCapabilities_AgentCapabilities_ReportsOwnMetrics)

// reconcile computes the agent's desired state and returns the remote config
// to send, or nil. It is called with sess.mu held.
func (f *fleet) reconcile(sess *session) *protobufs.AgentRemoteConfig {
	a := &sess.agent
	sess.targets.reconciling.Store(true)
	d := f.desiredFor(a.HostName, a.Labels)
	sess.targets.setRoute(a.HostName, a.Labels, d)
	sess.targets.reconciling.Store(false)
	a.DesiredDeployment, a.DesiredVersion, a.DesiredHash, a.DesiredError = d.Deployment, d.Version, d.Hash, d.Err
	if d.Err == "" && len(d.Conflicts) > 0 {
		a.DesiredError = "also matched by deployment(s) " + strings.Join(d.Conflicts, ", ") + ", ignored: a host belongs to one deployment (the oldest)"
	}
	if a.Capabilities&capAcceptsRemoteConfig == 0 || a.HostName == "" {
		return nil // not (yet) known to accept config, or no description yet
	}
	hash, body := d.Hash, d.YAML
	if d.Deployment == "" && d.Hash == "" {
		// No deployment: an agent that runs a remote config gets the empty one.
		if a.RemoteHash == "" || a.RemoteHash == emptyConfigHash {
			return nil
		}
		hash, body = emptyConfigHash, nil
	}
	if hash == "" {
		return nil
	}
	// A retry (POST .../retry) pushes the desired config even when the
	// agent reports that very hash FAILED: the hash comparison alone would
	// send nothing.
	retry := a.RetryPending
	a.RetryPending = false
	if hash == a.RemoteHash && !(retry && a.RemoteStatus == store.RemoteFailed) {
		return nil
	}
	if _, failed := a.FailedConfigs[hash]; failed {
		return nil // never fight the agent's rollback
	}
	if sess.sentHash == hash && (sess.conn != nil || time.Since(sess.sentAt) < time.Minute) {
		return nil // sent on this connection; waiting for the agent's answer
	}
	raw, _ := hex.DecodeString(hash)
	sess.retryMsg = nil
	if retry {
		sess.retryMsg = &protobufs.CustomMessage{Capability: retryCapability, Type: retryType, Data: []byte(hash)}
	}
	sess.sentHash, sess.sentAt = hash, time.Now()
	sess.pushedAt[hash] = sess.sentAt
	a.PushedHash, a.PushedAt = hash, sess.sentAt.UTC()
	f.s.metrics.configsPushed.Inc()
	files := map[string]*protobufs.AgentConfigFile{}
	if body != nil {
		files[ConfigFileName] = &protobufs.AgentConfigFile{Body: body, ContentType: "text/yaml"}
		if sf := f.secretsFile(sess, body); sf != nil {
			files[agentsecrets.FileName] = sf // apart from the body (identity.go)
		}
	}
	return &protobufs.AgentRemoteConfig{Config: &protobufs.AgentConfigMap{ConfigMap: files}, ConfigHash: raw}
}

// store queues the agent record for the next batch of the writer (at most
// StateFlush behind); called with sess.mu held.
func (f *fleet) store(_ context.Context, sess *session, notify bool) {
	f.writer.mark(sess, notify)
}

// storeNow writes the agent record at once (an operator's action, a
// disconnect); called with sess.mu held.
func (f *fleet) storeNow(ctx context.Context, sess *session, notify bool) {
	if err := f.writer.flushNow(ctx, sess, notify); err != nil {
		f.s.log.Error("store agent", "agent", sess.uid, "err", err)
	}
}

func (f *fleet) onClose(conn types.Connection) {
	f.mu.Lock()
	sess, ok := f.conns[conn]
	delete(f.conns, conn)
	f.mu.Unlock()
	if !ok {
		return // plain-HTTP request: the agent stays connected until it goes stale
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.conn != conn {
		return
	}
	sess.conn = nil
	f.s.metrics.agentsConnected.Dec()
	f.mu.Lock()
	if f.sessions[sess.uid] == sess {
		delete(f.sessions, sess.uid)
	}
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess.agent.Connected = false
	if f.writer.forget(sess) {
		// Its queued state goes out with the disconnect, in one write.
		sess.agent.LastSeen = time.Now().UTC()
		f.storeNow(ctx, sess, true)
		return
	}
	if err := f.s.store.MarkDisconnected(ctx, sess.uid, f.s.cfg.ServerID, time.Now().UTC()); err != nil {
		f.s.log.Error("mark agent disconnected", "agent", sess.uid, "err", err)
	}
}

// pushAll reconciles every WebSocket session of this replica and sends what
// changed.
func (f *fleet) pushAll(ctx context.Context) { f.pushWhere(ctx, f.affectedBy("")) }

// pushRound is the round of a change of deployment name ("" = all): the
// filter is computed when the round runs, from the then current state.
func (f *fleet) pushRound(name string) func(context.Context) {
	return func(ctx context.Context) { f.pushWhere(ctx, f.affectedBy(name)) }
}

// pushWhere reconciles the sessions the filter selects (pushtargets.go) and
// sends what changed, a few at a time so one slow agent does not hold the
// others.
func (f *fleet) pushWhere(ctx context.Context, affected func(*session) bool) {
	f.mu.Lock()
	var list []*session
	for _, s := range f.sessions {
		list = append(list, s)
	}
	f.mu.Unlock()
	list = slices.DeleteFunc(list, func(s *session) bool { return !affected(s) })
	if len(list) == 0 {
		return
	}
	work := make(chan *session)
	var wg sync.WaitGroup
	for range min(16, len(list)) { // pushHost rounds hold one or two sessions
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sess := range work {
				f.push(ctx, sess)
			}
		}()
	}
	for _, sess := range list {
		work <- sess
	}
	close(work)
	wg.Wait()
}

func (f *fleet) push(ctx context.Context, sess *session) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.conn == nil {
		return // polling agents get it in their next poll
	}
	rc := f.reconcile(sess)
	if rc == nil {
		return
	}
	f.store(ctx, sess, true)
	msg := &protobufs.ServerToAgent{InstanceUid: uuidBytes(sess.uid), Capabilities: serverCapabilities, RemoteConfig: rc, CustomMessage: sess.retryMsg}
	sess.retryMsg = nil
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sess.conn.Send(sctx, msg); err != nil {
		f.s.log.Warn("push config", "agent", sess.uid, "err", err)
		sess.sentHash = "" // retry on the next message or reconnect
	}
}

func uuidBytes(s string) []byte {
	u, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return u[:]
}

// watchChanges applies store changes: deployments reload the cache and
// reconcile; another replica's agent change (a retry) reloads that agent;
// everything becomes a stream event.
func (f *fleet) watchChanges(ctx context.Context, changes <-chan store.Change) {
	for c := range changes {
		switch c.Kind {
		case store.ChangeDeployment, store.ChangeResync:
			if err := f.reload(ctx); err != nil {
				f.s.log.Error("reload deployments", "err", err)
				continue
			}
			f.rounds.schedule(ctx, &f.s.wg, c.Key, f.pushRound(c.Key)) // pushrounds.go
			if c.Kind == store.ChangeDeployment {
				f.s.deploymentEvent(ctx, c)
			}
		case store.ChangeIdentity:
			f.identityChanged(ctx, c.Key)
		case store.ChangeAgent:
			if c.Origin != f.s.cfg.ServerID {
				f.reloadFailed(ctx, c.Key)
			}
			f.s.agentEvent(ctx, c.Key)
		}
	}
}

// reloadFailed picks up a cleared failed-config list (POST .../retry on any
// replica) for an agent this replica holds, and pushes again.
func (f *fleet) reloadFailed(ctx context.Context, uid string) {
	f.mu.Lock()
	sess, ok := f.sessions[uid]
	f.mu.Unlock()
	if !ok {
		return
	}
	a, err := f.s.store.GetAgent(ctx, uid)
	if err != nil {
		return
	}
	sess.mu.Lock()
	if len(a.FailedConfigs) < len(sess.agent.FailedConfigs) || a.RetryPending && !sess.agent.RetryPending {
		sess.agent.FailedConfigs = a.FailedConfigs
		sess.agent.RetryPending = sess.agent.RetryPending || a.RetryPending
		sess.sentHash = ""
	}
	sess.mu.Unlock()
	f.push(ctx, sess)
}

// clearFailed forgets the failed hashes of an agent (API retry).
func (f *fleet) clearFailed(ctx context.Context, uid string) error {
	f.mu.Lock()
	sess, ok := f.sessions[uid]
	f.mu.Unlock()
	if ok {
		sess.mu.Lock()
		sess.agent.FailedConfigs = nil
		sess.agent.RetryPending = true
		sess.sentHash = ""
		f.storeNow(ctx, sess, true)
		sess.mu.Unlock()
		f.push(ctx, sess)
		return nil
	}
	a, err := f.s.store.GetAgent(ctx, uid)
	if err != nil {
		return err
	}
	a.FailedConfigs = nil
	a.RetryPending = true // pushed when the agent is next heard from
	return f.s.store.UpsertAgent(ctx, a, true)
}

// resyncEvery is how often a replica compares the store's deployments
// generation with the one it loaded: one single-row read, so a change whose
// notification was lost (a dropped LISTEN connection) is picked up within
// this time, and nothing is reloaded or re-rendered while nothing changed.
const resyncEvery = 15 * time.Second

// reload loads the deployments and remembers the generation they are at
// (read first: a write in between only causes one more reload).
func (f *fleet) reload(ctx context.Context) error {
	g, err := f.s.store.DeploymentsGeneration(ctx)
	if err != nil {
		return err
	}
	if err := f.loadDeployments(ctx); err != nil {
		return err
	}
	f.gen.Store(g)
	return nil
}

// resyncLoop is the safety net beside the change notifications: it reloads
// and reconciles only when the generation moved without a notification.
func (f *fleet) resyncLoop(ctx context.Context) {
	go f.staleLoop(ctx) // stale.go
	t := time.NewTicker(resyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g, err := f.s.store.DeploymentsGeneration(ctx)
			if err != nil || g == f.gen.Load() {
				continue
			}
			if err := f.reload(ctx); err == nil {
				f.pushAll(ctx)
			}
		}
	}
}

func (f *fleet) disconnectAll(ctx context.Context) {
	f.mu.Lock()
	var conns []types.Connection
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	f.refused.Range(func(c, _ any) bool {
		conns = append(conns, c.(types.Connection))
		return true
	})
	for _, c := range conns {
		_ = c.Disconnect()
	}
}

func (f *fleet) connectedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}
