package api

import "time"

// Identity states of an enrolled agent (GET /api/v1/identities).
const (
	// IdentityBound: the agent holds the host name it claims.
	IdentityBound = "bound"
	// IdentityPending: another agent holds the host name it claims; it gets
	// no config until `phoenix agent approve`.
	IdentityPending = "pending"
	// IdentityEnrolled: enrolled, no host name claimed yet.
	IdentityEnrolled = "enrolled"
	// IdentityRevoked: cut off by `phoenix agent revoke`.
	IdentityRevoked = "revoked"
	// IdentityReadmitted: approved after a revoke; it may enrol again.
	IdentityReadmitted = "readmitted"
)

// Identity is an enrolled agent's standing: which host name it claims and
// whether it may act for it. No credential is ever part of it.
type Identity struct {
	InstanceUID string `json:"instance_uid"`
	ClaimedHost string `json:"claimed_host,omitempty"`
	State       string `json:"state"`
	// BoundTo is the agent that holds ClaimedHost, when State is pending.
	BoundTo    string    `json:"bound_to,omitempty"`
	EnrolledAt time.Time `json:"enrolled_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// IdentityList is GET /api/v1/identities.
type IdentityList struct {
	Identities []Identity `json:"identities"`
}
