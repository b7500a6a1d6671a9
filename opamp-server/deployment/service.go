package deployment

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// Service owns the deployments: their writes, this replica's cache of them
// and the desired state computed from it.
type Service struct {
	store      store.Store
	staleAfter time.Duration
	renders    *renderCache

	mu   sync.RWMutex
	deps []store.Deployment

	layerMu sync.RWMutex
	layers  []Layer
	onWrite func(context.Context) // SetAfterWrite

	// refer turns secret values into the references the store hands out
	// (secrets.Box.ReferSpec), for comparing a spec given in clear.
	refer func(store.DeploymentSpec) store.DeploymentSpec
}

// SetSecretReferrer makes unchanged-spec checks compare a spec's secrets as
// the store hands them out (their references), not in clear.
func (s *Service) SetSecretReferrer(f func(store.DeploymentSpec) store.DeploymentSpec) { s.refer = f }

func (s *Service) referred(spec store.DeploymentSpec) store.DeploymentSpec {
	if s.refer == nil {
		return spec
	}
	return s.refer(spec)
}

// New makes a Service; staleAfter marks HTTP-polling agents offline after
// that silence.
func New(st store.Store, staleAfter time.Duration) *Service {
	return &Service{store: st, staleAfter: staleAfter, renders: newRenderCache()}
}

// Snapshot is the cached list of deployments (do not modify it).
func (s *Service) Snapshot() []store.Deployment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.deps
}

// Reload refreshes the cache from the store (after a write or a change
// notification).
func (s *Service) Reload(ctx context.Context) error {
	deps, err := s.store.ListDeployments(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.deps = deps
	s.mu.Unlock()
	s.renders.keep(deps)
	return nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidName checks a deployment (or experiment) name.
func ValidName(kind, name string) error {
	if name == "" {
		return domainerr.Invalidf("name", "name is required")
	}
	if !nameRE.MatchString(name) {
		return domainerr.Invalidf("name", "%s name %q: use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit", kind, name)
	}
	return nil
}

// ValidateSpec checks a deployment spec the way an agent would experience
// it: the template exists, the parameters are right and the config renders.
func ValidateSpec(spec store.DeploymentSpec) error {
	if err := ValidateRolloutPolicy(spec.Rollout); err != nil {
		return err
	}
	if spec.Config != "" {
		if err := ValidateConfig("", spec); err != nil {
			return err
		}
		return ValidateTarget("target", spec.Target)
	}
	if err := ValidateTemplate("", spec.Template, spec.Params, spec.Destination); err != nil {
		return err
	}
	return ValidateTarget("target", spec.Target)
}

// ValidateConfig checks a raw config spec as `phoenix pipeline validate`
// does (pipelines.ValidateRaw: the problems name line, column and path),
// and that it carries no template, parameters or destination.
func ValidateConfig(prefix string, spec store.DeploymentSpec) error {
	spec.Target = store.Target{}
	if _, err := pipelines.Render(PipelinesSpec(spec), pipelines.Context{DeploymentID: "validation", DeploymentVersion: 1}); err != nil {
		return renderError(prefix, err)
	}
	return nil
}

// ValidateTemplate checks a template and its parameters; prefix is put
// before the field names ("candidates[0]." for an experiment's variant).
func ValidateTemplate(prefix, template string, params map[string]any, dest store.Destination) error {
	if template == "" {
		return domainerr.Invalidf(prefix+"template", "template is required; GET /api/v1/catalog lists them: %s", strings.Join(pipelines.Names(), ", "))
	}
	if _, err := pipelines.Get(template); err != nil {
		return domainerr.Invalidf(prefix+"template", "%v", err)
	}
	spec := store.DeploymentSpec{Template: template, Params: params, Destination: dest}
	if _, err := pipelines.Render(PipelinesSpec(spec), pipelines.Context{DeploymentID: "validation", DeploymentVersion: 1}); err != nil {
		return renderError(prefix, err)
	}
	return nil
}

// ValidateTarget checks a target's host names and selector keys.
func ValidateTarget(field string, t store.Target) error {
	if t.Empty() {
		return domainerr.Invalidf(field, "%s is required: give %s.hosts (host names) or %s.selector (labels)", field, field, field)
	}
	if len(t.Hosts) > pipelines.MaxTargetHosts {
		return domainerr.Invalidf(field+".hosts", "%d host names, over the limit of %d: use a selector for large fleets", len(t.Hosts), pipelines.MaxTargetHosts)
	}
	seen := make(map[string]bool, len(t.Hosts))
	for i, h := range t.Hosts {
		f := fmt.Sprintf("%s.hosts[%d]", field, i)
		if err := pipelines.ValidateHostName(h); err != nil {
			return domainerr.Invalidf(f, "%v", err)
		}
		if seen[h] {
			return domainerr.Invalidf(f, "host name %q is listed twice", h)
		}
		seen[h] = true
	}
	for k := range t.Selector {
		if strings.TrimSpace(k) == "" {
			return domainerr.Invalidf(field+".selector", "a selector label key is empty")
		}
	}
	return nil
}

// RenderError turns a pipelines render error into a domain error naming
// the field.
func RenderError(err error) error { return renderError("", err) }

func renderError(prefix string, err error) error {
	var pe *pipelines.ParamError
	var ue *pipelines.UnknownTemplateError
	var ve *pipelines.ValidationError
	switch {
	case errors.As(err, &ve):
		return &domainerr.Invalid{Field: prefix + "config", Detail: "the raw config is not valid: " + err.Error(),
			Extra: map[string]any{"problems": ve.Problems}}
	case errors.As(err, &pe) && (pe.Param == "config" || pe.Param == "params" || pe.Param == "input"):
		return &domainerr.Invalid{Field: prefix + "config", Detail: err.Error()}
	case errors.As(err, &pe):
		field := "params"
		if pe.Param != "" {
			field = "params." + pe.Param
			if strings.HasPrefix(pe.Param, "destination") {
				field = pe.Param
			}
		}
		ie := &domainerr.Invalid{Field: prefix + field, Detail: err.Error()}
		if pe.Accepted != "" {
			ie.Extra = map[string]any{"accepted": pe.Accepted}
		}
		return ie
	case errors.As(err, &ue), errors.Is(err, pipelines.ErrUnknownTemplate):
		return &domainerr.Invalid{Field: prefix + "template", Detail: err.Error()}
	default:
		return &domainerr.Invalid{Field: strings.TrimSuffix(prefix, "."), Detail: err.Error()}
	}
}

// storeError maps the store's errors to domain errors.
func storeError(err error) error {
	var ce *store.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return &domainerr.Conflict{Title: "Target overlaps another deployment", Detail: ce.Error(), Field: "target",
			Extra: map[string]any{"conflicting_deployment": ce.Deployment, "hosts": ce.Hosts}}
	case errors.Is(err, store.ErrNotFound):
		return &domainerr.NotFound{Detail: err.Error()}
	case errors.Is(err, store.ErrExists):
		return &domainerr.Conflict{Title: "Already exists", Detail: err.Error() + "; update it with PUT /api/v1/deployments/{name}", Field: "name"}
	case errors.Is(err, store.ErrVersionConflict):
		return &domainerr.Conflict{Title: "Version conflict", Detail: err.Error() + "; read it again and retry"}
	}
	return err
}

// Create stores version 1 of a deployment (or nothing when it exists with
// the same spec: see Deploy).
func (s *Service) Create(ctx context.Context, name string, spec store.DeploymentSpec) (store.DeploymentVersion, error) {
	o, err := s.Deploy(ctx, name, spec)
	return o.Version, err
}

// Update stores a new version with spec; expect is the version it replaces
// (nothing is stored when spec equals the current version: see Revise).
func (s *Service) Update(ctx context.Context, name string, expect int, spec store.DeploymentSpec) (store.DeploymentVersion, error) {
	o, err := s.Revise(ctx, name, expect, spec)
	return o.Version, err
}

// Rollback creates a new version equal to version `to`.
func (s *Service) Rollback(ctx context.Context, name string, to int) (store.DeploymentVersion, error) {
	d, err := s.store.GetDeployment(ctx, name)
	if err != nil {
		return store.DeploymentVersion{}, storeError(err)
	}
	if to < 1 {
		return store.DeploymentVersion{}, domainerr.Invalidf("to_version", "to_version must be a version number between 1 and %d", d.Version)
	}
	old, err := s.Version(ctx, name, to)
	if err != nil {
		return store.DeploymentVersion{}, err
	}
	// The old version must still render (the catalog may have changed).
	if err := ValidateSpec(old.Spec); err != nil {
		return store.DeploymentVersion{}, err
	}
	v, err := s.store.AddDeploymentVersion(ctx, name, d.Version, old.Spec, to, conflictCheck(old.Spec.Target))
	if err != nil {
		return v, storeError(err)
	}
	s.afterWrite(ctx)
	return v, nil
}

// Delete removes a deployment; its hosts get the empty config.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := s.store.DeleteDeployment(ctx, name); err != nil {
		return storeError(err)
	}
	s.afterWrite(ctx)
	return nil
}

