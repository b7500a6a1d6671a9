package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// deploysConfig reports whether an experiment in this status runs its
// pipelines on its hosts.
func deploysConfig(status string) bool {
	return status == api.ExperimentDeploying || status == api.ExperimentWarmingUp || status == api.ExperimentRunning
}

// apply puts a written record into this replica's cache.
func (m *Manager) apply(r *record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(r.Name)
	if !deploysConfig(r.Status) {
		return
	}
	c := *r
	m.active[r.Name] = &c
	for _, h := range r.Hosts {
		m.byHost[h.Host] = r.Name
	}
}

func (m *Manager) forget(name string) {
	m.mu.Lock()
	m.forgetLocked(name)
	m.mu.Unlock()
}

func (m *Manager) forgetLocked(name string) {
	if old, ok := m.active[name]; ok {
		for _, h := range old.Hosts {
			if m.byHost[h.Host] == name {
				delete(m.byHost, h.Host)
			}
		}
		delete(m.active, name)
	}
}

// Reload rebuilds the cache from the store (at start, and on another
// replica's change); it returns the hosts whose experiment changed.
func (m *Manager) Reload(ctx context.Context) ([]string, error) {
	recs, err := m.cfg.Store.ListExperiments(ctx, true)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	before := map[string]string{}
	for h, n := range m.byHost {
		before[h] = n + fmt.Sprint(m.active[n].revision, m.active[n].Status)
	}
	m.active, m.byHost = map[string]*record{}, map[string]string{}
	for _, rec := range recs {
		var r record
		if json.Unmarshal(rec.Record, &r) != nil || !deploysConfig(r.Status) {
			continue
		}
		r.revision = rec.Revision
		m.active[r.Name] = &r
		for _, h := range r.Hosts {
			m.byHost[h.Host] = r.Name
		}
	}
	var changed []string
	for h, n := range m.byHost {
		if before[h] != n+fmt.Sprint(m.active[n].revision, m.active[n].Status) {
			changed = append(changed, h)
		}
		delete(before, h)
	}
	for h := range before {
		changed = append(changed, h)
	}
	m.mu.Unlock()
	return changed, nil
}

// Layer is the experiment link of a host's desired state: on a host of an
// experiment that is deploying, warming up or running, every variant runs
// side by side on the host's one receiver.
func (m *Manager) Layer() deployment.Layer {
	return deployment.LayerFunc(m.applyLayer)
}

func (m *Manager) applyLayer(host string, labels map[string]string, d deployment.Desired) deployment.Desired {
	m.mu.RLock()
	name, ok := m.byHost[host]
	var r *record
	if ok {
		r = m.active[name]
	}
	m.mu.RUnlock()
	if r == nil || d.Err != "" {
		return d
	}
	rd, err := m.renderWith(r, host, labels, d)
	d.Experiment = r.Name
	if err != nil {
		d.Err = fmt.Sprintf("experiment %q does not render for host %q: %v", r.Name, host, err)
		return d
	}
	d.YAML, d.Hash = rd.YAML, rd.SHA256
	return d
}

// renderFor renders an experiment for a host with its current deployment.
func (m *Manager) renderFor(r *record, host string, labels map[string]string) (pipelines.Rendered, error) {
	base := m.cfg.Deployments.Desired(host, labels)
	return m.renderWith(r, host, labels, base)
}

func (m *Manager) renderWith(r *record, host string, labels map[string]string, base deployment.Desired) (pipelines.Rendered, error) {
	var dest store.Destination
	var baseSpec store.DeploymentSpec
	if base.Spec != nil {
		dest, baseSpec = base.Spec.Destination, *base.Spec
	}
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%s\x00%s", r.Name, r.revision, host, deployment.LabelsKey(labels), base.Hash)
	m.mu.RLock()
	cached, ok := m.renders[key]
	m.mu.RUnlock()
	if ok {
		return cached, nil
	}
	spec := func(v api.Variant) pipelines.Spec {
		if v.Config != "" {
			return pipelines.Spec{Config: v.Config} // its own exporters
		}
		return deployment.PipelinesSpec(store.DeploymentSpec{Template: v.Template, Params: v.Params, Destination: dest})
	}
	b := r.Variants[0]
	var bs pipelines.Spec
	if b.Template == "" && b.Config == "" {
		if base.Spec == nil {
			return pipelines.Rendered{}, fieldErr("baseline", fmt.Sprintf("host %q has no deployment to serve as the baseline: give baseline.template", host))
		}
		bs = deployment.PipelinesSpec(baseSpec)
	} else {
		bs = spec(b)
	}
	es := pipelines.ExperimentSpec{ID: r.Name, Baseline: bs}
	// Sampled more often than the processors' default window: one window
	// per sample, so no two samples repeat one window's figures.
	if iv, err := time.ParseDuration(r.Interval); err == nil && iv > 0 && iv < time.Minute {
		es.Window = iv.String()
	}
	for i, v := range r.Variants[1:] {
		if i == 0 {
			es.Candidate = spec(v)
			continue
		}
		es.More = append(es.More, pipelines.NamedSpec{Variant: v.Name, Spec: spec(v)})
	}
	// Candidates other than the first are rendered under their own name; the
	// first is always "candidate" in the config, whatever the user called it.
	rd, err := pipelines.RenderExperiment(es, pipelines.Context{HostName: host, Labels: labels, DeploymentID: r.Name, DeploymentVersion: 1})
	if err != nil {
		return rd, deployment.RenderError(err)
	}
	rd.SHA256 = deployment.SHA256Hex(rd.YAML)
	m.mu.Lock()
	if len(m.renders) > 4096 {
		m.renders = map[string]pipelines.Rendered{}
	}
	m.renders[key] = rd
	m.mu.Unlock()
	return rd, nil
}

// configVariant is the variant name the collector reports for a variant.
func configVariant(r *record, i int) string {
	switch i {
	case 0:
		return pipelines.VariantBaseline
	case 1:
		return pipelines.VariantCandidate
	}
	return r.Variants[i].Name
}

func fieldErr(field, detail string) error { return domainerr.Invalidf(field, "%s", detail) }
