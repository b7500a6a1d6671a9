package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/opamp-server/deployment"
	"github.com/phoenix-otel/phoenix/opamp-server/domainerr"
	"github.com/phoenix-otel/phoenix/opamp-server/store"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// Defaults of an experiment (documented in opamp-server/docs/api.md).
const (
	DefaultDuration          = 30 * time.Minute
	DefaultWarmup            = time.Minute
	DefaultInterval          = time.Minute
	DefaultMinReductionPct   = 20
	DefaultMaxCPUIncreasePct = 50
	DefaultAlpha             = 0.05
	DefaultMinSamples        = 10
	// DefaultPricePerMillionDataPoints and DefaultPricePerActiveSeries are
	// list-price orders of magnitude of hosted metrics back ends, in USD.
	DefaultPricePerMillionDataPoints = 0.10
	DefaultPricePerActiveSeries      = 0.002
	// MaxCandidates is how many candidates may run beside the baseline.
	MaxCandidates = 4
)

// Config wires a Manager.
type Config struct {
	Store       store.Store
	Deployments *deployment.Service
	// Holder names this replica for the analysis lease.
	Holder string
	// MinInterval is the finest own-metrics resolution: no sample interval
	// may be shorter.
	MinInterval time.Duration
	// HostsChanged is told the hosts whose desired state changed.
	HostsChanged func(ctx context.Context, hosts []string)
	// Publish announces an experiment (experiment.updated).
	Publish func(api.Experiment)
	// Load starts and stops an experiment's load simulations; nil refuses
	// experiments with a load_sim.
	Load   Load
	Logger *slog.Logger
	Now    func() time.Time
}

// Load runs the synthetic load simulation of an experiment's host.
type Load interface {
	// CheckLoad validates a load simulation without starting it; a bad
	// field is a *domainerr.Invalid naming it under "load_sim.".
	CheckLoad(l api.ExperimentLoad) error
	StartLoad(ctx context.Context, host string, l api.ExperimentLoad) (job string, err error)
	StopLoad(ctx context.Context, job string) error
}

// loadProfiles are the built-in profiles an experiment may name (a custom
// profile needs a file: start it with phoenix loadsim instead).
var loadProfiles = []string{"realistic", "high-cardinality", "process-churn"}

// Manager runs the experiments.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu      sync.RWMutex
	active  map[string]*record // by name
	byHost  map[string]string  // host -> active experiment name
	renders map[string]pipelines.Rendered
}

// record is an experiment as stored.
type record struct {
	api.Experiment
	revision int
	// StartedRunning is when the measured phase began.
	RunningSince time.Time `json:"running_since,omitzero"`
	WarmingSince time.Time `json:"warming_since,omitzero"`
	// NextInterval is the next sample interval to collect.
	NextInterval int `json:"next_interval"`
	// BeforeCollected: the collector figures before the experiment are stored.
	BeforeCollected bool `json:"before_collected,omitempty"`
}

// New makes a Manager.
func New(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HostsChanged == nil {
		cfg.HostsChanged = func(context.Context, []string) {}
	}
	if cfg.Publish == nil {
		cfg.Publish = func(api.Experiment) {}
	}
	return &Manager{cfg: cfg, log: cfg.Logger, active: map[string]*record{}, byHost: map[string]string{}, renders: map[string]pipelines.Rendered{}}
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC() }

func parseDur(field, s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, domainerr.Invalidf(field, "%s %q: want a positive Go duration such as 90s, 10m or 1h", field, s)
	}
	return d, nil
}

// validateVariant checks a variant: a template with its parameters, or a
// raw config (prefix names the field, "candidate.").
func validateVariant(prefix string, v api.Variant) error {
	if v.Config != "" {
		if v.Template != "" || len(v.Params) > 0 {
			return domainerr.Invalidf(prefix+"config", "give %stemplate (with params) or %sconfig, not both", prefix, prefix)
		}
		if err := deployment.ValidateConfig(prefix, store.DeploymentSpec{Config: v.Config}); err != nil {
			return err
		}
		if err := pipelines.ValidateRawVariant(v.Config); err != nil {
			return domainerr.Invalidf(prefix+"config", "as an experiment variant: %v", err)
		}
		return nil
	}
	return deployment.ValidateTemplate(prefix, v.Template, v.Params, store.Destination{})
}

