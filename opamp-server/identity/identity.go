// Package identity decides who an agent is. An agent enrols once, with the
// shared enrollment token, and is then issued a credential of its own (a
// random bearer token, offered through OpAMP's connection-settings offers;
// the server keeps only its sha256). After that only that credential opens
// the agent's OpAMP session and its own-metrics ingest, and the enrollment
// token can no longer act as that agent. A host name, once claimed by an
// instance uid, stays bound to it until an operator approves another uid
// (Approve) or revokes the holder (Revoke). The anchor is Kubernetes'
// kubelet TLS bootstrap: a shared bootstrap credential used once, then a
// credential per node, and a node acts only as itself.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// TokenPrefix starts every per-agent credential, so that a leaked one is
// recognisable (and a scanner can find it).
const TokenPrefix = "phx_agent_"

// Errors of the identity domain; the REST and OpAMP layers map them.
var (
	// ErrUnauthorized: no token, or one that is neither the enrollment
	// token nor a live credential.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRevoked: the agent's credential was revoked.
	ErrRevoked = errors.New("agent revoked")
	// ErrAlreadyEnrolled: the enrollment token was presented for an
	// instance uid that holds a credential of its own.
	ErrAlreadyEnrolled = errors.New("instance uid already enrolled")
	// ErrWrongAgent: a credential used for another instance uid.
	ErrWrongAgent = errors.New("credential belongs to another agent")
	// ErrNotEnrolled: approve or revoke of a uid that never enrolled.
	ErrNotEnrolled = errors.New("agent never enrolled")
	// ErrNothingPending: approve of an agent that waits for nothing.
	ErrNothingPending = errors.New("nothing to approve")
)

// Principal is who presented a token.
type Principal struct {
	// UID is the enrolled agent the credential belongs to; "" when the
	// enrollment token was presented.
	UID string
}

// Enrolling reports whether the enrollment token was presented.
func (p Principal) Enrolling() bool { return p.UID == "" }

// Registry authenticates agents and keeps host bindings. It caches the
// credentials it has checked; Forget drops an agent's entries when a store
// change names it (revoke, approve), on every replica.
type Registry struct {
	st         store.IdentityStore
	enrollFile string

	mu         sync.RWMutex
	enrollTok  string
	enrollMod  time.Time
	enrollSize int64
	enrollSeen time.Time                   // last stat of the file: at most one a second
	byHash     map[string]store.Credential // token hash -> live credential
	hashOf     map[string]string           // uid -> token hash (for Forget)
	now        func() time.Time
}

// New returns a registry over st. The enrollment token is token, re-read
// from enrollFile whenever that file changes (rotation needs no restart and
// disconnects nobody: enrolled agents present their own credentials).
func New(st store.IdentityStore, token, enrollFile string) *Registry {
	r := &Registry{st: st, enrollFile: enrollFile, enrollTok: token, byHash: map[string]store.Credential{}, hashOf: map[string]string{}, now: time.Now}
	if fi, err := os.Stat(enrollFile); err == nil {
		r.enrollMod, r.enrollSize = fi.ModTime(), fi.Size()
	}
	return r
}

// HashToken is the stored form of a credential.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func newToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return TokenPrefix + hex.EncodeToString(raw), nil
}

// EnrollmentToken is the enrollment token in force.
func (r *Registry) EnrollmentToken() string {
	r.reloadEnrollment()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.enrollTok
}

