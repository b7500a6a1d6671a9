package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// emptyConfigHash identifies the empty remote config: what a host gets when
// its deployment is deleted. The agent then runs its minimal safe config
// (no data pipelines, only its own telemetry and health check).
var emptyConfigHash = hex.EncodeToString(sha256New(nil))

func sha256New(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

// ConfigFileName is the key of the rendered config in the OpAMP config map.
const ConfigFileName = "phoenix.yaml"

// desired is an agent's desired state: what it should run and why.
type desired struct {
	Deployment string
	Version    int
	YAML       []byte
	Hash       string // hex sha256 of YAML; "" = nothing to run
	Err        string // the config could not be rendered
	Conflicts  []string
}

// Experiment and load simulation are later issues; desiredFor leaves them
// room: deployment + experiment + load simulation -> one config.
type desiredInputs struct {
	Deployment *store.Deployment
	// Experiment *Experiment   // later: rendered with pipelines.RenderExperiment
	// LoadSim    *pipelines.LoadSim // later: applied with pipelines.WithLoadSim
}

// assign picks the deployment of an agent among those whose target matches
// it. Overlaps are refused when deployments are written, but an agent that
// appears later (new host, changed labels) may match two: the oldest wins,
// and the others are reported as conflicts.
func assign(deps []store.Deployment, host string, labels map[string]string) (*store.Deployment, []string) {
	var chosen *store.Deployment
	var conflicts []string
	for i := range deps {
		d := &deps[i]
		if !d.Current.Spec.Target.Matches(host, labels) {
			continue
		}
		if chosen == nil {
			chosen = d
			continue
		}
		if d.CreatedAt.Before(chosen.CreatedAt) || (d.CreatedAt.Equal(chosen.CreatedAt) && d.Name < chosen.Name) {
			conflicts = append(conflicts, chosen.Name)
			chosen = d
		} else {
			conflicts = append(conflicts, d.Name)
		}
	}
	sort.Strings(conflicts)
	return chosen, conflicts
}

func pipelinesSpec(spec store.DeploymentSpec) pipelines.Spec {
	return pipelines.Spec{
		Template: spec.Template,
		Params:   spec.Params,
		Destination: pipelines.Destination{
			Type: spec.Destination.Type, Endpoint: spec.Destination.Endpoint,
			Headers: spec.Destination.Headers, Insecure: spec.Destination.Insecure,
		},
	}
}

// renderCache memoises renders per (deployment, version, host, labels): an
// agent's desired state is computed on every message it sends.
type renderCache struct {
	mu sync.Mutex
	m  map[string]pipelines.Rendered
	e  map[string]error
}

func newRenderCache() *renderCache {
	return &renderCache{m: map[string]pipelines.Rendered{}, e: map[string]error{}}
}

func (c *renderCache) reset() {
	c.mu.Lock()
	c.m, c.e = map[string]pipelines.Rendered{}, map[string]error{}
	c.mu.Unlock()
}

func labelsKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}

func (c *renderCache) render(d *store.Deployment, host string, labels map[string]string) (pipelines.Rendered, error) {
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%s", d.Name, d.Version, host, labelsKey(labels))
	c.mu.Lock()
	r, ok := c.m[key]
	err := c.e[key]
	c.mu.Unlock()
	if ok || err != nil {
		return r, err
	}
	r, err = pipelines.Render(pipelinesSpec(d.Current.Spec), pipelines.Context{
		HostName: host, Labels: labels, DeploymentID: d.Name, DeploymentVersion: d.Version,
	})
	if err == nil {
		// Identify the config by the bytes we send, whatever the renderer says.
		r.SHA256 = hex.EncodeToString(sha256New(r.YAML))
	}
	c.mu.Lock()
	if err != nil {
		c.e[key] = err
	} else {
		c.m[key] = r
	}
	c.mu.Unlock()
	return r, err
}

// desiredFor computes an agent's desired state from the deployments.
func (f *fleet) desiredFor(host string, labels map[string]string) desired {
	deps := f.deploymentsSnapshot()
	in := desiredInputs{}
	d, conflicts := assign(deps, host, labels)
	in.Deployment = d
	if in.Deployment == nil {
		return f.withLoadSim(host, desired{})
	}
	out := desired{Deployment: d.Name, Version: d.Version, Conflicts: conflicts}
	r, err := f.renders.render(d, host, labels)
	if err != nil {
		out.Err = fmt.Sprintf("deployment %q version %d does not render for host %q: %v", d.Name, d.Version, host, err)
		return out
	}
	out.YAML, out.Hash = r.YAML, r.SHA256
	return f.withLoadSim(host, out)
}

// conflictCheck refuses a target that overlaps another deployment: the same
// host name, an identical selector, or an agent that both would choose.
func conflictCheck(target store.Target) store.ConflictCheck {
	return func(others []store.Deployment, agents []store.Agent) error {
		for _, o := range others {
			ot := o.Current.Spec.Target
			var hosts []string
			seen := map[string]bool{}
			for _, h := range target.Hosts {
				for _, oh := range ot.Hosts {
					if h == oh && !seen[h] {
						hosts, seen[h] = append(hosts, h), true
					}
				}
			}
			for _, a := range agents {
				if target.Matches(a.HostName, a.Labels) && ot.Matches(a.HostName, a.Labels) && !seen[a.HostName] {
					hosts, seen[a.HostName] = append(hosts, a.HostName), true
				}
			}
			if len(hosts) > 0 {
				sort.Strings(hosts)
				return &store.ConflictError{Deployment: o.Name, Hosts: hosts}
			}
			if len(target.Selector) > 0 && labelsKey(target.Selector) == labelsKey(ot.Selector) {
				return &store.ConflictError{Deployment: o.Name, Reason: "it has the same selector " + ot.String()}
			}
		}
		return nil
	}
}
