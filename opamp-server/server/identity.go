package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server/types"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
	"github.com/phoenix-otel/phoenix/opamp-server/identity"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// The OpAMP side of agent identity (opamp-server/identity decides; this
// file applies it to connections and sessions).

// Redacted replaces, in what agents report, every secret the server itself
// offered them (their credential, the enrollment token, destination keys).
const Redacted = "REDACTED"

// sessionIdentity is what a session knows of who its agent is.
type sessionIdentity struct {
	conn types.Connection // the WebSocket admitted for this uid
	// token is the credential the agent presented or was just issued: the
	// own_metrics offer carries it. It lives in memory only.
	token string
	// issued is a credential created by this message's enrolment, offered
	// once through ConnectionSettingsOffers.opamp.
	issued string
	// claimed is the host name whose claim was last settled; bound says
	// whether it is this agent's.
	claimed string
	bound   bool
	holder  string
}

// refuseHold is how long a refused agent's WebSocket is held before it is
// closed (and the agent reconnects).
const refuseHold = 10 * time.Second

const capAcceptsOpAMPSettings = uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsOpAMPConnectionSettings)

// refuseConnecting answers an OpAMP connection whose token is neither the
// enrollment token nor a live credential.
func (f *fleet) refuseConnecting(r *http.Request, err error) types.ConnectionResponse {
	f.s.metrics.authFailures.WithLabelValues("opamp").Inc()
	msg := "missing or bad token"
	if errors.Is(err, identity.ErrRevoked) {
		msg = "revoked agent"
	}
	f.s.log.Warn("OpAMP connection refused: "+msg, "remote", r.RemoteAddr)
	return types.ConnectionResponse{Accept: false, HTTPStatusCode: http.StatusUnauthorized,
		HTTPResponseHeader: map[string]string{"WWW-Authenticate": `Bearer realm="phoenix-opamp"`}}
}

// admit lets a message through when principal p may speak for its
// instance uid; otherwise it answers with an error and closes a WebSocket.
// The first message of an enrolling agent enrols it. tok is the bearer of
// the connection.
func (f *fleet) admit(ctx context.Context, conn types.Connection, msg *protobufs.AgentToServer, p identity.Principal, tok string) (refused *protobufs.ServerToAgent, ok bool) {
	uid, err := uuid.FromBytes(msg.GetInstanceUid())
	if err != nil {
		return nil, true // onMessage answers the malformed uid
	}
	if _, ok := f.refused.Load(conn); ok {
		return nil, false // refused already: its messages are dropped until it is closed
	}
	sess := f.session(ctx, uid.String())
	sess.mu.Lock()
	admitted := isWS(conn) && sess.id.conn == conn
	sess.mu.Unlock()
	if admitted {
		return nil, true
	}
	if p.Enrolling() && msg.GetCapabilities() == 0 {
		enrolled, eerr := f.s.identity.Enrolled(ctx, uid.String())
		if eerr == nil && !enrolled {
			// A compressed status from an agent that never enrolled: ask
			// for the full state, whose capabilities say whether it can
			// take a credential.
			return &protobufs.ServerToAgent{InstanceUid: msg.GetInstanceUid(), Capabilities: serverCapabilities,
				Flags: uint64(protobufs.ServerToAgentFlags_ServerToAgentFlags_ReportFullState)}, false
		}
	}
	if p.Enrolling() && msg.GetCapabilities() != 0 && msg.GetCapabilities()&capAcceptsOpAMPSettings == 0 {
		err = errors.New("this agent does not accept OpAMP connection settings (capability AcceptsOpAMPConnectionSettings): phoenix-server issues every agent its own credential that way on its first connection")
	}
	issued := ""
	if err == nil {
		issued, err = f.s.identity.Admit(ctx, p, uid.String(), "")
	}
	if err != nil {
		f.s.metrics.authFailures.WithLabelValues("opamp").Inc()
		f.s.log.Warn("OpAMP agent refused", "agent", uid.String(), "err", err)
		resp := &protobufs.ServerToAgent{InstanceUid: msg.GetInstanceUid(), ErrorResponse: &protobufs.ServerErrorResponse{
			Type: protobufs.ServerErrorResponseType_ServerErrorResponseType_BadRequest, ErrorMessage: "refused: " + err.Error(),
		}}
		if isWS(conn) {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = conn.Send(sctx, resp)
			cancel()
			// opamp-go reconnects at once after a close, without backoff:
			// hold the refused connection (its messages dropped) for a
			// while, so a refused agent retries every refuseHold, not in a
			// tight loop.
			f.refused.Store(conn, struct{}{})
			time.AfterFunc(refuseHold, func() { _ = conn.Disconnect(); f.refused.Delete(conn) })
			return nil, false
		}
		return resp, false
	}
	if issued != "" {
		f.s.log.Info("agent enrolled: issued its own credential", "agent", uid.String())
		tok = issued
	}
	sess.mu.Lock()
	if isWS(conn) {
		sess.id.conn = conn
	}
	sess.id.token, sess.id.issued = tok, issued
	sess.mu.Unlock()
	return nil, true
}

// claimedHost is the host name the agent's description claims.
func claimedHost(a *store.Agent) string {
	if v, ok := a.NonIdentifying[attrHostName]; ok {
		return v
	}
	return a.Identifying[attrHostName]
}

