package server

// The REST surface of experiments (package experiment): thin handlers that
// decode, call the domain and write its answer or its error.

import (
	"context"
	"errors"
	"net/http"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/experiment"
	"github.com/phoenix-otel/phoenix/opamp-server/internal/loadsim"
)

func (s *Server) newExperiments() *experiment.Manager {
	return experiment.New(experiment.Config{
		Store:       s.store,
		Deployments: s.deployments,
		Holder:      s.cfg.ServerID,
		MinInterval: s.cfg.MetricResolutions[0].Step,
		HostsChanged: func(ctx context.Context, hosts []string) {
			for _, h := range hosts {
				s.fleet.pushHost(ctx, h)
			}
		},
		Publish: func(e api.Experiment) {
			s.hub.publish(Event{Type: api.EventExperiment, Data: e})
		},
		Load:   experimentLoad{s},
		Logger: s.log,
	})
}

// experimentLoad runs an experiment's synthetic load simulations through
// the load simulation manager.
type experimentLoad struct{ s *Server }

func loadRequest(host string, x api.ExperimentLoad) loadsim.Request {
	return loadsim.Request{TargetHost: host, Profile: x.Profile, Mode: loadsim.Synthetic, ProcessCount: x.ProcessCount, ChurnRate: x.ChurnRate, Seed: x.Seed}
}

func (l experimentLoad) CheckLoad(x api.ExperimentLoad) error {
	req := loadRequest("check", x)
	if _, err := loadsim.Check(&req); err != nil {
		if fe, ok := errors.AsType[*loadsim.FieldError](err); ok {
			return &domainerr.Invalid{Field: "load_sim." + fe.Field, Detail: fe.Error()}
		}
		return &domainerr.Invalid{Field: "load_sim", Detail: err.Error()}
	}
	return nil
}

func (l experimentLoad) StartLoad(ctx context.Context, host string, x api.ExperimentLoad) (string, error) {
	j, err := l.s.loadsim.Create(ctx, loadRequest(host, x))
	return j.ID, err
}

func (l experimentLoad) StopLoad(ctx context.Context, job string) error {
	_, err := l.s.loadsim.Stop(ctx, job)
	return err
}

// Experiments is the server's experiment domain.
func (s *Server) Experiments() *experiment.Manager { return s.experiments }

func (s *Server) experimentRoutes(handle func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error)) {
	handle("GET /api/v1/experiments", true, s.listExperiments)
	handle("POST /api/v1/experiments", true, s.createExperiment)
	handle("GET /api/v1/experiments/{name}", true, s.getExperiment)
	handle("DELETE /api/v1/experiments/{name}", true, s.deleteExperiment)
	handle("POST /api/v1/experiments/{name}/start", true, s.startExperiment)
	handle("POST /api/v1/experiments/{name}/stop", true, s.stopExperiment)
	handle("POST /api/v1/experiments/{name}/promote", true, s.promoteExperiment)
	handle("GET /api/v1/experiments/{name}/compare", true, s.compareExperiment)
}

func (s *Server) listExperiments(w http.ResponseWriter, r *http.Request) error {
	es, err := s.experiments.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, 200, api.ExperimentList{Experiments: es})
	return nil
}

func (s *Server) createExperiment(w http.ResponseWriter, r *http.Request) error {
	var req api.ExperimentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	e, err := s.experiments.Create(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/experiments/"+e.Name)
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) getExperiment(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiments.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, e)
	return nil
}

func (s *Server) deleteExperiment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	force := r.URL.Query().Get("force") == "true"
	if err := s.experiments.Delete(r.Context(), name, force); err != nil {
		return err
	}
	writeJSON(w, 200, api.Deleted{Deleted: name, Detail: "its hosts return to the config they ran before"})
	return nil
}

func (s *Server) startExperiment(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiments.Start(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, e)
	return nil
}

func (s *Server) stopExperiment(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiments.Stop(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, e)
	return nil
}

func (s *Server) promoteExperiment(w http.ResponseWriter, r *http.Request) error {
	var req api.PromoteRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	e, err := s.experiments.Promote(r.Context(), r.PathValue("name"), req)
	if err != nil {
		return err
	}
	writeJSON(w, 200, e)
	return nil
}

func (s *Server) compareExperiment(w http.ResponseWriter, r *http.Request) error {
	c, err := s.experiments.Compare(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, c)
	return nil
}
