package loadsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// ProfileInfo describes a load profile (GET /api/v1/loadsim/profiles).
type ProfileInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// DefaultProcessCount and DefaultChurnRate are the profile's defaults
	// (0 for custom: they come from the file).
	DefaultProcessCount int     `json:"default_process_count"`
	DefaultChurnRate    float64 `json:"default_churn_rate"`
	// CriticalServices are the core services every built-in profile runs.
	CriticalServices []string `json:"critical_services,omitempty"`
}

var profileDescriptions = map[string]string{
	loadgen.ProfileRealistic:       "a typical server: about 70% long-lived services (web servers, databases, runtimes) with steady, spiky and growing CPU and memory, and 30% short-lived jobs replaced as they exit",
	loadgen.ProfileHighCardinality: "many mostly idle processes, each with a unique command line, plus a few busy workers to rank",
	loadgen.ProfileProcessChurn:    "a steady base plus short-lived processes killed and replaced many times a second; PIDs are never reused",
	loadgen.ProfileCustom:          "your own profile: give its YAML file with --profile-file (format in loadgen/README.md)",
}

// Profiles lists the load profiles with their defaults.
func Profiles() []ProfileInfo {
	var core []string
	for _, g := range loadgen.CoreServices() {
		core = append(core, g.Executable)
	}
	var out []ProfileInfo
	for _, name := range loadgen.ProfileNames() {
		info := ProfileInfo{Name: name, Description: profileDescriptions[name]}
		if name != loadgen.ProfileCustom {
			if p, err := loadgen.Resolve(loadgen.Spec{Profile: name}); err == nil {
				info.DefaultProcessCount = p.ProcessCount()
				info.DefaultChurnRate = p.ChurnRate()
				info.CriticalServices = core
			}
		}
		out = append(out, info)
	}
	return out
}

// Handler serves the load simulation API. Mount it on the server's
// authenticated /api/v1 router:
//
//	GET  /api/v1/loadsim/profiles
//	GET  /api/v1/loadsim/jobs[?status=running&target_host=h&active=true]
//	POST /api/v1/loadsim/jobs              (a Request; 201 and the job)
//	GET  /api/v1/loadsim/jobs/{id}
//	POST /api/v1/loadsim/jobs/{id}/stop    (the job; a finished job is returned unchanged)
//	POST /api/v1/loadsim/stop-all[?target_host=h]   (the jobs it stopped)
//
// Errors are application/problem+json: 400 malformed JSON, 422 a bad field
// (named in "field"), 404 an unknown job or host, 409 a host already busy.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/loadsim/profiles", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Profiles())
	})
	mux.HandleFunc("GET /api/v1/loadsim/jobs", m.handleList)
	mux.HandleFunc("POST /api/v1/loadsim/jobs", m.handleCreate)
	mux.HandleFunc("GET /api/v1/loadsim/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		j, err := m.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, j)
	})
	mux.HandleFunc("POST /api/v1/loadsim/jobs/{id}/stop", func(w http.ResponseWriter, r *http.Request) {
		j, err := m.Stop(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, j)
	})
	mux.HandleFunc("POST /api/v1/loadsim/stop-all", func(w http.ResponseWriter, r *http.Request) {
		js, err := m.List(r.Context(), Filter{ActiveOnly: true, TargetHost: r.URL.Query().Get("target_host")})
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := []Job{}
		for _, j := range js {
			s, err := m.Stop(r.Context(), j.ID)
			if err != nil {
				writeError(w, r, err)
				return
			}
			out = append(out, s)
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("/api/v1/loadsim/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "", fmt.Sprintf("no load simulation endpoint %s %s", r.Method, r.URL.Path), nil)
	})
	return mux
}

func (m *Manager) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Status: Status(q.Get("status")), TargetHost: q.Get("target_host")}
	switch q.Get("active") {
	case "", "false":
	case "true":
		f.ActiveOnly = true
	default:
		writeError(w, r, bad("active", "%q: want true or false", q.Get("active")))
		return
	}
	js, err := m.List(r.Context(), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if js == nil {
		js = []Job{}
	}
	writeJSON(w, http.StatusOK, js)
}

// maxBody bounds a request (a custom profile is at most maxProfileYAML).
const maxBody = 1 << 20

func (m *Manager) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeProblem(w, http.StatusBadRequest, "", "the body is not a valid load simulation request: "+jsonError(err), nil)
		return
	}
	if dec.More() {
		writeProblem(w, http.StatusBadRequest, "", "the body must hold one JSON object", nil)
		return
	}
	j, err := m.Create(r.Context(), req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/loadsim/jobs/"+j.ID)
	writeJSON(w, http.StatusCreated, j)
}

func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s: want a %s, got %s", te.Field, te.Type, te.Value)
	case errors.As(err, &mbe):
		return fmt.Sprintf("larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError maps an error to its problem.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FieldError
	var nf *NotFoundError
	var ce *ConflictError
	switch {
	case errors.As(err, &fe):
		writeProblem(w, http.StatusUnprocessableEntity, "Invalid load simulation", fe.Error(), map[string]any{"field": fe.Field})
	case errors.As(err, &nf):
		writeProblem(w, http.StatusNotFound, "", nf.Error(), nil)
	case errors.As(err, &ce):
		writeProblem(w, http.StatusConflict, "", ce.Error(), nil)
	case r.Context().Err() != nil:
		// The client went away; nothing to answer.
	default:
		writeProblem(w, http.StatusInternalServerError, "", "load simulation: "+err.Error(), nil)
	}
}

// writeProblem writes an RFC 9457 problem document.
func writeProblem(w http.ResponseWriter, status int, title, detail string, ext map[string]any) {
	if title == "" {
		title = http.StatusText(status)
	}
	p := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	for k, v := range ext {
		p[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