// reloadEnrollment re-reads the enrollment token file when its size or
// modification time changed (looked at once a second at most: every OpAMP
// message asks). A missing or empty file keeps the old token.
func (r *Registry) reloadEnrollment() {
	if r.enrollFile == "" {
		return
	}
	now := r.now()
	r.mu.Lock()
	recent := now.Sub(r.enrollSeen) < time.Second
	if !recent {
		r.enrollSeen = now
	}
	r.mu.Unlock()
	if recent {
		return
	}
	fi, err := os.Stat(r.enrollFile)
	if err != nil {
		return
	}
	r.mu.RLock()
	same := fi.ModTime().Equal(r.enrollMod) && fi.Size() == r.enrollSize
	r.mu.RUnlock()
	if same {
		return
	}
	b, err := os.ReadFile(r.enrollFile)
	if err != nil {
		return
	}
	tok := strings.TrimSpace(string(b))
	r.mu.Lock()
	r.enrollMod, r.enrollSize = fi.ModTime(), fi.Size()
	if tok != "" {
		r.enrollTok = tok
	}
	r.mu.Unlock()
}

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Authenticate tells who presented tok: the enrollment token (an agent
// that may enrol), or an enrolled agent's live credential.
func (r *Registry) Authenticate(ctx context.Context, tok string) (Principal, error) {
	if tok == "" {
		return Principal{}, ErrUnauthorized
	}
	if !strings.HasPrefix(tok, TokenPrefix) {
		if equal(tok, r.EnrollmentToken()) {
			return Principal{}, nil
		}
		return Principal{}, ErrUnauthorized
	}
	c, err := r.credential(ctx, HashToken(tok))
	if err != nil {
		return Principal{}, err
	}
	return Principal{UID: c.InstanceUID}, nil
}

// credential resolves a token hash through the cache, then the store.
func (r *Registry) credential(ctx context.Context, hash string) (store.Credential, error) {
	r.mu.RLock()
	c, ok := r.byHash[hash]
	r.mu.RUnlock()
	if !ok {
		var err error
		c, err = r.st.CredentialByTokenHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return c, ErrUnauthorized
		}
		if err != nil {
			return c, err
		}
		if c.Revoked() {
			return c, fmt.Errorf("agent %s: %w", c.InstanceUID, ErrRevoked)
		}
		r.mu.Lock()
		r.byHash[hash] = c
		r.hashOf[c.InstanceUID] = hash
		r.mu.Unlock()
	}
	return c, nil
}

// Forget drops what the registry cached about uid; the next use reads the
// store again. The server calls it for every identity change it is told of.
func (r *Registry) Forget(uid string) {
	r.mu.Lock()
	if h, ok := r.hashOf[uid]; ok {
		delete(r.byHash, h)
		delete(r.hashOf, uid)
	}
	r.mu.Unlock()
}

// Admit decides whether principal p may speak for instance uid. An
// enrolling principal enrols uid and gets the new credential back (the
// only time the token exists on the server: it is to be offered to the
// agent and forgotten). An enrolled principal may speak only for itself.
func (r *Registry) Admit(ctx context.Context, p Principal, uid, host string) (issued string, err error) {
	if !p.Enrolling() {
		if p.UID != uid {
			return "", fmt.Errorf("%w: a credential of agent %s was presented for instance uid %s", ErrWrongAgent, p.UID, uid)
		}
		return "", nil
	}
	c, err := r.st.GetCredential(ctx, uid)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", err
	case c.Revoked():
		return "", fmt.Errorf("agent %s: %w", uid, ErrRevoked)
	case c.TokenHash != "":
		return "", fmt.Errorf("%w: instance uid %s holds its own credential; the enrollment token no longer acts for it", ErrAlreadyEnrolled, uid)
	}
	tok, err := newToken()
	if err != nil {
		return "", err
	}
	err = r.st.CreateCredential(ctx, store.Credential{InstanceUID: uid, TokenHash: HashToken(tok), ClaimedHost: host, CreatedAt: r.now().UTC()})
	if errors.Is(err, store.ErrExists) {
		return "", fmt.Errorf("%w: instance uid %s enrolled meanwhile", ErrAlreadyEnrolled, uid)
	}
	if err != nil {
		return "", err
	}
	return tok, nil
}

