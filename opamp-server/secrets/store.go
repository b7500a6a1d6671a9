package secrets

import (
	"context"
	"fmt"
	"regexp"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// Store seals destination header values on their way into the wrapped
// store and hands out their references on the way out. Everything else
// passes through.
type Store struct {
	store.Store
	box *Box
}

// WrapStore wraps st.
func WrapStore(st store.Store, box *Box) *Store { return &Store{Store: st, box: box} }

// Unwrap is the wrapped store.
func (s *Store) Unwrap() store.Store { return s.Store }

// hostEnvRef is a whole value that refers to the agent host's own
// environment (${env:NAME}): not a secret the server holds.
var hostEnvRef = regexp.MustCompile(`^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$`)

func (s *Store) seal(spec store.DeploymentSpec) store.DeploymentSpec {
	if len(spec.Destination.Headers) == 0 {
		return spec
	}
	h := make(map[string]string, len(spec.Destination.Headers))
	for k, v := range spec.Destination.Headers {
		if plain, ok := s.box.valueOf(v); ok {
			v = plain // a reference handed out before: the same secret
		} else if hostEnvRef.MatchString(v) {
			h[k] = v
			continue
		}
		h[k] = s.box.Seal(v)
	}
	spec.Destination.Headers = h
	return spec
}

func (s *Store) refer(spec store.DeploymentSpec) (store.DeploymentSpec, error) {
	if len(spec.Destination.Headers) == 0 {
		return spec, nil
	}
	h := make(map[string]string, len(spec.Destination.Headers))
	for k, v := range spec.Destination.Headers {
		if !IsSealed(v) {
			h[k] = v
			continue
		}
		plain, err := s.box.Open(v)
		if err != nil {
			return spec, fmt.Errorf("destination header %q: %w", k, err)
		}
		h[k] = s.box.Reference(k, plain)
	}
	spec.Destination.Headers = h
	return spec, nil
}

func (s *Store) referVersion(v store.DeploymentVersion, err error) (store.DeploymentVersion, error) {
	if err != nil {
		return v, err
	}
	v.Spec, err = s.refer(v.Spec)
	if err != nil {
		return v, fmt.Errorf("deployment %s version %d: %w", v.Deployment, v.Version, err)
	}
	return v, nil
}

// CreateDeployment implements store.Store.
func (s *Store) CreateDeployment(ctx context.Context, name string, spec store.DeploymentSpec, check store.ConflictCheck) (store.DeploymentVersion, error) {
	return s.referVersion(s.Store.CreateDeployment(ctx, name, s.seal(spec), check))
}

// AddDeploymentVersion implements store.Store.
func (s *Store) AddDeploymentVersion(ctx context.Context, name string, expect int, spec store.DeploymentSpec, rollbackOf int, check store.ConflictCheck) (store.DeploymentVersion, error) {
	return s.referVersion(s.Store.AddDeploymentVersion(ctx, name, expect, s.seal(spec), rollbackOf, check))
}

// GetDeployment implements store.Store.
func (s *Store) GetDeployment(ctx context.Context, name string) (store.Deployment, error) {
	d, err := s.Store.GetDeployment(ctx, name)
	if err != nil {
		return d, err
	}
	d.Current, err = s.referVersion(d.Current, nil)
	return d, err
}

// ListDeployments implements store.Store.
func (s *Store) ListDeployments(ctx context.Context) ([]store.Deployment, error) {
	ds, err := s.Store.ListDeployments(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].Current, err = s.referVersion(ds[i].Current, nil); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// GetDeploymentVersion implements store.Store.
func (s *Store) GetDeploymentVersion(ctx context.Context, name string, version int) (store.DeploymentVersion, error) {
	return s.referVersion(s.Store.GetDeploymentVersion(ctx, name, version))
}

// ListDeploymentVersions implements store.Store.
func (s *Store) ListDeploymentVersions(ctx context.Context, name string) ([]store.DeploymentVersion, error) {
	vs, err := s.Store.ListDeploymentVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if vs[i], err = s.referVersion(vs[i], nil); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// ReferSpec is spec as the store hands it out: every secret header value
// replaced by its reference (deterministic for a value under this key), so
// a spec given in clear compares equal to the stored one it matches (an
// unchanged redeploy stays one version).
func (b *Box) ReferSpec(spec store.DeploymentSpec) store.DeploymentSpec {
	if len(spec.Destination.Headers) == 0 {
		return spec
	}
	h := make(map[string]string, len(spec.Destination.Headers))
	for k, v := range spec.Destination.Headers {
		if _, known := b.valueOf(v); known || hostEnvRef.MatchString(v) {
			h[k] = v
			continue
		}
		h[k] = b.Reference(k, v)
	}
	spec.Destination.Headers = h
	return spec
}