func storeDest(d api.Destination) store.Destination {
	return store.Destination{Type: d.Type, Endpoint: d.Endpoint, Headers: d.Headers, Insecure: d.Insecure}
}

// Create validates a request and stores a pending experiment (started at
// once when req.Start). Nothing is stored when anything is wrong.
func (m *Manager) Create(ctx context.Context, req api.ExperimentRequest) (api.Experiment, error) {
	if err := deployment.ValidName("experiment", req.Name); err != nil {
		return api.Experiment{}, err
	}
	target := store.Target{Hosts: req.Target.Hosts, Selector: req.Target.Selector}
	if err := deployment.ValidateTarget("target", target); err != nil {
		return api.Experiment{}, err
	}
	var variants []api.Variant
	if req.Baseline != nil {
		b := *req.Baseline
		if b.Name != "" && b.Name != pipelines.VariantBaseline {
			return api.Experiment{}, domainerr.Invalidf("baseline.name", "the baseline is called %q; leave the name out", pipelines.VariantBaseline)
		}
		b.Name = pipelines.VariantBaseline
		if err := validateVariant("baseline.", b); err != nil {
			return api.Experiment{}, err
		}
		variants = append(variants, b)
	} else {
		variants = append(variants, api.Variant{Name: pipelines.VariantBaseline}) // each host's deployment
	}
	cands := req.Candidates
	if req.Candidate != nil {
		cands = append([]api.Variant{*req.Candidate}, cands...)
	}
	if len(cands) == 0 {
		return api.Experiment{}, domainerr.Invalidf("candidate", "an experiment needs a candidate: give candidate.template (GET /api/v1/catalog lists them)")
	}
	if len(cands) > MaxCandidates {
		return api.Experiment{}, domainerr.Invalidf("candidates", "%d candidates: at most %d may run beside the baseline", len(cands), MaxCandidates)
	}
	seen := map[string]bool{pipelines.VariantBaseline: true}
	for i, c := range cands {
		field := fmt.Sprintf("candidates[%d]", i)
		if req.Candidate != nil {
			field = "candidate"
			if i > 0 {
				field = fmt.Sprintf("candidates[%d]", i-1)
			}
		}
		if c.Name == "" {
			c.Name = pipelines.VariantCandidate
			if i > 0 {
				c.Name = fmt.Sprintf("candidate%d", i+1)
			}
		}
		if seen[c.Name] || !labelOK(c.Name) {
			return api.Experiment{}, domainerr.Invalidf(field+".name", "variant name %q is taken or not a name (lower-case letters, digits and '-')", c.Name)
		}
		seen[c.Name] = true
		if err := validateVariant(field+".", c); err != nil {
			return api.Experiment{}, err
		}
		variants = append(variants, c)
	}
	dur, err := parseDur("duration", req.Duration, DefaultDuration)
	if err != nil {
		return api.Experiment{}, err
	}
	warm, err := parseDur("warmup", req.Warmup, DefaultWarmup)
	if err != nil && req.Warmup != "0s" && req.Warmup != "0" {
		return api.Experiment{}, err
	}
	if req.Warmup == "0s" || req.Warmup == "0" {
		warm = 0
	}
	iv, err := parseDur("interval", req.Interval, DefaultInterval)
	if err != nil {
		return api.Experiment{}, err
	}
	if m.cfg.MinInterval > 0 && iv < m.cfg.MinInterval {
		return api.Experiment{}, domainerr.Invalidf("interval", "interval %s is shorter than the server's finest metrics resolution %s (phoenix-server --metric-resolutions sets it, e.g. 10s/2h,1m/24h,15m/336h)", iv, m.cfg.MinInterval)
	}
	if iv > dur {
		return api.Experiment{}, domainerr.Invalidf("interval", "interval %s is longer than the duration %s", iv, dur)
	}
	c := req.Criteria
	if c.MinReductionPct == 0 {
		c.MinReductionPct = DefaultMinReductionPct
	}
	if c.MaxCPUIncreasePct == 0 {
		c.MaxCPUIncreasePct = DefaultMaxCPUIncreasePct
	}
	if c.CriticalRetentionPct == 0 {
		c.CriticalRetentionPct = 100
	}
	if c.CriticalRetentionPct != 100 {
		return api.Experiment{}, domainerr.Invalidf("criteria.critical_retention_pct", "critical retention must be 100%%: a candidate may never lose a critical process")
	}
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	if c.Alpha <= 0 || c.Alpha >= 0.5 {
		return api.Experiment{}, domainerr.Invalidf("criteria.alpha", "alpha %g: want a significance level between 0 and 0.5", c.Alpha)
	}
	if c.MinSamples == 0 {
		c.MinSamples = DefaultMinSamples
	}
	if c.MinSamples < 3 {
		return api.Experiment{}, domainerr.Invalidf("criteria.min_samples", "min_samples %d: at least 3 paired intervals are needed for any test", c.MinSamples)
	}
	if c.MinReductionPct < 0 || c.MinReductionPct > 100 {
		return api.Experiment{}, domainerr.Invalidf("criteria.min_reduction_pct", "min_reduction_pct %g: want 0 to 100", c.MinReductionPct)
	}
	p := req.Prices
	if p.PerMillionDataPoints == 0 {
		p.PerMillionDataPoints = DefaultPricePerMillionDataPoints
	}
	if p.PerActiveSeries == 0 {
		p.PerActiveSeries = DefaultPricePerActiveSeries
	}
	if p.Currency == "" {
		p.Currency = "USD"
	}
	if p.PerMillionDataPoints < 0 || p.PerActiveSeries < 0 {
		return api.Experiment{}, domainerr.Invalidf("prices", "prices cannot be negative")
	}
	if l := req.LoadSim; l != nil {
		ok := false
		for _, p := range loadProfiles {
			ok = ok || p == l.Profile
		}
		switch {
		case m.cfg.Load == nil:
			return api.Experiment{}, domainerr.Invalidf("load_sim", "this server runs no load simulations")
		case !ok:
			return api.Experiment{}, domainerr.Invalidf("load_sim.profile", "load profile %q: want one of %s", l.Profile, strings.Join(loadProfiles, ", "))
		case l.ProcessCount < 0 || l.ChurnRate < 0:
			return api.Experiment{}, domainerr.Invalidf("load_sim", "process_count and churn_rate cannot be negative")
		}
		if err := m.cfg.Load.CheckLoad(*l); err != nil {
			return api.Experiment{}, err
		}
	}
	hosts, err := m.resolveHosts(ctx, target)
	if err != nil {
		return api.Experiment{}, err
	}
	if err := m.checkHostsFree(ctx, req.Name, hosts); err != nil {
		return api.Experiment{}, err
	}
	// Every host's config must render with every variant before anything is stored.
	for _, h := range hosts {
		if _, err := m.renderFor(&record{Experiment: api.Experiment{Name: req.Name, Variants: variants}}, h.Host, h.labels); err != nil {
			return api.Experiment{}, err
		}
	}
	now := m.now()
	e := api.Experiment{Name: req.Name, Status: api.ExperimentPending, Target: req.Target, Variants: variants,
		Duration: dur.String(), Warmup: warm.String(), Interval: iv.String(), Criteria: c, Prices: p, LoadSim: req.LoadSim, CreatedAt: now,
		Transitions: []api.Transition{{Status: api.ExperimentPending, At: now, By: m.cfg.Holder}}}
	for _, h := range hosts {
		e.Hosts = append(e.Hosts, api.ExperimentHost{Host: h.Host, AgentUID: h.AgentUID})
	}
	r := &record{Experiment: e}
	if err := m.put(ctx, r, 0); err != nil {
		if errors.Is(err, store.ErrVersionConflict) {
			return api.Experiment{}, &domainerr.Conflict{Title: "Already exists", Field: "name", Detail: fmt.Sprintf("experiment %q already exists; delete it or choose another name", req.Name)}
		}
		return api.Experiment{}, err
	}
	if req.Start {
		e, err := m.Start(ctx, req.Name)
		if err != nil { // a refused create-and-start leaves nothing behind
			_ = m.cfg.Store.DeleteExperiment(ctx, req.Name)
			m.forget(req.Name)
		}
		return e, err
	}
	return r.Experiment, nil
}