// Enrolled reports whether uid holds a credential (or was revoked): the
// enrollment token can no longer act for it.
func (r *Registry) Enrolled(ctx context.Context, uid string) (bool, error) {
	c, err := r.st.GetCredential(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.TokenHash != "" || c.Revoked(), nil
}

// Claim is the outcome of an agent claiming a host name.
type Claim struct {
	// Bound: the host name is bound to this agent; it may get config.
	Bound bool
	// Holder is the agent the host name is bound to.
	Holder string
}

// ClaimHost records that uid claims host and binds it when no other agent
// holds it.
func (r *Registry) ClaimHost(ctx context.Context, uid, host string) (Claim, error) {
	if host == "" {
		return Claim{}, nil
	}
	// Every (re)connect claims again: write only what changed.
	c, err := r.st.GetCredential(ctx, uid)
	if err != nil {
		return Claim{}, err
	}
	if c.ClaimedHost != host {
		if err := r.st.SetClaimedHost(ctx, uid, host); err != nil {
			return Claim{}, err
		}
	}
	b, err := r.st.BindHost(ctx, host, uid, r.now().UTC())
	if err != nil {
		return Claim{}, err
	}
	return Claim{Bound: b.InstanceUID == uid, Holder: b.InstanceUID}, nil
}

// State is how an enrolled agent stands.
type State string

// States of an enrolled agent.
const (
	// StateBound: it holds the host name it claims.
	StateBound State = "bound"
	// StatePending: another agent holds the host name it claims; it gets
	// no config until approved.
	StatePending State = "pending"
	// StateEnrolled: enrolled, no host name claimed yet.
	StateEnrolled State = "enrolled"
	// StateRevoked: cut off.
	StateRevoked State = "revoked"
	// StateReadmitted: approved after a revoke; may enrol again.
	StateReadmitted State = "readmitted"
)

// Agent is an enrolled agent as the operator sees it.
type Agent struct {
	InstanceUID string
	ClaimedHost string
	State       State
	// Holder is the agent holding ClaimedHost when State is pending.
	Holder     string
	EnrolledAt time.Time
	RevokedAt  time.Time
}

// List returns every enrolled agent with its state.
func (r *Registry) List(ctx context.Context) ([]Agent, error) {
	creds, err := r.st.ListCredentials(ctx)
	if err != nil {
		return nil, err
	}
	bs, err := r.st.ListHostBindings(ctx)
	if err != nil {
		return nil, err
	}
	holder := make(map[string]string, len(bs))
	for _, b := range bs {
		holder[b.HostName] = b.InstanceUID
	}
	out := make([]Agent, 0, len(creds))
	for _, c := range creds {
		out = append(out, describe(c, holder[c.ClaimedHost]))
	}
	return out, nil
}

func describe(c store.Credential, holder string) Agent {
	a := Agent{InstanceUID: c.InstanceUID, ClaimedHost: c.ClaimedHost, EnrolledAt: c.CreatedAt, RevokedAt: c.RevokedAt}
	switch {
	case c.Revoked():
		a.State = StateRevoked
	case c.TokenHash == "":
		a.State = StateReadmitted
	case c.ClaimedHost == "":
		a.State = StateEnrolled
	case holder == c.InstanceUID:
		a.State = StateBound
	default:
		a.State, a.Holder = StatePending, holder
	}
	return a
}

// Get returns one enrolled agent.
func (r *Registry) Get(ctx context.Context, uid string) (Agent, error) {
	c, err := r.st.GetCredential(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return Agent{}, fmt.Errorf("%w: no agent with instance uid %s has enrolled", ErrNotEnrolled, uid)
	}
	if err != nil {
		return Agent{}, err
	}
	holder := ""
	if c.ClaimedHost != "" {
		bs, err := r.st.ListHostBindings(ctx)
		if err != nil {
			return Agent{}, err
		}
		for _, b := range bs {
			if b.HostName == c.ClaimedHost {
				holder = b.InstanceUID
			}
		}
	}
	return describe(c, holder), nil
}

// Approve settles what a pending or revoked agent waits for: a pending
// agent gets the host name it claims (the previous holder loses it and gets
// no config); a revoked one is readmitted and may enrol again with the
// enrollment token (it gets a new credential).
func (r *Registry) Approve(ctx context.Context, uid string) (Agent, error) {
	a, err := r.Get(ctx, uid)
	if err != nil {
		return a, err
	}
	switch a.State {
	case StatePending:
		if err := r.st.MoveHostBinding(ctx, a.ClaimedHost, uid, r.now().UTC()); err != nil {
			return a, err
		}
	case StateRevoked:
		if err := r.st.ReadmitCredential(ctx, uid); err != nil {
			return a, err
		}
	default:
		return a, fmt.Errorf("%w: agent %s is %s", ErrNothingPending, uid, a.State)
	}
	r.Forget(uid)
	return r.Get(ctx, uid)
}

// Revoke cuts an agent off: its credential stops working and its host
// bindings go. The server closes its live connection when told of the change.
func (r *Registry) Revoke(ctx context.Context, uid string) (Agent, error) {
	err := r.st.RevokeCredential(ctx, uid, r.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return Agent{}, fmt.Errorf("%w: no agent with instance uid %s has enrolled", ErrNotEnrolled, uid)
	}
	if err != nil {
		return Agent{}, err
	}
	r.Forget(uid)
	return r.Get(ctx, uid)
}
