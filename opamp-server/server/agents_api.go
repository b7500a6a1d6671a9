package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/identity"
)

// REST routes of agent identity: the operator lists enrolled agents with
// their standing, approves a pending (or revoked) agent, revokes one.

func (s *Server) identityRoutes(handle func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error)) {
	handle("GET /api/v1/identities", true, s.listIdentities)
	handle("POST /api/v1/agents/{uid}/approve", true, s.approveAgent)
	handle("POST /api/v1/agents/{uid}/revoke", true, s.revokeAgent)
}

func wireIdentity(a identity.Agent) api.Identity {
	return api.Identity{InstanceUID: a.InstanceUID, ClaimedHost: a.ClaimedHost, State: string(a.State), BoundTo: a.Holder, EnrolledAt: a.EnrolledAt, RevokedAt: a.RevokedAt}
}

// listIdentities: ?state=pending (or bound, enrolled, revoked, readmitted) filters.
func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request) error {
	want := r.URL.Query().Get("state")
	switch want {
	case "", api.IdentityBound, api.IdentityPending, api.IdentityEnrolled, api.IdentityRevoked, api.IdentityReadmitted:
	default:
		return &apiError{Status: http.StatusBadRequest, Title: "Bad request", Field: "state",
			Detail: fmt.Sprintf("state %q: want bound, pending, enrolled, revoked or readmitted", want)}
	}
	all, err := s.identity.List(r.Context())
	if err != nil {
		return err
	}
	out := api.IdentityList{Identities: []api.Identity{}}
	for _, a := range all {
		if want == "" || string(a.State) == want {
			out.Identities = append(out.Identities, wireIdentity(a))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) approveAgent(w http.ResponseWriter, r *http.Request) error {
	a, err := s.identity.Approve(r.Context(), r.PathValue("uid"))
	if err != nil {
		return identityError(err)
	}
	s.log.Info("agent approved", "agent", a.InstanceUID, "host", a.ClaimedHost, "state", a.State)
	writeJSON(w, http.StatusOK, wireIdentity(a))
	return nil
}

func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request) error {
	a, err := s.identity.Revoke(r.Context(), r.PathValue("uid"))
	if err != nil {
		return identityError(err)
	}
	s.log.Info("agent revoked", "agent", a.InstanceUID, "host", a.ClaimedHost)
	writeJSON(w, http.StatusOK, wireIdentity(a))
	return nil
}

// identityError maps the identity domain's errors to problem+json.
func identityError(err error) error {
	switch {
	case errors.Is(err, identity.ErrNotEnrolled):
		return notFound(err.Error() + "; GET /api/v1/identities lists the enrolled agents")
	case errors.Is(err, identity.ErrNothingPending):
		return &apiError{Status: http.StatusConflict, Title: "Nothing to approve", Detail: err.Error() + ": approve moves a host name to a pending agent, or readmits a revoked one"}
	}
	return err
}