// Get reads a deployment.
func (s *Service) Get(ctx context.Context, name string) (store.Deployment, error) {
	d, err := s.store.GetDeployment(ctx, name)
	return d, storeError(err)
}

// Version reads one version of a deployment.
func (s *Service) Version(ctx context.Context, name string, n int) (store.DeploymentVersion, error) {
	d, err := s.store.GetDeployment(ctx, name)
	if err != nil {
		return store.DeploymentVersion{}, storeError(err)
	}
	v, err := s.store.GetDeploymentVersion(ctx, name, n)
	if errors.Is(err, store.ErrNotFound) {
		return v, domainerr.NotFoundf("deployment %q has no version %d (versions 1 to %d)", name, n, d.Version)
	}
	return v, err
}

// Versions lists a deployment's versions, oldest first, and its current one.
func (s *Service) Versions(ctx context.Context, name string) ([]store.DeploymentVersion, int, error) {
	d, err := s.store.GetDeployment(ctx, name)
	if err != nil {
		return nil, 0, storeError(err)
	}
	vs, err := s.store.ListDeploymentVersions(ctx, name)
	return vs, d.Version, storeError(err)
}

// afterWrite refreshes this replica's cache at once, so the response and
// the status reads that follow see the write; the change notification then
// pushes to the agents (on every replica).
func (s *Service) afterWrite(ctx context.Context) {
	_ = s.Reload(ctx) // a failed reload is retried by the change notification and the resync loop
	s.afterWriteHook(ctx)
}
