package server

// The REST surface of staged rollouts (package rollout): thin handlers that
// decode, call the domain and write its answer or its error.

import (
	"context"
	"net/http"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/rollout"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

func (s *Server) newRollouts() *rollout.Manager {
	return rollout.New(rollout.Config{
		Store:       s.store,
		Deployments: s.deployments,
		Holder:      s.cfg.ServerID,
		// A batch admitted (or an abort) changes the desired state of the
		// deployment's hosts: one coalesced push round for the deployment.
		Changed: func(ctx context.Context, name string) {
			s.fleet.rounds.schedule(ctx, &s.wg, "rollout\x00"+name, s.fleet.pushRound(name))
		},
		Publish: func(ctx context.Context, name string) {
			if s.hub.count() == 0 {
				return
			}
			if ro, err := s.rollouts.Get(ctx, name); err == nil {
				s.hub.publish(Event{Type: api.EventRollout, Deployment: name, Data: ro})
			}
		},
		Logger: s.log,
	})
}

// Rollouts is the server's rollout domain.
func (s *Server) Rollouts() *rollout.Manager { return s.rollouts }

func (s *Server) rolloutRoutes(handle func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error)) {
	handle("GET /api/v1/rollouts", true, s.listRollouts)
	handle("GET /api/v1/deployments/{name}/rollout", true, s.getRollout)
	handle("POST /api/v1/deployments/{name}/rollout/pause", true, s.rolloutAction(s.rollouts.Pause))
	handle("POST /api/v1/deployments/{name}/rollout/resume", true, s.rolloutAction(s.rollouts.Resume))
	handle("POST /api/v1/deployments/{name}/rollout/abort", true, s.rolloutAction(s.rollouts.Abort))
}

func (s *Server) listRollouts(w http.ResponseWriter, r *http.Request) error {
	ros, err := s.rollouts.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 200, api.RolloutList{Rollouts: ros})
	return nil
}

func (s *Server) getRollout(w http.ResponseWriter, r *http.Request) error {
	ro, err := s.rollouts.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, ro)
	return nil
}

// maxReason bounds an operator's reason (it is stored with the transition).
const maxReason = 500

func (s *Server) rolloutAction(act func(ctx context.Context, name, reason string) (api.Rollout, error)) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req api.RolloutAction
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &req); err != nil {
				return err
			}
		}
		if len(req.Reason) > maxReason {
			return invalid("reason", "reason is over 500 bytes")
		}
		ro, err := act(r.Context(), r.PathValue("name"), req.Reason)
		if err != nil {
			return err
		}
		writeJSON(w, 200, ro)
		return nil
	}
}

// fromAPIRollout is the stored policy of a request's: the defaults are
// stored as none, so a deploy that states them (the CLI always does) is the
// same spec as one that leaves them out.
func fromAPIRollout(p *api.RolloutPolicy) *store.RolloutPolicy {
	if p == nil || *p == (api.RolloutPolicy{Strategy: p.Strategy}) && (p.Strategy == "" || p.Strategy == api.RolloutStaged) {
		return nil
	}
	return &store.RolloutPolicy{Strategy: p.Strategy, FirstBatch: p.FirstBatch, Factor: p.Factor, MaxBatch: p.MaxBatch, Soak: p.Soak}
}
