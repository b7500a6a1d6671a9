package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

const maxJSONBody = 1 << 20

// routes is the HTTP port: the REST API under /api/v1, the event stream,
// the OTLP ingest, health and metrics.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, auth bool, h func(w http.ResponseWriter, r *http.Request) error) {
		route := pattern
		var hh http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &statusWriter{ResponseWriter: w, code: 200}
			if err := h(rw, r); err != nil {
				s.writeError(rw, r, err)
			}
			s.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(rw.code)).Inc()
		})
		if auth {
			hh = s.requireAPIToken(hh)
		}
		mux.Handle(pattern, hh)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	handle("POST /v1/metrics", false, s.ingest)

	handle("GET /api/v1/info", true, s.getInfo)
	handle("GET /api/v1/catalog", true, s.listCatalog)
	handle("GET /api/v1/catalog/{template}", true, s.getTemplate)
	handle("POST /api/v1/catalog/{template}/render", true, s.renderTemplate)
	handle("POST /api/v1/validate", true, s.validate)
	handle("GET /api/v1/deployments", true, s.listDeployments)
	handle("POST /api/v1/deployments", true, s.createDeployment)
	handle("GET /api/v1/deployments/{name}", true, s.getDeployment)
	handle("PUT /api/v1/deployments/{name}", true, s.updateDeployment)
	handle("PATCH /api/v1/deployments/{name}", true, s.updateDeployment)
	handle("DELETE /api/v1/deployments/{name}", true, s.deleteDeployment)
	handle("GET /api/v1/deployments/{name}/versions", true, s.listVersions)
	handle("GET /api/v1/deployments/{name}/versions/{version}", true, s.getVersion)
	handle("POST /api/v1/deployments/{name}/rollback", true, s.rollback)
	handle("GET /api/v1/deployments/{name}/status", true, s.getDeploymentStatus)
	handle("GET /api/v1/deployments/{name}/config", true, s.getDeploymentConfig)
	handle("GET /api/v1/agents", true, s.listAgents)
	handle("GET /api/v1/agents/{uid}", true, s.getAgent)
	handle("GET /api/v1/hosts", true, s.listHosts)
	handle("GET /api/v1/hosts/{host}", true, s.getHost)
	handle("GET /api/v1/hosts/{host}/config", true, s.getHostConfig)
	handle("POST /api/v1/hosts/{host}/retry", true, s.retryHost)
	handle("GET /api/v1/metrics/series", true, s.querySeries)
	handle("GET /api/v1/stream", true, s.stream)
	mux.Handle("/api/v1/loadsim/", s.requireAPIToken(s.loadsim.Handler()))
	handle("/api/v1/", true, func(w http.ResponseWriter, r *http.Request) error {
		return notFound(fmt.Sprintf("no API endpoint %s %s; see docs/api.md", r.Method, r.URL.Path))
	})
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }

// Unwrap lets http.ResponseController (and the WebSocket upgrade) reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets the WebSocket upgrade of /api/v1/stream take the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the response writer cannot be hijacked")
	}
	w.code = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *Server) requireAPIToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" && r.URL.Path == "/api/v1/stream" {
			tok = r.URL.Query().Get("access_token") // browsers cannot set headers on WebSockets
		}
		if !tokenEqual(tok, s.apiToken) {
			s.metrics.authFailures.WithLabelValues("api").Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="phoenix-api"`)
			detail := "missing bearer token: send 'Authorization: Bearer <token>'; the token is in the server's api-token file"
			if tok != "" {
				detail = "bad bearer token: use the token in the server's api-token file (printed at start)"
			}
			s.writeError(w, r, &apiError{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: detail})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Problem is an RFC 9457 problem document (application/problem+json).
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// Field names the request field that is wrong, when there is one.
	Field string         `json:"field,omitempty"`
	Extra map[string]any `json:"-"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Title: "Internal error", Detail: err.Error()}
	}
	p := map[string]any{
		"type":     "urn:phoenix:problem:" + strings.ReplaceAll(strings.ToLower(ae.Title), " ", "-"),
		"title":    ae.Title,
		"status":   ae.Status,
		"detail":   ae.Detail,
		"instance": r.URL.Path,
	}
	if ae.Field != "" {
		p["field"] = ae.Field
	}
	for k, v := range ae.Extra {
		p[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(ae.Status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

// decodeJSON reads a strict JSON body into v, with errors that say where.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return badRequest("reading the request body: " + err.Error())
	}
	if len(body) > maxJSONBody {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Title: "Body too large", Detail: fmt.Sprintf("the request body is over %d bytes", maxJSONBody)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := lineCol(body, se.Offset)
			return badRequest(fmt.Sprintf("malformed JSON at line %d, column %d: %v", line, col, se))
		case errors.As(err, &te):
			return &apiError{Status: http.StatusBadRequest, Title: "Bad request", Field: te.Field,
				Detail: fmt.Sprintf("field %q must be %s, got JSON %s", te.Field, te.Type, te.Value)}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("malformed JSON: the body ends early")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &apiError{Status: http.StatusBadRequest, Title: "Bad request", Field: f, Detail: fmt.Sprintf("unknown field %q; see docs/api.md for the fields", f)}
		default:
			return badRequest("malformed JSON: " + err.Error())
		}
	}
	if dec.More() {
		return badRequest("malformed JSON: more than one value in the body")
	}
	return nil
}

func lineCol(b []byte, off int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "starting"})
		return
	}
	if err := s.store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "store unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]any{"status": "ready"})
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, 200, map[string]any{
		"version": buildinfo.Version, "commit": buildinfo.Commit, "build_date": buildinfo.Date,
		"server_id": s.cfg.ServerID, "opamp_url": s.OpAMPURL(), "started_at": s.startedAt.UTC(),
		"agents_connected_here": s.fleet.connectedCount(),
	})
	return nil
}

// ---- catalog and validation ----

func (s *Server) listCatalog(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, 200, map[string]any{"templates": pipelines.List(), "destination_types": pipelines.DestinationTypes()})
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := pipelines.Get(r.PathValue("template"))
	if err != nil {
		return notFound(err.Error())
	}
	writeJSON(w, 200, t)
	return nil
}

type renderRequest struct {
	Params      map[string]any     `json:"params,omitempty"`
	Destination *store.Destination `json:"destination,omitempty"`
	HostName    string             `json:"host_name,omitempty"`
	Labels      map[string]string  `json:"labels,omitempty"`
}

func (s *Server) renderTemplate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("template")
	if _, err := pipelines.Get(name); err != nil {
		return notFound(err.Error())
	}
	var req renderRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	spec := store.DeploymentSpec{Template: name, Params: req.Params}
	if req.Destination != nil {
		spec.Destination = *req.Destination
	}
	out, err := pipelines.Render(pipelinesSpec(spec), pipelines.Context{HostName: req.HostName, Labels: req.Labels})
	if err != nil {
		return renderError(err)
	}
	writeJSON(w, 200, map[string]any{"template": name, "yaml": string(out.YAML), "sha256": out.SHA256})
	return nil
}

// validate checks a user's own collector YAML: the raw YAML as the body, or
// JSON {"yaml": "..."}. The answer is 200 with valid=false and the problems
// (line, column, path, message) when the YAML is wrong.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) error {
	var data []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req struct {
			YAML string `json:"yaml"`
		}
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
		data = []byte(req.YAML)
	} else {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
		if err != nil {
			return badRequest("reading the request body: " + err.Error())
		}
		if len(b) > maxJSONBody {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Title: "Body too large", Detail: fmt.Sprintf("the YAML is over %d bytes", maxJSONBody)}
		}
		data = b
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return invalid("yaml", "the collector YAML is empty")
	}
	problems := pipelines.ValidateYAML(data)
	if problems == nil {
		problems = []pipelines.Problem{}
	}
	writeJSON(w, 200, map[string]any{"valid": len(problems) == 0, "problems": problems})
	return nil
}

