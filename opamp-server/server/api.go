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
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
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
		writeJSON(w, 200, api.Readiness{Status: "ok"})
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
	handle("POST /api/v1/deployments", true, s.idempotent(s.createDeployment))
	handle("GET /api/v1/deployments/{name}", true, s.getDeployment)
	handle("PUT /api/v1/deployments/{name}", true, s.idempotent(s.updateDeployment))
	handle("PATCH /api/v1/deployments/{name}", true, s.idempotent(s.updateDeployment))
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
	s.experimentRoutes(handle)
	s.rolloutRoutes(handle)
	s.identityRoutes(handle) // agents_api.go
	s.loadSimRoutes(handle)
	mountConsole(mux)
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
			tok = subprotocolToken(r) // browsers cannot set headers on WebSockets; a token never goes in a URL
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

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae, known := httpError(err)
	if !known {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := map[string]any{ // api.Problem plus the extension members
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
		if _, taken := p[k]; !taken {
			p[k] = v
		}
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
		writeJSON(w, http.StatusServiceUnavailable, api.Readiness{Status: "starting"})
		return
	}
	if err := s.store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, api.Readiness{Status: "store unavailable", Error: err.Error()})
		return
	}
	writeJSON(w, 200, api.Readiness{Status: "ready"})
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, 200, api.Info{
		Version: buildinfo.Version, Commit: buildinfo.Commit, BuildDate: buildinfo.Date,
		ServerID: s.cfg.ServerID, OpAMPURL: s.OpAMPURL(), StartedAt: s.startedAt.UTC(),
		AgentsConnectedHere: s.fleet.connectedCount(),
	})
	return nil
}

// ---- catalog and validation ----

func (s *Server) listCatalog(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, 200, api.Catalog{Templates: pipelines.List(), DestinationTypes: pipelines.DestinationTypes()})
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

func (s *Server) renderTemplate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("template")
	if _, err := pipelines.Get(name); err != nil {
		return notFound(err.Error())
	}
	var req api.RenderRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	spec := store.DeploymentSpec{Template: name, Params: req.Params}
	if req.Destination != nil {
		spec.Destination = fromAPIDest(*req.Destination)
	}
	out, err := pipelines.Render(deployment.PipelinesSpec(spec), pipelines.Context{HostName: req.HostName, Labels: req.Labels})
	if err != nil {
		return deployment.RenderError(err)
	}
	writeJSON(w, 200, api.Rendered{Template: name, YAML: string(out.YAML), SHA256: out.SHA256})
	return nil
}

// validate checks a user's own collector YAML: the raw YAML as the body, or
// JSON {"yaml": "..."}. The answer is 200 with valid=false and the problems
// (line, column, path, message) when the YAML is wrong.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) error {
	var data []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req api.ValidateRequest
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
	writeJSON(w, 200, api.Validation{Valid: len(problems) == 0, Problems: problems})
	return nil
}

// ---- deployments ----

func toAPIDest(d store.Destination) api.Destination {
	return api.Destination{Type: d.Type, Endpoint: d.Endpoint, Headers: d.Headers, Insecure: d.Insecure}
}

func fromAPIDest(d api.Destination) store.Destination {
	return store.Destination{Type: d.Type, Endpoint: d.Endpoint, Headers: d.Headers, Insecure: d.Insecure}
}

func toAPITarget(t store.Target) api.Target { return api.Target{Hosts: t.Hosts, Selector: t.Selector} }

func fromAPITarget(t api.Target) store.Target {
	return store.Target{Hosts: t.Hosts, Selector: t.Selector}
}

func viewDeployment(d store.Deployment, st *api.DeploymentStatus) api.Deployment {
	sp := d.Current.Spec
	return api.Deployment{Name: d.Name, Version: d.Version, Template: sp.Template, Config: sp.Config, Params: sp.Params, Destination: toAPIDest(sp.Destination),
		Target: toAPITarget(sp.Target), RollbackOf: d.Current.RollbackOf, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Status: st}
}