// settleHost applies the host binding after a message was merged: an agent
// that claims a host name another agent holds keeps no host name in its
// record (so it neither gets that host's config nor shadows or marks
// offline the real one) and says why. Called with sess.mu held.
func (f *fleet) settleHost(ctx context.Context, sess *session) {
	a := &sess.agent
	host := claimedHost(a)
	if host == "" {
		return
	}
	if host != sess.id.claimed {
		c, err := f.s.identity.ClaimHost(ctx, sess.uid, host)
		if err != nil {
			f.s.log.Error("claim host name", "agent", sess.uid, "host", host, "err", err)
			a.HostName = ""
			return
		}
		sess.id.claimed, sess.id.bound, sess.id.holder = host, c.Bound, c.Holder
		if !c.Bound {
			f.s.log.Warn("agent claims a host name bound to another agent: pending until `phoenix agent approve`", "agent", sess.uid, "host", host, "bound_to", c.Holder)
		}
	}
	if !sess.id.bound {
		a.HostName = ""
		a.PendingHost = host
		return
	}
	a.HostName, a.PendingHost = host, ""
}

// connectionOffers are the connection settings for this message: the
// agent's new credential (once, on enrolment) and the own_metrics ingest
// (once per connection) authenticated by that credential.
func (f *fleet) connectionOffers(sess *session) *protobufs.ConnectionSettingsOffers {
	out := &protobufs.ConnectionSettingsOffers{}
	if sess.id.issued != "" {
		out.Opamp = &protobufs.OpAMPConnectionSettings{Headers: &protobufs.Headers{Headers: []*protobufs.Header{
			{Key: "Authorization", Value: "Bearer " + sess.id.issued},
		}}}
		sess.id.issued = ""
	}
	if !sess.offeredOM && sess.agent.Capabilities&capReportsOwnMetrics != 0 && sess.id.token != "" {
		sess.offeredOM = true
		f.s.metrics.ownMetricsOffers.Inc()
		out.OwnMetrics = &protobufs.TelemetryConnectionSettings{
			DestinationEndpoint: sess.advertise + "/v1/metrics",
			Headers:             &protobufs.Headers{Headers: []*protobufs.Header{{Key: "Authorization", Value: "Bearer " + sess.id.token}}},
		}
	}
	if out.Opamp == nil && out.OwnMetrics == nil {
		return nil
	}
	h := sha256.New()
	for _, s := range []*protobufs.TelemetryConnectionSettings{out.OwnMetrics} {
		if s != nil {
			h.Write([]byte(s.DestinationEndpoint))
			for _, hd := range s.GetHeaders().GetHeaders() {
				h.Write([]byte{0})
				h.Write([]byte(hd.Key + "=" + hd.Value))
			}
		}
	}
	for _, hd := range out.Opamp.GetHeaders().GetHeaders() {
		h.Write([]byte{1})
		h.Write([]byte(hd.Key + "=" + hd.Value))
	}
	out.Hash = h.Sum(nil)
	return out
}

// redactReported removes from what the agent reported (its effective
// config, its errors) every secret the server offered it: a third-party
// agent such as the contrib supervisor reports its merged config, own
// metrics Authorization header included. Called with sess.mu held.
func (f *fleet) redactReported(sess *session) {
	secrets := append([]string{sess.id.token, f.s.identity.EnrollmentToken()}, f.s.secrets.Values()...)
	red := func(s string) string {
		for _, sec := range secrets {
			if len(sec) >= 8 && strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Redacted)
			}
		}
		return s
	}
	a := &sess.agent
	a.EffectiveConfig = red(a.EffectiveConfig)
	a.RemoteError = red(a.RemoteError)
	if a.Health != nil {
		a.Health.LastError = red(a.Health.LastError)
	}
	for h, fc := range a.FailedConfigs {
		fc.Error = red(fc.Error)
		a.FailedConfigs[h] = fc
	}
}

// identityChanged applies an identity change (revoke, approve) that any
// replica made: the registry forgets what it cached, a revoked agent held
// here is disconnected at once, and sessions whose host binding may have
// moved settle it again and get their config.
func (f *fleet) identityChanged(ctx context.Context, uid string) {
	f.s.identity.Forget(uid)
	f.s.ingestLimits.Forget(uid)
	c, err := f.s.store.GetCredential(ctx, uid)
	if err != nil {
		return
	}
	f.mu.Lock()
	var affected []*session
	for _, s := range f.sessions {
		if s.uid == uid {
			affected = append(affected, s)
			continue
		}
		s.mu.Lock()
		if c.ClaimedHost != "" && s.id.claimed == c.ClaimedHost {
			affected = append(affected, s)
		}
		s.mu.Unlock()
	}
	f.mu.Unlock()
	for _, s := range affected {
		s.mu.Lock()
		if s.uid == uid && c.Revoked() {
			conn := s.id.conn
			s.id = sessionIdentity{}
			s.agent.HostName = ""
			s.mu.Unlock()
			if conn != nil {
				_ = conn.Disconnect()
				f.s.log.Info("revoked agent disconnected", "agent", uid)
			}
			continue
		}
		s.id.claimed = "" // settle the claim again
		f.settleHost(ctx, s)
		f.store(ctx, s, true)
		s.mu.Unlock()
		f.push(ctx, s)
	}
}

// secretsFile is the config map entry with the values of the destination
// secrets that body refers to (${env:PHOENIX_SECRET_...}): the agent puts
// them in its collector's environment, never in a config file.
func (f *fleet) secretsFile(sess *session, body []byte) *protobufs.AgentConfigFile {
	vals, missing := f.s.secrets.Resolve(body)
	if len(missing) > 0 {
		f.s.log.Error("config refers to secrets this replica cannot resolve", "agent", sess.uid, "names", missing)
	}
	if len(vals) == 0 {
		return nil
	}
	return &protobufs.AgentConfigFile{Body: agentsecrets.Encode(vals), ContentType: agentsecrets.ContentType}
}