// ---- deployments ----

type deploymentRequest struct {
	Name            string             `json:"name,omitempty"`
	Template        string             `json:"template,omitempty"`
	Params          map[string]any     `json:"params,omitempty"`
	Destination     *store.Destination `json:"destination,omitempty"`
	Target          *store.Target      `json:"target,omitempty"`
	ExpectedVersion int                `json:"expected_version,omitempty"`
}

// DeploymentView is a deployment as the API shows it.
type DeploymentView struct {
	Name        string            `json:"name"`
	Version     int               `json:"version"`
	Template    string            `json:"template"`
	Params      map[string]any    `json:"params,omitempty"`
	Destination store.Destination `json:"destination"`
	Target      store.Target      `json:"target"`
	RollbackOf  int               `json:"rollback_of,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Status      *DeploymentStatus `json:"status,omitempty"`
}

// VersionView is one immutable version.
type VersionView struct {
	Deployment  string            `json:"deployment"`
	Version     int               `json:"version"`
	Template    string            `json:"template"`
	Params      map[string]any    `json:"params,omitempty"`
	Destination store.Destination `json:"destination"`
	Target      store.Target      `json:"target"`
	RollbackOf  int               `json:"rollback_of,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	Current     bool              `json:"current"`
}

func viewDeployment(d store.Deployment, st *DeploymentStatus) DeploymentView {
	sp := d.Current.Spec
	return DeploymentView{Name: d.Name, Version: d.Version, Template: sp.Template, Params: sp.Params, Destination: sp.Destination,
		Target: sp.Target, RollbackOf: d.Current.RollbackOf, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Status: st}
}

func viewVersion(v store.DeploymentVersion, current int) VersionView {
	return VersionView{Deployment: v.Deployment, Version: v.Version, Template: v.Spec.Template, Params: v.Spec.Params,
		Destination: v.Spec.Destination, Target: v.Spec.Target, RollbackOf: v.RollbackOf, CreatedAt: v.CreatedAt, Current: v.Version == current}
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) error {
	deps, err := s.store.ListDeployments(r.Context())
	if err != nil {
		return err
	}
	agents, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	want := r.URL.Query().Get("status")
	out := []DeploymentView{}
	for _, d := range deps {
		st := s.deploymentStatus(d, agents, false)
		if want != "" && st.Status != want {
			continue
		}
		out = append(out, viewDeployment(d, &st))
	}
	writeJSON(w, 200, map[string]any{"deployments": out})
	return nil
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) error {
	var req deploymentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return invalid("name", "name is required")
	}
	spec := store.DeploymentSpec{Template: req.Template, Params: req.Params}
	if req.Destination != nil {
		spec.Destination = *req.Destination
	}
	if req.Target != nil {
		spec.Target = *req.Target
	}
	if _, err := s.CreateDeployment(r.Context(), req.Name, spec); err != nil {
		return err
	}
	d, st, err := s.deploymentStatusByName(r.Context(), req.Name, true)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/deployments/"+req.Name)
	writeJSON(w, http.StatusCreated, viewDeployment(d, &st))
	return nil
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) error {
	d, st, err := s.deploymentStatusByName(r.Context(), r.PathValue("name"), true)
	if err != nil {
		return storeError(err)
	}
	writeJSON(w, 200, viewDeployment(d, &st))
	return nil
}

// updateDeployment creates a new version. Fields left out keep their current
// value; params, destination and target are replaced whole when given.
func (s *Server) updateDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req deploymentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name != "" && req.Name != name {
		return invalid("name", fmt.Sprintf("name %q in the body differs from %q in the path; a deployment cannot be renamed", req.Name, name))
	}
	cur, err := s.store.GetDeployment(r.Context(), name)
	if err != nil {
		return storeError(err)
	}
	spec := cur.Current.Spec
	if req.Template != "" {
		spec.Template = req.Template
	}
	if req.Params != nil {
		spec.Params = req.Params
	}
	if req.Destination != nil {
		spec.Destination = *req.Destination
	}
	if req.Target != nil {
		spec.Target = *req.Target
	}
	expect := cur.Version
	if req.ExpectedVersion != 0 {
		expect = req.ExpectedVersion
	}
	if _, err := s.UpdateDeployment(r.Context(), name, expect, spec); err != nil {
		return err
	}
	d, st, err := s.deploymentStatusByName(r.Context(), name, true)
	if err != nil {
		return err
	}
	writeJSON(w, 200, viewDeployment(d, &st))
	return nil
}