func labelOK(s string) bool {
	return deployment.ValidName("variant", s) == nil
}

type hostRef struct {
	api.ExperimentHost
	labels map[string]string
}

// resolveHosts finds the agents a target chooses now.
func (m *Manager) resolveHosts(ctx context.Context, t store.Target) ([]hostRef, error) {
	agents, err := m.cfg.Store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	latest := deployment.LatestPerHost(agents)
	var out []hostRef
	for _, name := range sortedHosts(latest) {
		a := latest[name]
		if t.Matches(a.HostName, a.Labels) {
			out = append(out, hostRef{ExperimentHost: api.ExperimentHost{Host: a.HostName, AgentUID: a.InstanceUID}, labels: a.Labels})
		}
	}
	for i, h := range t.Hosts {
		if _, ok := latest[h]; !ok {
			return nil, domainerr.Invalidf(fmt.Sprintf("target.hosts[%d]", i), "no agent has reported host %q; GET /api/v1/hosts lists the known hosts", h)
		}
	}
	if len(out) == 0 {
		return nil, domainerr.Invalidf("target", "the target %s matches no known host", t.String())
	}
	return out, nil
}

func sortedHosts(m map[string]store.Agent) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkHostsFree refuses hosts that another active experiment holds.
func (m *Manager) checkHostsFree(ctx context.Context, name string, hosts []hostRef) error {
	recs, err := m.cfg.Store.ListExperiments(ctx, true)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Name == name {
			continue
		}
		var other record
		if json.Unmarshal(rec.Record, &other) != nil {
			continue
		}
		for _, oh := range other.Hosts {
			for _, h := range hosts {
				if oh.Host == h.Host {
					return &domainerr.Conflict{Title: "Host in another experiment", Field: "target",
						Detail: fmt.Sprintf("host %q is already in experiment %q (%s): a host runs one experiment at a time; stop or delete it first", h.Host, other.Name, other.Status),
						Extra:  map[string]any{"conflicting_experiment": other.Name, "host": h.Host}}
				}
			}
		}
	}
	return nil
}

