package server

// The REST surface of load simulations (opamp-server/internal/loadsim):
// thin handlers over the manager; errors go through the one error writer.

import (
	"net/http"

	"github.com/phoenix-otel/phoenix/opamp-server/internal/loadsim"
)

func (s *Server) loadSimRoutes(handle func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error)) {
	handle("GET /api/v1/loadsim/profiles", true, func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, loadsim.Profiles())
		return nil
	})
	handle("GET /api/v1/loadsim/jobs", true, s.listLoadSimJobs)
	handle("POST /api/v1/loadsim/jobs", true, s.createLoadSimJob)
	handle("GET /api/v1/loadsim/jobs/{id}", true, func(w http.ResponseWriter, r *http.Request) error {
		j, err := s.loadsim.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, j)
		return nil
	})
	handle("POST /api/v1/loadsim/jobs/{id}/stop", true, func(w http.ResponseWriter, r *http.Request) error {
		j, err := s.loadsim.Stop(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, j)
		return nil
	})
	handle("POST /api/v1/loadsim/stop-all", true, s.stopAllLoadSims)
}

func (s *Server) listLoadSimJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := loadsim.Filter{Status: loadsim.Status(q.Get("status")), TargetHost: q.Get("target_host")}
	switch q.Get("active") {
	case "", "false":
	case "true":
		f.ActiveOnly = true
	default:
		return invalid("active", "active "+q.Get("active")+": want true or false")
	}
	js, err := s.loadsim.List(r.Context(), f)
	if err != nil {
		return err
	}
	if js == nil {
		js = []loadsim.Job{}
	}
	writeJSON(w, http.StatusOK, js)
	return nil
}

func (s *Server) createLoadSimJob(w http.ResponseWriter, r *http.Request) error {
	var req loadsim.Request
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	j, err := s.loadsim.Create(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/loadsim/jobs/"+j.ID)
	writeJSON(w, http.StatusCreated, j)
	return nil
}

func (s *Server) stopAllLoadSims(w http.ResponseWriter, r *http.Request) error {
	js, err := s.loadsim.List(r.Context(), loadsim.Filter{ActiveOnly: true, TargetHost: r.URL.Query().Get("target_host")})
	if err != nil {
		return err
	}
	out := []loadsim.Job{}
	for _, j := range js {
		st, err := s.loadsim.Stop(r.Context(), j.ID)
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