func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.DeleteDeployment(r.Context(), name); err != nil {
		return err
	}
	writeJSON(w, 200, map[string]any{"deleted": name, "detail": "its hosts get the empty config and go back to the agent's minimal config (no data pipelines)"})
	return nil
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := s.store.GetDeployment(r.Context(), name)
	if err != nil {
		return storeError(err)
	}
	vs, err := s.store.ListDeploymentVersions(r.Context(), name)
	if err != nil {
		return storeError(err)
	}
	out := make([]VersionView, len(vs))
	for i, v := range vs {
		out[i] = viewVersion(v, d.Version)
	}
	writeJSON(w, 200, map[string]any{"deployment": name, "current": d.Version, "versions": out})
	return nil
}

func parseVersion(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, badRequest(fmt.Sprintf("version %q must be a positive integer", s))
	}
	return v, nil
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	n, err := parseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	d, err := s.store.GetDeployment(r.Context(), name)
	if err != nil {
		return storeError(err)
	}
	v, err := s.store.GetDeploymentVersion(r.Context(), name, n)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(fmt.Sprintf("deployment %q has no version %d (versions 1 to %d)", name, n, d.Version))
		}
		return err
	}
	writeJSON(w, 200, viewVersion(v, d.Version))
	return nil
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req struct {
		ToVersion *int `json:"to_version"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ToVersion == nil {
		return invalid("to_version", "to_version is required: the version to roll back to")
	}
	v, err := s.Rollback(r.Context(), name, *req.ToVersion)
	if err != nil {
		return err
	}
	d, st, err := s.deploymentStatusByName(r.Context(), name, true)
	if err != nil {
		return err
	}
	view := viewDeployment(d, &st)
	view.RollbackOf = v.RollbackOf
	writeJSON(w, 200, view)
	return nil
}

func (s *Server) getDeploymentStatus(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, st, err := s.deploymentStatusByName(r.Context(), name, true)
	if err != nil {
		return storeError(err)
	}
	if h := r.URL.Query().Get("host"); h != "" {
		var hosts []HostStatus
		for _, x := range st.Hosts {
			if x.Host == h {
				hosts = append(hosts, x)
			}
		}
		if len(hosts) == 0 {
			return notFound(fmt.Sprintf("host %q is not in deployment %q", h, name))
		}
		st.Hosts = hosts
	}
	writeJSON(w, 200, map[string]any{"deployment": d.Name, "version": d.Version, "status": st.Status, "detail": st.Detail,
		"total": st.Total, "counts": st.Counts, "hosts": st.Hosts, "final": st.Final()})
	return nil
}

// getDeploymentConfig renders the deployment's config: for ?host=h as that
// host gets it, else for the first host it targets, else with no host.
func (s *Server) getDeploymentConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := s.store.GetDeployment(r.Context(), name)
	if err != nil {
		return storeError(err)
	}
	spec, version := d.Current.Spec, d.Version
	if vs := r.URL.Query().Get("version"); vs != "" {
		n, err := parseVersion(vs)
		if err != nil {
			return err
		}
		v, err := s.store.GetDeploymentVersion(r.Context(), name, n)
		if err != nil {
			return storeError(err)
		}
		spec, version = v.Spec, v.Version
	}
	host := r.URL.Query().Get("host")
	var labels map[string]string
	agents, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	hosts := latestPerHost(agents)
	if host != "" {
		a, ok := hosts[host]
		if !ok {
			return notFound(fmt.Sprintf("no agent has reported host %q", host))
		}
		labels = a.Labels
	} else {
		for _, a := range agents {
			if spec.Target.Matches(a.HostName, a.Labels) {
				host, labels = a.HostName, a.Labels
				break
			}
		}
	}
	out, err := pipelines.Render(pipelinesSpec(spec), pipelines.Context{HostName: host, Labels: labels, DeploymentID: name, DeploymentVersion: version})
	if err != nil {
		return renderError(err)
	}
	writeJSON(w, 200, map[string]any{"deployment": name, "version": version, "host": host, "yaml": string(out.YAML), "sha256": hexSHA(out.YAML)})
	return nil
}

// ---- agents and hosts ----

// AgentView is an agent as the API shows it.
type AgentView struct {
	store.Agent
	Online bool       `json:"online"`
	Status HostStatus `json:"status"`
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	agents, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	out := make([]AgentView, 0, len(agents))
	for _, a := range agents {
		out = append(out, AgentView{Agent: a, Online: s.online(a), Status: s.hostStatus(a)})
	}
	writeJSON(w, 200, map[string]any{"agents": out})
	return nil
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) error {
	a, err := s.store.GetAgent(r.Context(), r.PathValue("uid"))
	if err != nil {
		return storeError(err)
	}
	writeJSON(w, 200, AgentView{Agent: a, Online: s.online(a), Status: s.hostStatus(a)})
	return nil
}

func (s *Server) hostAgent(ctx context.Context, host string) (store.Agent, error) {
	agents, err := s.store.ListAgents(ctx)
	if err != nil {
		return store.Agent{}, err
	}
	a, ok := latestPerHost(agents)[host]
	if !ok {
		return a, notFound(fmt.Sprintf("no agent has reported host %q; GET /api/v1/hosts lists the known hosts", host))
	}
	return a, nil
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) error {
	agents, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	m := latestPerHost(agents)
	out := []HostStatus{}
	for _, h := range sortedKeys(m) {
		out = append(out, s.hostStatus(m[h]))
	}
	writeJSON(w, 200, map[string]any{"hosts": out})
	return nil
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) error {
	a, err := s.hostAgent(r.Context(), r.PathValue("host"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, s.hostStatus(a))
	return nil
}

// getHostConfig returns what the host runs (the effective config its agent
// reported) and what it should run (the desired config).
func (s *Server) getHostConfig(w http.ResponseWriter, r *http.Request) error {
	a, err := s.hostAgent(r.Context(), r.PathValue("host"))
	if err != nil {
		return err
	}
	d := s.fleet.desiredFor(a.HostName, a.Labels)
	hs := s.hostStatus(a)
	writeJSON(w, 200, map[string]any{
		"host": a.HostName, "agent_uid": a.InstanceUID, "deployment": d.Deployment, "version": d.Version, "status": hs.Status,
		"effective":            map[string]any{"yaml": a.EffectiveConfig, "sha256": a.EffectiveConfigHash},
		"desired":              map[string]any{"yaml": string(d.YAML), "sha256": hs.DesiredHash, "error": d.Err},
		"remote_config_status": map[string]any{"status": a.RemoteStatus, "hash": a.RemoteHash, "error": a.RemoteError},
	})
	return nil
}

// retryHost forgets the configs the host's agent reported FAILED, so the
// desired config is pushed again.
func (s *Server) retryHost(w http.ResponseWriter, r *http.Request) error {
	a, err := s.hostAgent(r.Context(), r.PathValue("host"))
	if err != nil {
		return err
	}
	if err := s.fleet.clearFailed(r.Context(), a.InstanceUID); err != nil {
		return storeError(err)
	}
	writeJSON(w, 200, map[string]any{"host": a.HostName, "agent_uid": a.InstanceUID, "detail": "failed configs forgotten; the desired config is pushed again"})
	return nil
}

func hexSHA(b []byte) string { return fmt.Sprintf("%x", sha256New(b)) }