func (m *Manager) put(ctx context.Context, r *record, expect int) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	rec := store.ExperimentRecord{Name: r.Name, Status: r.Status, Active: r.Active(), CreatedAt: r.CreatedAt, Record: b}
	if err := m.cfg.Store.PutExperiment(ctx, rec, expect); err != nil {
		return err
	}
	r.revision = expect + 1
	m.apply(r)
	return nil
}

func (m *Manager) load(ctx context.Context, name string) (*record, error) {
	rec, err := m.cfg.Store.GetExperiment(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, domainerr.NotFoundf("no experiment %q; GET /api/v1/experiments lists them", name)
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(rec.Record, &r); err != nil {
		return nil, fmt.Errorf("experiment %q: stored record: %w", name, err)
	}
	r.revision = rec.Revision
	return &r, nil
}

// update reads, changes and writes an experiment, retrying a lost race.
func (m *Manager) update(ctx context.Context, name string, f func(r *record) error) (*record, error) {
	for range 5 {
		r, err := m.load(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := f(r); err != nil {
			return nil, err
		}
		err = m.put(ctx, r, r.revision)
		if errors.Is(err, store.ErrVersionConflict) {
			continue
		}
		return r, err
	}
	return nil, &domainerr.Conflict{Title: "Version conflict", Detail: fmt.Sprintf("experiment %q changed while it was being written; retry", name)}
}

func (m *Manager) transition(r *record, status, reason string) {
	r.Status, r.Reason = status, reason
	r.Transitions = append(r.Transitions, api.Transition{Status: status, At: m.now(), Reason: reason, By: m.cfg.Holder})
}

// Get reads an experiment.
func (m *Manager) Get(ctx context.Context, name string) (api.Experiment, error) {
	r, err := m.load(ctx, name)
	if err != nil {
		return api.Experiment{}, err
	}
	return m.view(ctx, r), nil
}

func (m *Manager) view(ctx context.Context, r *record) api.Experiment {
	e := r.Experiment
	if ss, err := m.cfg.Store.ListExperimentSamples(ctx, r.Name); err == nil {
		e.Samples = countIntervals(ss)
	}
	return e
}

// List lists the experiments, newest first.
func (m *Manager) List(ctx context.Context) ([]api.Experiment, error) {
	recs, err := m.cfg.Store.ListExperiments(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]api.Experiment, 0, len(recs))
	for _, rec := range recs {
		var r record
		if json.Unmarshal(rec.Record, &r) == nil {
			out = append(out, r.Experiment)
		}
	}
	return out, nil
}

// Start moves a pending experiment to deploying: it notes each host's
// current config (to return it there) and renders the experiment for it.
func (m *Manager) Start(ctx context.Context, name string) (api.Experiment, error) {
	agents, err := m.cfg.Store.ListAgents(ctx)
	if err != nil {
		return api.Experiment{}, err
	}
	latest := deployment.LatestPerHost(agents)
	cur, err := m.load(ctx, name)
	if err != nil {
		return api.Experiment{}, err
	}
	if cur.Status != api.ExperimentPending {
		return api.Experiment{}, &domainerr.Conflict{Title: "Not pending", Detail: fmt.Sprintf("experiment %q is %s: only a pending experiment can start", name, cur.Status)}
	}
	jobs := map[string]string{}
	if cur.LoadSim != nil && m.cfg.Load != nil {
		for _, h := range cur.Hosts {
			id, err := m.cfg.Load.StartLoad(ctx, h.Host, *cur.LoadSim)
			if err != nil {
				for _, j := range jobs {
					_ = m.cfg.Load.StopLoad(ctx, j)
				}
				return api.Experiment{}, err
			}
			jobs[h.Host] = id
		}
	}
	r, err := m.update(ctx, name, func(r *record) error {
		if r.Status != api.ExperimentPending {
			return &domainerr.Conflict{Title: "Not pending", Detail: fmt.Sprintf("experiment %q is %s: only a pending experiment can start", name, r.Status)}
		}
		var refs []hostRef
		for _, h := range r.Hosts {
			refs = append(refs, hostRef{ExperimentHost: h})
		}
		if err := m.checkHostsFree(ctx, name, refs); err != nil {
			return err
		}
		for i := range r.Hosts {
			h := &r.Hosts[i]
			a := latest[h.Host]
			h.AgentUID = a.InstanceUID
			base := m.cfg.Deployments.Desired(h.Host, a.Labels)
			h.Deployment = base.Deployment
			h.LoadJob = jobs[h.Host]
			h.PreviousHash = a.RemoteHash
			if a.RemoteStatus != store.RemoteApplied || a.RemoteHash == "" {
				h.PreviousHash = base.Hash
			}
		}
		m.transition(r, api.ExperimentDeploying, "")
		return nil
	})
	if err != nil {
		for _, j := range jobs {
			_ = m.cfg.Load.StopLoad(ctx, j)
		}
		return api.Experiment{}, err
	}
	m.cfg.HostsChanged(ctx, hostNames(r))
	return r.Experiment, nil
}

// stopLoad ends an experiment's load simulations (best effort: a job that
// already ended is fine).
func (m *Manager) stopLoad(ctx context.Context, r *record) {
	if m.cfg.Load == nil || r == nil {
		return
	}
	for _, h := range r.Hosts {
		if h.LoadJob != "" {
			if err := m.cfg.Load.StopLoad(ctx, h.LoadJob); err != nil {
				m.log.Warn("experiment: stop load simulation", "experiment", r.Name, "job", h.LoadJob, "err", err)
			}
		}
	}
}

func hostNames(r *record) []string {
	out := make([]string, len(r.Hosts))
	for i, h := range r.Hosts {
		out[i] = h.Host
	}
	return out
}

// Stop ends an active experiment: every host returns to the config it ran before.
func (m *Manager) Stop(ctx context.Context, name string) (api.Experiment, error) {
	r, err := m.update(ctx, name, func(r *record) error {
		if !r.Active() {
			return &domainerr.Conflict{Title: "Not active", Detail: fmt.Sprintf("experiment %q is already %s", name, r.Status)}
		}
		m.transition(r, api.ExperimentStopped, "stopped by request")
		return nil
	})
	if err != nil {
		return api.Experiment{}, err
	}
	m.stopLoad(ctx, r)
	m.cfg.HostsChanged(ctx, hostNames(r))
	return r.Experiment, nil
}

// ErrRunning refuses deleting an active experiment without force.
var ErrRunning = errors.New("experiment is active")

// Delete removes an experiment and its samples. An active one needs force
// (the CLI's --yes); its hosts return to their previous config.
func (m *Manager) Delete(ctx context.Context, name string, force bool) error {
	r, err := m.load(ctx, name)
	if err != nil {
		return err
	}
	if r.Active() && !force {
		return &domainerr.Conflict{Title: "Experiment is active", Field: "yes",
			Detail: fmt.Sprintf("experiment %q is %s: deleting it stops it on %d host(s); confirm with ?force=true (CLI: --yes)", name, r.Status, len(r.Hosts))}
	}
	if err := m.cfg.Store.DeleteExperiment(ctx, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return domainerr.NotFoundf("no experiment %q", name)
		}
		return err
	}
	m.forget(name)
	m.stopLoad(ctx, r)
	m.cfg.HostsChanged(ctx, hostNames(r))
	return nil
}