func viewVersion(v store.DeploymentVersion, current int) api.Version {
	return api.Version{Deployment: v.Deployment, Version: v.Version, Template: v.Spec.Template, Config: v.Spec.Config, Params: v.Spec.Params,
		Destination: toAPIDest(v.Spec.Destination), Target: toAPITarget(v.Spec.Target), RollbackOf: v.RollbackOf, CreatedAt: v.CreatedAt, Current: v.Version == current}
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) error {
	deps, err := s.store.ListDeployments(r.Context())
	if err != nil {
		return err
	}
	agents, err := s.store.ListAgentRecords(r.Context())
	if err != nil {
		return err
	}
	want := r.URL.Query().Get("status")
	out := api.DeploymentList{Deployments: []api.Deployment{}}
	for _, d := range deps {
		st := s.deployments.Status(d, agents, false)
		if want != "" && st.Status != want {
			continue
		}
		out.Deployments = append(out.Deployments, viewDeployment(d, &st))
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) error {
	var req api.DeploymentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return invalid("name", "name is required")
	}
	spec := store.DeploymentSpec{Template: req.Template, Config: req.Config, Params: req.Params}
	if req.Destination != nil {
		spec.Destination = fromAPIDest(*req.Destination)
	}
	if req.Target != nil {
		spec.Target = fromAPITarget(*req.Target)
	}
	spec.Rollout = fromAPIRollout(req.Rollout)
	o, err := s.deployments.Deploy(r.Context(), req.Name, spec)
	if err != nil {
		return err
	}
	d, st, err := s.deployments.StatusByName(writeSummary(r.Context()), req.Name, false) // a summary: hosts are on GET .../status
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/deployments/"+req.Name)
	view, err := s.writeView(r, d, &st, o, spec.Target)
	if err != nil {
		return err
	}
	code := http.StatusCreated
	if o.Unchanged {
		code = http.StatusOK
	}
	writeJSON(w, code, view)
	return nil
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) error {
	d, st, err := s.deployments.StatusByName(r.Context(), r.PathValue("name"), true)
	if err != nil {
		return err
	}
	writeJSON(w, 200, viewDeployment(d, &st))
	return nil
}

// updateDeployment creates a new version. Fields left out keep their current
// value; params, destination and target are replaced whole when given.
func (s *Server) updateDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req api.DeploymentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name != "" && req.Name != name {
		return invalid("name", fmt.Sprintf("name %q in the body differs from %q in the path; a deployment cannot be renamed", req.Name, name))
	}
	cur, err := s.deployments.Get(r.Context(), name)
	if err != nil {
		return err
	}
	spec := cur.Current.Spec
	if req.Template != "" && req.Config == "" {
		spec.Template, spec.Config = req.Template, "" // a template replaces a raw config
	}
	if req.Config != "" {
		// A raw config replaces the template, its parameters and destination.
		spec.Config, spec.Template, spec.Params, spec.Destination = req.Config, req.Template, nil, store.Destination{}
	}
	if req.Params != nil {
		spec.Params = req.Params
	}
	if req.Destination != nil {
		spec.Destination = fromAPIDest(*req.Destination)
	}
	if req.Target != nil {
		spec.Target = fromAPITarget(*req.Target)
	}
	if req.Rollout != nil {
		spec.Rollout = fromAPIRollout(req.Rollout)
	}
	expect := cur.Version
	if req.ExpectedVersion != 0 {
		expect = req.ExpectedVersion
	}
	o, err := s.deployments.Revise(r.Context(), name, expect, spec)
	if err != nil {
		return err
	}
	d, st, err := s.deployments.StatusByName(writeSummary(r.Context()), name, false) // a summary: hosts are on GET .../status
	if err != nil {
		return err
	}
	view, err := s.writeView(r, d, &st, o, spec.Target)
	if err != nil {
		return err
	}
	writeJSON(w, 200, view)
	return nil
}

