package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// apiError is an error with an HTTP status and, for validation errors, the
// field it is about. It becomes an application/problem+json response.
type apiError struct {
	Status int
	Title  string
	Detail string
	Field  string
	Extra  map[string]any
}

func (e *apiError) Error() string { return e.Detail }

func badRequest(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Title: "Bad request", Detail: detail}
}

func invalid(field, detail string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed", Field: field, Detail: detail}
}

func notFound(detail string) *apiError {
	return &apiError{Status: http.StatusNotFound, Title: "Not found", Detail: detail}
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validateSpec checks a deployment spec the way an agent would experience it:
// the template exists, the parameters are right and the config renders.
func validateSpec(spec store.DeploymentSpec) error {
	if spec.Template == "" {
		return invalid("template", "template is required; GET /api/v1/catalog lists them: "+strings.Join(pipelines.Names(), ", "))
	}
	if _, err := pipelines.Get(spec.Template); err != nil {
		return invalid("template", err.Error())
	}
	if spec.Target.Empty() {
		return invalid("target", "target is required: give target.hosts (host names) or target.selector (labels)")
	}
	for i, h := range spec.Target.Hosts {
		if strings.TrimSpace(h) == "" || h != strings.TrimSpace(h) {
			return invalid(fmt.Sprintf("target.hosts[%d]", i), fmt.Sprintf("host name %q is empty or has surrounding spaces", h))
		}
	}
	for k := range spec.Target.Selector {
		if strings.TrimSpace(k) == "" {
			return invalid("target.selector", "a selector label key is empty")
		}
	}
	if _, err := pipelines.Render(pipelinesSpec(spec), pipelines.Context{DeploymentID: "validation", DeploymentVersion: 1}); err != nil {
		return renderError(err)
	}
	return nil
}

func renderError(err error) *apiError {
	var pe *pipelines.ParamError
	var ue *pipelines.UnknownTemplateError
	switch {
	case errors.As(err, &pe):
		field := "params"
		if pe.Param != "" {
			field = "params." + pe.Param
			if strings.HasPrefix(pe.Param, "destination") {
				field = pe.Param
			}
		}
		ae := invalid(field, err.Error())
		if pe.Accepted != "" {
			ae.Extra = map[string]any{"accepted": pe.Accepted}
		}
		return ae
	case errors.As(err, &ue), errors.Is(err, pipelines.ErrUnknownTemplate):
		return invalid("template", err.Error())
	default:
		return invalid("", err.Error())
	}
}

func storeError(err error) error {
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce):
		return &apiError{Status: http.StatusConflict, Title: "Target overlaps another deployment", Detail: ce.Error(), Field: "target",
			Extra: map[string]any{"conflicting_deployment": ce.Deployment, "hosts": ce.Hosts}}
	case errors.Is(err, store.ErrNotFound):
		return notFound(err.Error())
	case errors.Is(err, store.ErrExists):
		return &apiError{Status: http.StatusConflict, Title: "Already exists", Detail: err.Error() + "; update it with PUT /api/v1/deployments/{name}", Field: "name"}
	case errors.Is(err, store.ErrVersionConflict):
		return &apiError{Status: http.StatusConflict, Title: "Version conflict", Detail: err.Error() + "; read it again and retry"}
	}
	return err
}

// CreateDeployment stores version 1 of a deployment and pushes it.
func (s *Server) CreateDeployment(ctx context.Context, name string, spec store.DeploymentSpec) (store.DeploymentVersion, error) {
	if !nameRE.MatchString(name) {
		return store.DeploymentVersion{}, invalid("name", fmt.Sprintf("deployment name %q: use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit", name))
	}
	if err := validateSpec(spec); err != nil {
		return store.DeploymentVersion{}, err
	}
	v, err := s.store.CreateDeployment(ctx, name, spec, conflictCheck(spec.Target))
	if err != nil {
		return v, storeError(err)
	}
	s.afterDeploymentWrite(ctx)
	return v, nil
}

// UpdateDeployment stores a new version with spec.
func (s *Server) UpdateDeployment(ctx context.Context, name string, expect int, spec store.DeploymentSpec) (store.DeploymentVersion, error) {
	if err := validateSpec(spec); err != nil {
		return store.DeploymentVersion{}, err
	}
	v, err := s.store.AddDeploymentVersion(ctx, name, expect, spec, 0, conflictCheck(spec.Target))
	if err != nil {
		return v, storeError(err)
	}
	s.afterDeploymentWrite(ctx)
	return v, nil
}

// Rollback creates a new version equal to version `to`.
func (s *Server) Rollback(ctx context.Context, name string, to int) (store.DeploymentVersion, error) {
	d, err := s.store.GetDeployment(ctx, name)
	if err != nil {
		return store.DeploymentVersion{}, storeError(err)
	}
	if to < 1 {
		return store.DeploymentVersion{}, invalid("to_version", fmt.Sprintf("to_version must be a version number between 1 and %d", d.Version))
	}
	old, err := s.store.GetDeploymentVersion(ctx, name, to)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.DeploymentVersion{}, notFound(fmt.Sprintf("deployment %q has no version %d (versions 1 to %d)", name, to, d.Version))
		}
		return store.DeploymentVersion{}, err
	}
	// The old version must still render (the catalog may have changed).
	if err := validateSpec(old.Spec); err != nil {
		return store.DeploymentVersion{}, err
	}
	v, err := s.store.AddDeploymentVersion(ctx, name, d.Version, old.Spec, to, conflictCheck(old.Spec.Target))
	if err != nil {
		return v, storeError(err)
	}
	s.afterDeploymentWrite(ctx)
	return v, nil
}

// DeleteDeployment removes a deployment; its hosts get the empty config.
func (s *Server) DeleteDeployment(ctx context.Context, name string) error {
	if err := s.store.DeleteDeployment(ctx, name); err != nil {
		return storeError(err)
	}
	s.afterDeploymentWrite(ctx)
	return nil
}

// afterDeploymentWrite refreshes this replica's cache at once, so the
// response and the status reads that follow see the write; the change
// notification then pushes to the agents (on every replica).
func (s *Server) afterDeploymentWrite(ctx context.Context) {
	if err := s.fleet.loadDeployments(ctx); err != nil {
		s.log.Error("reload deployments", "err", err)
	}
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