// Promote makes a variant the hosts' deployment, as a new version of each
// host's deployment (or a new deployment named after the experiment when a
// host had none); the experiment's other pipelines disappear.
func (m *Manager) Promote(ctx context.Context, name string, req api.PromoteRequest) (api.Experiment, error) {
	r, err := m.load(ctx, name)
	if err != nil {
		return api.Experiment{}, err
	}
	var v *api.Variant
	var names []string
	for i := range r.Variants {
		names = append(names, r.Variants[i].Name)
		if r.Variants[i].Name == req.Variant {
			v = &r.Variants[i]
		}
	}
	if req.Variant == "" {
		return api.Experiment{}, domainerr.Invalidf("variant", "variant is required: one of %s", strings.Join(names, ", "))
	}
	if v == nil {
		return api.Experiment{}, &domainerr.Invalid{Field: "variant", Detail: fmt.Sprintf("experiment %q has no variant %q; its variants are %s", name, req.Variant, strings.Join(names, ", ")),
			Extra: map[string]any{"variants": names}}
	}
	switch {
	case r.Status == api.ExperimentPromoted:
		return api.Experiment{}, &domainerr.Conflict{Title: "Already promoted", Detail: fmt.Sprintf("experiment %q was already promoted (variant %s)", name, r.Promoted.Variant)}
	case r.Status == api.ExperimentPending || r.Status == api.ExperimentFailed:
		return api.Experiment{}, &domainerr.Conflict{Title: "Cannot promote", Field: "variant", Detail: fmt.Sprintf("experiment %q is %s: nothing measured to promote", name, r.Status)}
	case r.Status != api.ExperimentCompleted && !req.Force:
		return api.Experiment{}, &domainerr.Conflict{Title: "Not completed", Field: "force",
			Detail: fmt.Sprintf("experiment %q is %s, not completed: promote it after it completes, or give force (CLI: --force)", name, r.Status)}
	}
	if v.Template == "" && v.Config == "" {
		return api.Experiment{}, domainerr.Invalidf("variant", "variant %q is the hosts' own deployment: nothing to promote; stop the experiment instead", v.Name)
	}
	// One new version per deployment the hosts had; hosts without one get
	// a deployment named after the experiment.
	byDep := map[string][]string{}
	for _, h := range r.Hosts {
		byDep[h.Deployment] = append(byDep[h.Deployment], h.Host)
	}
	var prom api.Promotion
	for _, dep := range sortedKeys(byDep) {
		if dep == "" {
			spec := store.DeploymentSpec{Template: v.Template, Config: v.Config, Params: v.Params, Target: store.Target{Hosts: byDep[dep]}}
			dv, err := m.cfg.Deployments.Create(ctx, name, spec)
			if err != nil {
				return api.Experiment{}, err
			}
			prom = api.Promotion{Deployment: name, Version: dv.Version}
			continue
		}
		d, err := m.cfg.Deployments.Get(ctx, dep)
		if err != nil {
			return api.Experiment{}, err
		}
		spec := d.Current.Spec
		spec.Template, spec.Params, spec.Config = v.Template, v.Params, v.Config
		if v.Config != "" {
			spec.Destination = store.Destination{} // a raw config has its own exporters
		}
		dv, err := m.cfg.Deployments.Update(ctx, dep, d.Version, spec)
		if err != nil {
			return api.Experiment{}, err
		}
		prom = api.Promotion{Deployment: dep, Version: dv.Version}
	}
	prom.Variant, prom.At, prom.Forced = v.Name, m.now(), r.Status != api.ExperimentCompleted
	out, err := m.update(ctx, name, func(r *record) error {
		r.Promoted = &prom
		m.transition(r, api.ExperimentPromoted, fmt.Sprintf("variant %s is now deployment %s version %d", prom.Variant, prom.Deployment, prom.Version))
		return nil
	})
	if err != nil {
		return api.Experiment{}, err
	}
	m.stopLoad(ctx, out)
	m.cfg.HostsChanged(ctx, hostNames(out))
	return out.Experiment, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func countIntervals(ss []store.ExperimentSample) int {
	seen := map[int]bool{}
	for _, s := range ss {
		if s.Interval < 0 {
			continue // before the experiment
		}
		seen[s.Interval] = true
	}
	return len(seen)
}
