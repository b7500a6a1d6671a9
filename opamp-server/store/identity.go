package store

import (
	"context"
	"time"
)

// ChangeIdentity announces that an agent's credential or a host binding
// changed (approve, revoke; not enrolment, which no cache can know yet): every replica drops what it cached
// and cuts off a revoked agent it holds. Key is the agent's instance uid.
const ChangeIdentity = "identity"

// Credential is an enrolled agent's own credential. Only the sha256 of the
// token is stored; the token itself exists only in the agent's data dir.
type Credential struct {
	InstanceUID string
	// TokenHash is the hex sha256 of the agent's bearer token; "" after an
	// approve of a revoked agent, which may then enrol again.
	TokenHash string
	// ClaimedHost is the host name the agent last claimed.
	ClaimedHost string
	CreatedAt   time.Time
	// RevokedAt is set by `phoenix agent revoke`: the agent is cut off.
	RevokedAt time.Time
}

// Revoked reports whether the credential was revoked.
func (c Credential) Revoked() bool { return !c.RevokedAt.IsZero() }

// HostBinding binds a host name to the one agent allowed to claim it.
type HostBinding struct {
	HostName    string
	InstanceUID string
	BoundAt     time.Time
}

// IdentityStore keeps agents' credentials and host bindings. It is part of
// Store.
type IdentityStore interface {
	// CreateCredential stores the credential of a newly enrolled agent
	// (announcing nothing).
	// ErrExists when the instance uid already holds one (a lost race, or an
	// enrolment replayed with the enrollment token).
	CreateCredential(ctx context.Context, c Credential) error
	// GetCredential returns an agent's credential or ErrNotFound.
	GetCredential(ctx context.Context, uid string) (Credential, error)
	// CredentialByTokenHash finds the credential whose token hashes to
	// tokenHash, or ErrNotFound.
	CredentialByTokenHash(ctx context.Context, tokenHash string) (Credential, error)
	ListCredentials(ctx context.Context) ([]Credential, error)
	// SetClaimedHost records the host name an agent claims.
	SetClaimedHost(ctx context.Context, uid, host string) error
	// RevokeCredential marks the credential revoked at at and drops every
	// host binding of the agent. ErrNotFound when the uid never enrolled.
	RevokeCredential(ctx context.Context, uid string, at time.Time) error
	// ReadmitCredential clears a revocation and the token hash, so that the
	// agent may enrol again with the enrollment token.
	ReadmitCredential(ctx context.Context, uid string) error

	// BindHost binds host to uid unless another agent holds it; it returns
	// the binding in force (uid's own, or the other agent's).
	BindHost(ctx context.Context, host, uid string, at time.Time) (HostBinding, error)
	// MoveHostBinding binds host to uid, replacing any other binding.
	MoveHostBinding(ctx context.Context, host, uid string, at time.Time) error
	ListHostBindings(ctx context.Context) ([]HostBinding, error)
}