func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.deployments.Delete(r.Context(), name); err != nil {
		return err
	}
	writeJSON(w, 200, api.Deleted{Deleted: name, Detail: "its hosts get the empty config and go back to the agent's minimal config (no data pipelines)"})
	return nil
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	vs, current, err := s.deployments.Versions(r.Context(), name)
	if err != nil {
		return err
	}
	out := api.VersionList{Deployment: name, Current: current, Versions: make([]api.Version, len(vs))}
	for i, v := range vs {
		out.Versions[i] = viewVersion(v, current)
	}
	writeJSON(w, 200, out)
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
	v, err := s.deployments.Version(r.Context(), name, n)
	if err != nil {
		return err
	}
	d, err := s.deployments.Get(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, 200, viewVersion(v, d.Version))
	return nil
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req api.RollbackRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ToVersion == nil {
		return invalid("to_version", "to_version is required: the version to roll back to")
	}
	v, err := s.deployments.Rollback(r.Context(), name, *req.ToVersion)
	if err != nil {
		return err
	}
	d, st, err := s.deployments.StatusByName(writeSummary(r.Context()), name, false) // a summary: hosts are on GET .../status
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
	limit, offset, err := pageParams(r)
	if err != nil {
		return err
	}
	d, st, err := s.deployments.StatusByName(r.Context(), name, true)
	if err != nil {
		return err
	}
	if h := r.URL.Query().Get("host"); h != "" {
		var hosts []api.HostStatus
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
	st.Deployment, st.Version = d.Name, d.Version
	// Hosts are sorted by name: a page is [offset, offset+limit).
	st.Hosts = st.Hosts[min(offset, len(st.Hosts)):]
	if len(st.Hosts) > limit {
		st.Hosts, st.NextOffset = st.Hosts[:limit], offset+limit
	}
	if st.Hosts == nil {
		st.Hosts = []api.HostStatus{}
	}
	writeJSON(w, 200, st)
	return nil
}

// Pages of GET .../status.
const (
	defaultPageLimit = 1000
	maxPageLimit     = 10000
)

// pageParams reads ?limit= (default 1000, at most 10000) and ?offset=.
func pageParams(r *http.Request) (limit, offset int, err error) {
	limit = defaultPageLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, cerr := strconv.Atoi(v)
		if cerr != nil || n < 1 || n > maxPageLimit {
			return 0, 0, invalid("limit", fmt.Sprintf("limit %q: want a whole number from 1 to %d", v, maxPageLimit))
		}
		limit = n
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		n, cerr := strconv.Atoi(v)
		if cerr != nil || n < 0 {
			return 0, 0, invalid("offset", fmt.Sprintf("offset %q: want a whole number from 0 (next_offset of the previous page)", v))
		}
		offset = n
	}
	return limit, offset, nil
}

// getDeploymentConfig renders the deployment's config: for ?host=h as that
// host gets it, else for the first host it targets, else with no host.
func (s *Server) getDeploymentConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := s.deployments.Get(r.Context(), name)
	if err != nil {
		return err
	}
	spec, version := d.Current.Spec, d.Version
	if vs := r.URL.Query().Get("version"); vs != "" {
		n, err := parseVersion(vs)
		if err != nil {
			return err
		}
		v, err := s.deployments.Version(r.Context(), name, n)
		if err != nil {
			return err
		}
		spec, version = v.Spec, v.Version
	}
	host := r.URL.Query().Get("host")
	agents, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	hosts := deployment.LatestPerHost(agents)
	if host != "" {
		if _, ok := hosts[host]; !ok {
			return notFound(fmt.Sprintf("no agent has reported host %q", host))
		}
	} else {
		for _, a := range agents {
			if spec.Target.Matches(a.HostName, a.Labels) {
				host = a.HostName
				break
			}
		}
	}
	// Every host of a version gets the same bytes (deployment.RenderContext).
	out, err := pipelines.Render(deployment.PipelinesSpec(spec), deployment.RenderContext(name, version))
	if err != nil {
		return deployment.RenderError(err)
	}
	writeJSON(w, 200, api.DeploymentConfig{Deployment: name, Version: version, Host: host, YAML: string(out.YAML), SHA256: hexSHA(out.YAML)})
	return nil
}

// ---- agents and hosts ----

