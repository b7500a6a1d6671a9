package deployment

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

// EmptyConfigHash identifies the empty remote config: what a host gets when
// its deployment is deleted. The agent then runs its minimal safe config
// (no data pipelines, only its own telemetry and health check).
var EmptyConfigHash = SHA256Hex(nil)

// SHA256Hex is the hex sha256 of b: how a config is identified.
func SHA256Hex(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// Desired is a host's desired state: what it should run and why.
type Desired struct {
	Deployment string
	Version    int
	// Spec is the deployment's current spec (nil without a deployment);
	// the experiment layer takes its baseline and destination from it.
	Spec *store.DeploymentSpec
	// Experiment names the experiment that covers the host, if any.
	Experiment string
	YAML       []byte
	Hash       string // hex sha256 of YAML; "" = nothing to run
	Err        string // the config could not be rendered
	Conflicts  []string
}

// Layer is one link of a host's desired state after its deployment: the
// chain is deployment -> experiment -> load simulation. A layer gets what the
// links before it produced and returns it, changed or not. It must be cheap
// (it runs on every agent message) and must not block.
type Layer interface {
	Apply(host string, labels map[string]string, d Desired) Desired
}

// LayerFunc adapts a function to Layer.
type LayerFunc func(host string, labels map[string]string, d Desired) Desired

// Apply calls f.
func (f LayerFunc) Apply(host string, labels map[string]string, d Desired) Desired {
	return f(host, labels, d)
}

// SetLayers sets the links after the deployment, in order (experiment, then
// load simulation).
func (s *Service) SetLayers(layers ...Layer) {
	s.layerMu.Lock()
	s.layers = layers
	s.layerMu.Unlock()
}

// Desired computes a host's desired state: its deployment, then each layer.
func (s *Service) Desired(host string, labels map[string]string) Desired {
	out := s.deploymentDesired(host, labels)
	s.layerMu.RLock()
	layers := s.layers
	s.layerMu.RUnlock()
	for _, l := range layers {
		out = l.Apply(host, labels, out)
	}
	return out
}

func (s *Service) deploymentDesired(host string, labels map[string]string) Desired {
	d, conflicts := Assign(s.Snapshot(), host, labels)
	if d == nil {
		return Desired{}
	}
	spec := d.Current.Spec
	out := Desired{Deployment: d.Name, Version: d.Version, Spec: &spec, Conflicts: conflicts}
	r, err := s.renders.render(d)
	if err != nil {
		out.Err = fmt.Sprintf("deployment %q version %d does not render for host %q: %v", d.Name, d.Version, host, err)
		return out
	}
	out.YAML, out.Hash = r.YAML, r.SHA256
	return out
}

// Assign picks the deployment of an agent among those whose target matches
// it. Overlaps are refused when deployments are written, but an agent that
// appears later (new host, changed labels) may match two: the oldest wins,
// and the others are reported as conflicts.
func Assign(deps []store.Deployment, host string, labels map[string]string) (*store.Deployment, []string) {
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

// PipelinesSpec is the catalog's view of a deployment spec.
func PipelinesSpec(spec store.DeploymentSpec) pipelines.Spec {
	return pipelines.Spec{
		Template: spec.Template,
		Config:   spec.Config,
		Params:   spec.Params,
		Destination: pipelines.Destination{
			Type: spec.Destination.Type, Endpoint: spec.Destination.Endpoint,
			Headers: spec.Destination.Headers, Insecure: spec.Destination.Insecure,
		},
	}
}

// RenderContext is how a deployment version is rendered: once for all its
// hosts, the host name coming from each agent's environment
// (${env:PHOENIX_HOST_NAME}), so every host of a version gets the same bytes
// and the same hash.
func RenderContext(name string, version int) pipelines.Context {
	return pipelines.Context{HostNameFromEnv: true, DeploymentID: name, DeploymentVersion: version}
}

// renderCache holds one render per (deployment, version). Entries of
// versions that are no longer current are dropped on reload; nothing is
// re-rendered while its inputs stay the same.
type renderCache struct {
	mu sync.Mutex
	m  map[renderKey]renderEntry
}

type renderKey struct {
	name    string
	version int
}

type renderEntry struct {
	r   pipelines.Rendered
	err error
}

func newRenderCache() *renderCache {
	return &renderCache{m: map[renderKey]renderEntry{}}
}

// keep drops the entries of every version not in deps.
func (c *renderCache) keep(deps []store.Deployment) {
	cur := make(map[renderKey]bool, len(deps))
	for _, d := range deps {
		cur[renderKey{d.Name, d.Version}] = true
	}
	c.mu.Lock()
	for k := range c.m {
		if !cur[k] {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// size is the number of cached renders (tests).
func (c *renderCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// LabelsKey is a canonical string of a label set (map order does not count).
func LabelsKey(labels map[string]string) string {
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

func (c *renderCache) render(d *store.Deployment) (pipelines.Rendered, error) {
	key := renderKey{d.Name, d.Version}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return e.r, e.err
	}
	r, err := pipelines.Render(PipelinesSpec(d.Current.Spec), RenderContext(d.Name, d.Version))
	if err == nil {
		// Identify the config by the bytes we send, whatever the renderer says.
		r.SHA256 = SHA256Hex(r.YAML)
	}
	c.mu.Lock()
	c.m[key] = renderEntry{r, err}
	c.mu.Unlock()
	return r, err
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
			if len(target.Selector) > 0 && LabelsKey(target.Selector) == LabelsKey(ot.Selector) {
				return &store.ConflictError{Deployment: o.Name, Reason: "it has the same selector " + ot.String()}
			}
		}
		return nil
	}
}
