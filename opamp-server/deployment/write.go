package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// Outcome is the result of a deployment write.
type Outcome struct {
	Version store.DeploymentVersion
	// Unchanged: the spec equals the current version's, nothing was
	// written (a retried or repeated deploy), Version is the current one.
	Unchanged bool
}

// Normalize puts a spec in the form it is stored in: parameters coerced to
// their types (the CLI's "10" and the API's 10 are the same stored
// version). The spec must have passed ValidateSpec.
func Normalize(spec store.DeploymentSpec) (store.DeploymentSpec, error) {
	if spec.Config != "" {
		return spec, nil // stored and delivered as the user wrote it
	}
	t, err := pipelines.Get(spec.Template)
	if err != nil {
		return spec, err
	}
	p, err := pipelines.NormalizeParams(t, spec.Params)
	if err != nil {
		return spec, renderError("", err)
	}
	spec.Params = p
	return spec, nil
}

// SameSpec reports whether two specs deploy the same thing (after
// normalization; the order of selector keys and params does not matter).
func SameSpec(a, b store.DeploymentSpec) bool {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	if errA != nil || errB != nil {
		return false
	}
	ja, _ := json.Marshal(na)
	jb, _ := json.Marshal(nb)
	return string(ja) == string(jb)
}

// Deploy creates a deployment, or, when one of that name exists with the
// same spec, changes nothing and says so.
func (s *Service) Deploy(ctx context.Context, name string, spec store.DeploymentSpec) (Outcome, error) {
	if err := ValidName("deployment", name); err != nil {
		return Outcome{}, err
	}
	if err := ValidateSpec(spec); err != nil {
		return Outcome{}, err
	}
	spec, err := Normalize(spec)
	if err != nil {
		return Outcome{}, err
	}
	v, err := s.store.CreateDeployment(ctx, name, spec, conflictCheck(spec.Target))
	if errors.Is(err, store.ErrExists) {
		if cur, gerr := s.store.GetDeployment(ctx, name); gerr == nil && SameSpec(cur.Current.Spec, s.referred(spec)) {
			return Outcome{Version: cur.Current, Unchanged: true}, nil
		}
	}
	if err != nil {
		return Outcome{Version: v}, storeError(err)
	}
	s.afterWrite(ctx)
	return Outcome{Version: v}, nil
}

// Revise stores a new version with spec (expect is the version it
// replaces), or changes nothing when spec equals the current version.
func (s *Service) Revise(ctx context.Context, name string, expect int, spec store.DeploymentSpec) (Outcome, error) {
	if err := ValidateSpec(spec); err != nil {
		return Outcome{}, err
	}
	spec, err := Normalize(spec)
	if err != nil {
		return Outcome{}, err
	}
	cur, err := s.store.GetDeployment(ctx, name)
	if err != nil {
		return Outcome{}, storeError(err)
	}
	if SameSpec(cur.Current.Spec, s.referred(spec)) {
		return Outcome{Version: cur.Current, Unchanged: true}, nil
	}
	v, err := s.store.AddDeploymentVersion(ctx, name, expect, spec, 0, conflictCheck(spec.Target))
	if err != nil {
		return Outcome{Version: v}, storeError(err)
	}
	s.afterWrite(ctx)
	return Outcome{Version: v}, nil
}

// UnknownHosts lists the target's host names that no agent has reported,
// for a warning: such a deployment waits for them.
func (s *Service) UnknownHosts(ctx context.Context, t store.Target) ([]string, error) {
	if len(t.Hosts) == 0 {
		return nil, nil
	}
	agents, err := s.store.ListAgentRecords(ctx) // host names: no effective configs
	if err != nil {
		return nil, err
	}
	known := LatestPerHost(agents)
	var out []string
	for _, h := range t.Hosts {
		if _, ok := known[h]; !ok {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out, nil
}