func (s *Server) viewAgent(a store.Agent) api.Agent {
	v := api.Agent{
		InstanceUID: a.InstanceUID, HostName: a.HostName, PendingHost: a.PendingHost, OS: a.OS, Arch: a.Arch, AgentVersion: a.AgentVersion,
		CollectorVersion: a.CollectorVersion, Identifying: a.Identifying, NonIdentifying: a.NonIdentifying, Labels: a.Labels,
		Capabilities: a.Capabilities, Transport: a.Transport, Connected: a.Connected, ServerID: a.ServerID,
		FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, EffectiveConfigHash: a.EffectiveConfigHash,
		RemoteStatus: a.RemoteStatus, RemoteHash: a.RemoteHash, RemoteError: a.RemoteError,
		DesiredDeployment: a.DesiredDeployment, DesiredVersion: a.DesiredVersion, DesiredHash: a.DesiredHash, DesiredError: a.DesiredError,
		PushedHash: a.PushedHash, PushedAt: a.PushedAt, AppliedAt: a.AppliedAt,
		Online: s.deployments.Online(a), Status: s.deployments.HostStatus(a),
	}
	v.Health = deployment.ViewHealth(a.Health)
	if len(a.FailedConfigs) > 0 {
		v.FailedConfigs = make(map[string]api.FailedConfig, len(a.FailedConfigs))
		for h, f := range a.FailedConfigs {
			v.FailedConfigs[h] = api.FailedConfig{Error: f.Error, At: f.At}
		}
	}
	return v
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	agents, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	out := api.AgentList{Agents: make([]api.Agent, 0, len(agents))}
	for _, a := range agents {
		out.Agents = append(out.Agents, s.viewAgent(a))
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) error {
	a, err := s.store.GetAgent(r.Context(), r.PathValue("uid"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err.Error())
	}
	if err != nil {
		return err
	}
	writeJSON(w, 200, s.viewAgent(a))
	return nil
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) error {
	agents, err := s.store.ListAgentRecords(r.Context())
	if err != nil {
		return err
	}
	m := deployment.LatestPerHost(agents)
	out := api.HostList{Hosts: []api.HostStatus{}}
	for _, h := range sortedKeys(m) {
		out.Hosts = append(out.Hosts, s.deployments.HostStatus(m[h]))
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) error {
	a, err := s.deployments.HostAgent(r.Context(), r.PathValue("host"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, s.deployments.HostStatus(a))
	return nil
}

// getHostConfig returns what the host runs (the effective config its agent
// reported) and what it should run (the desired config).
func (s *Server) getHostConfig(w http.ResponseWriter, r *http.Request) error {
	a, err := s.deployments.HostAgent(r.Context(), r.PathValue("host"))
	if err != nil {
		return err
	}
	d := s.deployments.Desired(a.HostName, a.Labels)
	hs := s.deployments.HostStatus(a)
	writeJSON(w, 200, api.HostConfig{
		Host: a.HostName, AgentUID: a.InstanceUID, Deployment: d.Deployment, Version: d.Version, Experiment: d.Experiment, Status: hs.Status,
		Effective:          api.ConfigBody{YAML: a.EffectiveConfig, SHA256: a.EffectiveConfigHash},
		Desired:            api.ConfigBody{YAML: string(d.YAML), SHA256: hs.DesiredHash, Error: d.Err},
		RemoteConfigStatus: api.RemoteConfigStatus{Status: a.RemoteStatus, Hash: a.RemoteHash, Error: a.RemoteError},
	})
	return nil
}

// retryHost forgets the configs the host's agent reported FAILED, so the
// desired config is pushed again.
func (s *Server) retryHost(w http.ResponseWriter, r *http.Request) error {
	a, err := s.deployments.HostAgent(r.Context(), r.PathValue("host"))
	if err != nil {
		return err
	}
	if err := s.fleet.clearFailed(r.Context(), a.InstanceUID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(err.Error())
		}
		return err
	}
	writeJSON(w, 200, api.RetryResult{Host: a.HostName, AgentUID: a.InstanceUID, Detail: "failed configs forgotten; the desired config is pushed again"})
	return nil
}

func hexSHA(b []byte) string { return deployment.SHA256Hex(b) }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
