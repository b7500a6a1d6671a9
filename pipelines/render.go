package pipelines

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// Context says who a config is for.
type Context struct {
	// HostName becomes the host.name resource attribute of every resource
	// (resource processor, upsert), so several hosts can share a backend.
	// Empty (and not HostNameFromEnv): the collector's environment names it,
	// ${env:PHOENIX_HOST_NAME:-${env:HOSTNAME:-unknown}} (EnvHostNameChain):
	// phoenix-agent sets PHOENIX_HOST_NAME, a container sets HOSTNAME, and a
	// collector run by hand with neither reports "unknown". The OS host name
	// is not read: phoenix-otelcol leaves out resource_detection, whose
	// cloud and Kubernetes SDKs were 64% of the binary's code.
	HostName string `json:"host_name,omitempty"`
	// HostNameFromEnv renders host.name as ${env:PHOENIX_HOST_NAME}
	// (EnvHostName), which phoenix-agent sets in its collector's
	// environment, instead of HostName: the config is then the same bytes on
	// every host of a deployment version, so one render and one hash serve
	// the whole fleet.
	HostNameFromEnv bool `json:"host_name_from_env,omitempty"`
	// Labels are the agent's labels; they are recorded in the config's
	// header comment, not added to the data (a label change must not
	// change the identity of every series).
	Labels map[string]string `json:"labels,omitempty"`
	// DeploymentID is recorded in the header comment. DeploymentVersion is
	// not rendered: the same spec renders the same bytes at every version, so
	// a rollback to version N returns exactly version N's hash and an
	// identical redeploy changes nothing on the hosts.
	DeploymentID      string `json:"deployment_id,omitempty"`
	DeploymentVersion int    `json:"deployment_version,omitempty"`
}

// EnvHostName is the environment variable phoenix-agent sets to its host
// name for the collector (see Context.HostNameFromEnv).
const EnvHostName = "PHOENIX_HOST_NAME"

// EnvHostNameChain is host.name of a config rendered without a host name:
// PHOENIX_HOST_NAME, else HOSTNAME (set in containers, exported by some
// shells), else "unknown", so a hand-run collector starts and its series
// say plainly that nobody named the host. confmap expands the inner
// reference first.
const EnvHostNameChain = "${env:" + EnvHostName + ":-${env:HOSTNAME:-unknown}}"

// Destination chooses the exporter.
type Destination struct {
	// Type is otlp (gRPC), otlphttp, prometheusremotewrite, debug or none
	// (the default: nothing leaves the collector but its own telemetry).
	// The collector's own names otlp_grpc, otlp_http and
	// prometheus_remote_write are accepted too.
	Type string `json:"type"`
	// Endpoint: host:port or a URL for otlp, a URL for otlphttp (the
	// exporter appends /v1/metrics), the full write URL for
	// prometheusremotewrite.
	Endpoint string `json:"endpoint,omitempty"`
	// Headers are sent with every export. A value may reference an
	// environment variable of the agent's host as ${env:NAME}, so a token
	// need not pass through Phoenix.
	Headers map[string]string `json:"headers,omitempty"`
	// Insecure turns TLS off (plain text) for otlp and prometheusremotewrite.
	Insecure bool `json:"insecure,omitempty"`
}

// Destination types.
const (
	DestOTLP       = "otlp"
	DestOTLPHTTP   = "otlphttp"
	DestPromRW     = "prometheusremotewrite"
	DestDebug      = "debug"
	DestNone       = "none"
	InputHost      = "hostmetrics"
	InputLoadGen   = "loadgen"
	defaultVariant = ""
)

// DestinationTypes lists the destination types.
func DestinationTypes() []string {
	return []string{DestOTLP, DestOTLPHTTP, DestPromRW, DestDebug, DestNone}
}

// Input chooses the receiver.
type Input struct {
	// Mode is "hostmetrics" (the default: the real process scraper) or
	// "loadgen" (synthetic processes only, from LoadGen).
	Mode    string   `json:"mode,omitempty"`
	LoadGen *LoadSim `json:"loadgen,omitempty"`
}

// LoadSim is a load simulation: the loadgen receiver's profile and run.
type LoadSim struct {
	// Profile is realistic, high-cardinality, process-churn or custom.
	Profile string `json:"profile"`
	// ProfileYAML is the YAML of a custom profile, sent inline to the
	// loadgen receiver (its profile_yaml setting).
	ProfileYAML string `json:"profile_yaml,omitempty"`
	// ProfileFile is the path of a custom profile on the agent's host.
	ProfileFile  string        `json:"profile_file,omitempty"`
	ProcessCount int           `json:"process_count,omitempty"`
	ChurnRate    float64       `json:"churn_rate,omitempty"`
	Duration     time.Duration `json:"duration,omitempty"`
	Seed         int64         `json:"seed,omitempty"`
}

// Spec is what a deployment asks for.
type Spec struct {
	Template string `json:"template"`
	// Config is a raw config, the user's own collector YAML, instead of a
	// template (see raw.go): mutually exclusive with Template, Params,
	// Destination and Input.
	Config      string         `json:"config,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
	Destination Destination    `json:"destination"`
	// Input chooses the receiver; zero means the real process scraper.
	Input Input `json:"input,omitzero"`
}

// Rendered is a complete phoenix-otelcol config and the SHA-256 (hex) of its bytes.
type Rendered struct {
	YAML   []byte `json:"yaml"`
	SHA256 string `json:"sha256"`
}

// ExperimentSpec runs two specs side by side on one receiver.
type ExperimentSpec struct {
	ID        string `json:"id"`
	Baseline  Spec   `json:"baseline"`
	Candidate Spec   `json:"candidate"`
	// More are further candidates (up to three more), each a pipeline of its
	// own on the same receiver, named by its variant.
	More []NamedSpec `json:"more,omitempty"`
	// Window, when set, is every cardinality processor's window: an
	// experiment sampled more often than the default window (1m) needs a
	// window per sample, or samples would repeat one window's figures.
	Window string `json:"window,omitempty"`
}

// NamedSpec is a further candidate of an experiment: its variant name (a
// label: lower-case letters, digits, '-') and its spec.
type NamedSpec struct {
	Variant string `json:"variant"`
	Spec    Spec   `json:"spec"`
}

// Variant names of an experiment.
const (
	VariantBaseline  = "baseline"
	VariantCandidate = "candidate"
)

// Attribute keys the renderer sets.
const (
	AttrVariant      = "phoenix.variant"
	AttrExperimentID = "phoenix.experiment.id"
	AttrPriority     = "phoenix.process.priority"
	AttrCategory     = "phoenix.process.category"
)

// Component IDs shared by every rendered config.
const (
	idHostMetrics = "host_metrics"
	idLoadGen     = "loadgen"
)

// Render renders one deployment: the template with its parameters, the
// destination and the host context. The same input always gives the same
// bytes.
func Render(spec Spec, ctx Context) (Rendered, error) {
	if spec.Config != "" {
		return renderRaw(spec)
	}
	cfg, err := newConfig(ctx, spec.Input, spec.Params)
	if err != nil {
		return Rendered{}, err
	}
	if err := cfg.addPipeline(spec, defaultVariant, ""); err != nil {
		return Rendered{}, err
	}
	return cfg.render(headerFor(ctx, "template "+spec.Template))
}

// RenderExperiment renders the two variants of an experiment as two pipelines
// fed by ONE receiver, so both see identical input. Each variant has its own
// processors (cardinality ones labelled with the variant and experiment id)
// and its own exporter, and its data carries phoenix.variant and
// phoenix.experiment.id resource attributes.
func RenderExperiment(exp ExperimentSpec, ctx Context) (Rendered, error) {
	if err := checkLabel("experiment.id", exp.ID, true); err != nil {
		return Rendered{}, err
	}
	in := exp.Baseline.Input
	if exp.Candidate.Input != (Input{}) && !sameInput(exp.Candidate.Input, in) {
		return Rendered{}, &ParamError{Param: "candidate.input", Reason: "an experiment has one receiver: the candidate's input must be empty or equal to the baseline's"}
	}
	// The receiver's own settings (collection interval) come from the
	// baseline's parameters (the candidate's when the baseline is raw).
	recvParams := exp.Baseline.Params
	if exp.Baseline.Config != "" {
		recvParams = exp.Candidate.Params
	}
	cfg, err := newConfig(ctx, in, recvParams)
	if err != nil {
		return Rendered{}, prefixErr("baseline", err)
	}
	if err := cfg.addPipeline(exp.Baseline, VariantBaseline, exp.ID); err != nil {
		return Rendered{}, prefixErr("baseline", err)
	}
	if err := cfg.addPipeline(exp.Candidate, VariantCandidate, exp.ID); err != nil {
		return Rendered{}, prefixErr("candidate", err)
	}
	// No variant's collection_interval may differ from the receiver's:
	// every pipeline shares it.
	if err := cfg.checkInterval(exp.Candidate.Template, VariantCandidate); err != nil {
		return Rendered{}, err
	}
	for _, m := range exp.More {
		if _, used := cfg.intervals[m.Variant]; m.Variant == VariantBaseline || m.Variant == VariantCandidate || used {
			return Rendered{}, &ParamError{Param: "more.variant", Reason: fmt.Sprintf("variant name %q is used twice", m.Variant)}
		}
		if err := checkLabel("variant", m.Variant, true); err != nil {
			return Rendered{}, err
		}
		if m.Spec.Input != (Input{}) && !sameInput(m.Spec.Input, in) {
			return Rendered{}, &ParamError{Param: m.Variant + ".input", Reason: "an experiment has one receiver: every variant's input must be empty or equal to the baseline's"}
		}
		if err := cfg.addPipeline(m.Spec, m.Variant, exp.ID); err != nil {
			return Rendered{}, prefixErr(m.Variant, err)
		}
		if err := cfg.checkInterval(m.Spec.Template, m.Variant); err != nil {
			return Rendered{}, err
		}
	}
	if exp.Window != "" {
		for pid, p := range cfg.processors {
			if m, ok := p.(map[string]any); ok && (pid == "cardinality" || strings.HasPrefix(pid, "cardinality/")) {
				m["window"] = exp.Window
			}
		}
	}
	return cfg.render(headerFor(ctx, fmt.Sprintf("experiment %s: baseline %s, candidate %s", exp.ID, exp.Baseline.title(), exp.Candidate.title())))
}

func sameInput(a, b Input) bool {
	if a.Mode != b.Mode || (a.LoadGen == nil) != (b.LoadGen == nil) {
		return false
	}
	return a.LoadGen == nil || *a.LoadGen == *b.LoadGen
}

func prefixErr(variant string, err error) error {
	var pe *ParamError
	if errors.As(err, &pe) {
		c := *pe
		if !strings.HasPrefix(c.Param, variant+".") && !strings.HasPrefix(c.Param, "experiment.") {
			c.Param = variant + "." + c.Param
		}
		return &c
	}
	return fmt.Errorf("%s: %w", variant, err)
}

// WithLoadSim adds the loadgen receiver, with the simulation's profile and
// duration, to every metrics pipeline of a rendered config (next to the
// receivers already there), and returns the new config and its hash.
func WithLoadSim(r Rendered, sim LoadSim) (Rendered, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(r.YAML, &doc); err != nil {
		return Rendered{}, fmt.Errorf("rendered config: %w", err)
	}
	var m map[string]any
	if err := doc.Decode(&m); err != nil {
		return Rendered{}, fmt.Errorf("rendered config: %w", err)
	}
	receivers, _ := m["receivers"].(map[string]any)
	service, _ := m["service"].(map[string]any)
	pipes, _ := service["pipelines"].(map[string]any)
	if receivers == nil || len(pipes) == 0 {
		return Rendered{}, errors.New("rendered config: no receivers or no pipelines to add the load simulation to")
	}
	if _, ok := receivers[idLoadGen]; ok {
		return Rendered{}, &ParamError{Param: "load_sim", Reason: "the config already has a loadgen receiver"}
	}
	interval := "10s"
	if hm, ok := receivers[idHostMetrics].(map[string]any); ok {
		if s, ok := hm["collection_interval"].(string); ok {
			interval = s
		}
	}
	lg, err := loadgenConfig(sim, interval)
	if err != nil {
		return Rendered{}, err
	}
	receivers[idLoadGen] = lg
	for _, name := range sortedKeys(pipes) {
		if !strings.HasPrefix(name, "metrics") {
			continue
		}
		p, _ := pipes[name].(map[string]any)
		rs, _ := p["receivers"].([]any)
		p["receivers"] = append(rs, idLoadGen)
	}
	header := headComment(r.YAML) + fmt.Sprintf("# load simulation: profile %s, duration %s\n", sim.Profile, durationOrForever(sim.Duration))
	return marshal(header, m)
}

func durationOrForever(d time.Duration) string {
	if d == 0 {
		return "until stopped"
	}
	return d.String()
}

// headComment returns the leading comment lines of a rendered config.
func headComment(data []byte) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

// loadgenConfig checks a simulation and returns the loadgen receiver config.
func loadgenConfig(sim LoadSim, interval string) (map[string]any, error) {
	bad := func(field, format string, args ...any) error {
		return &ParamError{Param: "load_sim." + field, Reason: fmt.Sprintf(format, args...), Accepted: acceptedLoadSim(field)}
	}
	if sim.ProfileYAML != "" && sim.ProfileFile != "" {
		return nil, bad("profile_yaml", "give profile_yaml or profile_file, not both")
	}
	if sim.ProfileFile != "" {
		if err := checkText(sim.ProfileFile); err != nil {
			return nil, bad("profile_file", "%v", err)
		}
	}
	if sim.Seed < 0 {
		return nil, bad("seed", "must be >= 0, got %d", sim.Seed)
	}
	spec := loadgen.Spec{Profile: sim.Profile, ProfileFile: sim.ProfileFile, ProfileYAML: sim.ProfileYAML, Seed: sim.Seed,
		Overrides: loadgen.Overrides{ProcessCount: sim.ProcessCount, ChurnRate: sim.ChurnRate, Duration: sim.Duration}}
	// A custom profile's file lives on the agent's host: the receiver
	// checks it there. Everything else, an inline profile included, is
	// checked here, with the field.
	if sim.Profile != loadgen.ProfileCustom || sim.ProfileYAML != "" {
		if _, err := loadgen.Resolve(spec); err != nil {
			return nil, &ParamError{Param: "load_sim", Reason: err.Error(), Accepted: acceptedLoadSim("profile")}
		}
	} else if sim.ProfileFile == "" {
		return nil, bad("profile_file", "required when profile is %q (or give profile_yaml)", loadgen.ProfileCustom)
	}
	cfg := map[string]any{
		"collection_interval": interval,
		"profile":             sim.Profile,
		"seed":                max(sim.Seed, 1),
	}
	if sim.ProfileFile != "" {
		cfg["profile_file"] = sim.ProfileFile
	}
	if sim.ProfileYAML != "" {
		cfg["profile_yaml"] = sim.ProfileYAML
	}
	if sim.ProcessCount != 0 {
		cfg["process_count"] = sim.ProcessCount
	}
	if sim.ChurnRate != 0 {
		if math.IsNaN(sim.ChurnRate) || math.IsInf(sim.ChurnRate, 0) {
			return nil, bad("churn_rate", "%v is not a finite number", sim.ChurnRate)
		}
		cfg["churn_rate"] = sim.ChurnRate
	}
	if sim.Duration != 0 {
		cfg["duration"] = sim.Duration.String()
	}
	return cfg, nil
}

func acceptedLoadSim(field string) string {
	switch field {
	case "profile":
		return "profile one of " + strings.Join(loadgen.ProfileNames(), ", ")
	case "profile_file":
		return "a path on the agent's host"
	}
	return ""
}

// config is a collector config being built.
type config struct {
	receivers  map[string]any
	processors map[string]any
	exporters  map[string]any
	pipelines  map[string]any
	receiverID string
	ctx        Context
	// intervals records each variant's collection_interval parameter.
	intervals map[string]string
	// intervalFrom is the variant whose collection_interval the shared
	// receiver took: the first template variant (the baseline, or the
	// first one after raw ones); every other template variant must match it.
	intervalFrom    string
	intervalFromSet bool
}

func newConfig(ctx Context, in Input, params map[string]any) (*config, error) {
	if err := checkLabel("context.host_name", ctx.HostName, false); err != nil {
		return nil, err
	}
	c := &config{
		receivers:  map[string]any{},
		processors: map[string]any{},
		exporters:  map[string]any{},
		pipelines:  map[string]any{},
		ctx:        ctx,
		intervals:  map[string]string{},
	}
	interval := "60s"
	if v, ok := params["collection_interval"]; ok {
		// Checked again, with the template's name, by addPipeline.
		if d, err := coerce("", Param{Name: "collection_interval", Type: TypeDuration}, v); err == nil {
			interval = d.(string)
		}
	}
	switch in.Mode {
	case "", InputHost:
		if in.LoadGen != nil {
			return nil, &ParamError{Param: "input.loadgen", Reason: "only allowed with input mode \"loadgen\" (use WithLoadSim to add a simulation to the real scraper)"}
		}
		c.receiverID = idHostMetrics
		c.receivers[idHostMetrics] = map[string]any{
			"collection_interval": interval,
			"scrapers": map[string]any{
				"process": map[string]any{
					// An unprivileged agent cannot read other users'
					// exe, io or names: mute those per-process errors
					// rather than fail the scrape.
					"mute_process_name_error":   true,
					"mute_process_exe_error":    true,
					"mute_process_io_error":     true,
					"mute_process_user_error":   true,
					"mute_process_cgroup_error": true,
					// A process that exits between the scraper's listing
					// of /proc and its reads fails its cpu/memory reads
					// with ENOENT, and the five switches above do not
					// cover those: every scrape under churn would log
					// "Error scraping metrics" and count errored points
					// (upstream opentelemetry-collector#9262, open; the
					// scraper at v0.160.0 has no not-found handling).
					// This is the only upstream switch that does; it
					// also silences the errors that are not exits.
					"mute_process_all_errors": true,
				},
			},
		}
	case InputLoadGen:
		if in.LoadGen == nil {
			return nil, &ParamError{Param: "input.loadgen", Reason: "required with input mode \"loadgen\" (a profile)", Accepted: acceptedLoadSim("profile")}
		}
		lg, err := loadgenConfig(*in.LoadGen, interval)
		if err != nil {
			return nil, err
		}
		c.receiverID = idLoadGen
		c.receivers[idLoadGen] = lg
	default:
		return nil, &ParamError{Param: "input.mode", Reason: fmt.Sprintf("%q is not an input mode", in.Mode), Accepted: InputHost + ", " + InputLoadGen}
	}
	return c, nil
}

var envRef = regexp.MustCompile(`\$\{env:[A-Za-z_][A-Za-z0-9_]*\}`)

var labelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)

func checkLabel(field, s string, required bool) error {
	if s == "" {
		if required {
			return &ParamError{Param: field, Reason: "required", Accepted: "letters, digits and . _ : / -, at most 128 characters"}
		}
		return nil
	}
	if len(s) > 128 || !labelRe.MatchString(s) {
		return &ParamError{Param: field, Reason: fmt.Sprintf("%q is not a valid name", s), Accepted: "letters, digits and . _ : / -, starting with a letter or digit, at most 128 characters"}
	}
	return nil
}

// id names a component of a variant: "cardinality/in" for a single
// deployment, "cardinality/candidate/in" in an experiment.
func id(typ, variant, name string) string {
	if variant == "" {
		return typ + "/" + name
	}
	return typ + "/" + variant + "/" + name
}

// addPipeline adds one metrics pipeline for spec: the shared head, the
// template's processors, the shared tail, and the exporter.
func (c *config) addPipeline(spec Spec, variant, experimentID string) error {
	if spec.Config != "" {
		if variant == "" {
			return &ParamError{Param: "config", Reason: "a raw config is rendered by Render as it is"}
		}
		return c.addRawPipeline(spec, variant, experimentID)
	}
	t, err := Get(spec.Template)
	if err != nil {
		return err
	}
	return c.addTemplatePipeline(t, spec, variant, experimentID)
}

// checkInterval refuses a template variant whose collection_interval differs
// from the one the shared receiver took (intervalFrom's).
func (c *config) checkInterval(template, variant string) error {
	if !c.intervalFromSet || variant == c.intervalFrom {
		return nil
	}
	ref, ci := c.intervals[c.intervalFrom], c.intervals[variant]
	if ci == "" || ref == "" || ci == ref {
		return nil // a raw variant, or the same interval
	}
	return &ParamError{Template: template, Param: variant + ".collection_interval",
		Reason: fmt.Sprintf("%s differs from the %s's %s, but all variants share one receiver", ci, c.intervalFrom, ref), Accepted: ref}
}

// addTemplatePipeline is addPipeline with the template t.
func (c *config) addTemplatePipeline(t Template, spec Spec, variant, experimentID string) error {
	vals, err := ResolveParams(t, spec.Params)
	if err != nil {
		return err
	}
	v := values(vals)
	c.intervals[variant] = v.str("collection_interval")
	if !c.intervalFromSet {
		// The receiver takes the first template variant's interval.
		c.intervalFrom, c.intervalFromSet = variant, true
		if r, ok := c.receivers[c.receiverID].(map[string]any); ok {
			r["collection_interval"] = v.str("collection_interval")
		}
	}
	pipelineName := "metrics/" + spec.Template
	if variant != "" {
		pipelineName = "metrics/" + variant
	}

	var chain []string
	add := func(id string, cfg map[string]any) {
		c.processors[id] = cfg
		chain = append(chain, id)
	}
	limit := v.int("memory_limit_mib")
	add(id("memory_limiter", variant, "default"), map[string]any{
		"check_interval":  "1s",
		"limit_mib":       limit,
		"spike_limit_mib": max(limit/5, 1),
	})
	add(id("resource", variant, "phoenix"), c.resourceProcessor(variant, experimentID))
	critical := v.list("critical_processes")
	card := func(stage string) map[string]any {
		m := map[string]any{
			"pipeline":           spec.Template,
			"stage":              stage,
			"critical_processes": toAny(critical),
		}
		if variant != "" {
			m["variant"] = variant
			m["experiment_id"] = experimentID
		}
		return m
	}
	add(id("cardinality", variant, "in"), card("input"))
	b := builderFor(t)
	procs, err := b(t, v, variant)
	if err != nil {
		return err
	}
	for _, p := range procs {
		add(p.id, p.cfg)
	}
	add(id("cardinality", variant, "out"), card("output"))
	add(id("batch", variant, "default"), map[string]any{
		"timeout":             v.str("batch_timeout"),
		"send_batch_size":     8192,
		"send_batch_max_size": 16384,
	})

	expID, expCfg, err := exporter(spec.Destination, variant)
	if err != nil {
		return err
	}
	c.exporters[expID] = expCfg
	c.pipelines[pipelineName] = map[string]any{
		"receivers":  []any{c.receiverID},
		"processors": toAny(chain),
		"exporters":  []any{expID},
	}
	return nil
}

func (c *config) resourceProcessor(variant, experimentID string) map[string]any {
	var attrs []any
	switch {
	case c.ctx.HostNameFromEnv:
		attrs = append(attrs, map[string]any{"key": "host.name", "value": "${env:" + EnvHostName + "}", "action": "upsert"})
	case c.ctx.HostName != "":
		attrs = append(attrs, map[string]any{"key": "host.name", "value": c.ctx.HostName, "action": "upsert"})
	default:
		attrs = append(attrs, map[string]any{"key": "host.name", "value": EnvHostNameChain, "action": "upsert"})
	}
	if variant != "" {
		attrs = append(attrs,
			map[string]any{"key": AttrVariant, "value": variant, "action": "upsert"},
			map[string]any{"key": AttrExperimentID, "value": experimentID, "action": "upsert"})
	}
	return map[string]any{"attributes": attrs}
}

// exporter returns the exporter ID and config for a destination.
func exporter(d Destination, variant string) (string, map[string]any, error) {
	bad := func(field, format string, args ...any) error {
		return &ParamError{Param: "destination." + field, Reason: fmt.Sprintf(format, args...), Accepted: acceptedDest(field)}
	}
	name := "phoenix"
	if variant != "" {
		name = variant
	}
	typ := d.Type
	switch typ {
	case "otlp_grpc":
		typ = DestOTLP
	case "otlp_http":
		typ = DestOTLPHTTP
	case "prometheus_remote_write":
		typ = DestPromRW
	case "":
		typ = DestNone
	}
	for _, k := range sortedKeys(d.Headers) {
		if k == "" || strings.ContainsAny(k, " :\t") {
			return "", nil, bad("headers", "invalid header name %q", k)
		}
		// A header may name an environment variable of the agent's host
		// (${env:OTLP_TOKEN}), so a secret need not travel through Phoenix;
		// no other expansion is allowed.
		if err := checkText(envRef.ReplaceAllString(d.Headers[k], "")); err != nil {
			return "", nil, bad("headers", "header %q: %v", k, err)
		}
	}
	if err := checkText(d.Endpoint); err != nil {
		return "", nil, bad("endpoint", "%v", err)
	}
	switch typ {
	case DestDebug, DestNone:
		if d.Endpoint != "" || len(d.Headers) > 0 {
			return "", nil, bad("endpoint", "type %q takes no endpoint or headers", typ)
		}
		if typ == DestDebug {
			return "debug/" + name, map[string]any{"verbosity": "basic"}, nil
		}
		return "nop/" + name, map[string]any{}, nil
	case DestOTLP, DestOTLPHTTP, DestPromRW:
	default:
		return "", nil, bad("type", "%q is not a destination type", d.Type)
	}
	if d.Endpoint == "" {
		return "", nil, bad("endpoint", "required for type %q", typ)
	}
	cfg := map[string]any{"endpoint": d.Endpoint}
	if len(d.Headers) > 0 {
		h := map[string]any{}
		for k, v := range d.Headers {
			h[k] = v
		}
		cfg["headers"] = h
	}
	switch typ {
	case DestOTLP:
		if err := checkGRPCEndpoint(d.Endpoint); err != nil {
			return "", nil, bad("endpoint", "%v", err)
		}
		if d.Insecure {
			cfg["tls"] = map[string]any{"insecure": true}
		}
		return "otlp_grpc/" + name, cfg, nil
	case DestOTLPHTTP:
		if err := checkURL(d.Endpoint); err != nil {
			return "", nil, bad("endpoint", "%v", err)
		}
		if d.Insecure {
			cfg["tls"] = map[string]any{"insecure": true}
		}
		return "otlp_http/" + name, cfg, nil
	default:
		if err := checkURL(d.Endpoint); err != nil {
			return "", nil, bad("endpoint", "%v", err)
		}
		if d.Insecure {
			cfg["tls"] = map[string]any{"insecure": true}
		}
		// A process is a resource, and remote write has no resources: every
		// series carries only its metric's labels unless resource attributes
		// are turned into labels. Without this, all processes collapse into
		// one series per metric (each write overwriting the last process's
		// value) and nothing reports an error. Every resource attribute goes
		// onto every series (host.name, process.pid, executable name,
		// command, command line, owner, phoenix.*), so each process is its
		// own series with no join. The target_info route cannot work here:
		// the exporter emits target_info only for resources with
		// service.name/service.instance.id (job/instance), which process
		// resources do not have, and every query would need a join on it.
		// target_info is off: it would duplicate labels already on every
		// series.
		cfg["resource_constant_labels"] = map[string]any{"included": []any{"*"}}
		cfg["target_info"] = map[string]any{"enabled": false}
		// No otel_scope_name/otel_scope_version labels: the scraper's scope
		// version is the collector's build version, so with them every
		// collector upgrade would replace every series of the host (a bill
		// counts both), and the name is the same long module path on every
		// series. Without them the exporter's conversion cost about a sixth
		// less and the scraper + remote-write floor about 3% less CPU
		// (benchmarks/README.md, "The floor's CPU").
		cfg["disable_scope_info"] = true
		// Memory: the exporter marshals and snappy-encodes each request in
		// its own buffer pair, up to 3 MB and five requests at once by
		// default, and at 500 processes one scrape is about that size. 1 MB
		// requests sent one after another through one reused pair held the
		// collector's anonymous RSS 12-14 MiB lower (39 vs 52 MiB mean on
		// 1,000 loadgen processes at a 5 s scrape), for somewhat more GC
		// (see benchmarks/README.md, "Memory").
		cfg["max_batch_size_bytes"] = 1000000
		cfg["max_batch_request_parallelism"] = 1
		return "prometheus_remote_write/" + name, cfg, nil
	}
}

func acceptedDest(field string) string {
	switch field {
	case "type":
		return strings.Join(DestinationTypes(), ", ")
	case "endpoint":
		return "host:port or a URL for otlp; an http(s) URL for otlphttp and prometheusremotewrite"
	case "headers":
		return "header names without spaces or colons; values without control characters, which may reference the agent host's environment as ${env:NAME}"
	}
	return ""
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return checkPort(u.Port(), s)
}

func checkGRPCEndpoint(s string) error {
	if strings.Contains(s, "://") {
		return checkURL(s)
	}
	host, port, ok := strings.Cut(s, ":")
	if !ok || host == "" || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("%q is not host:port", s)
	}
	return checkPort(port, s)
}

func checkPort(port, s string) error {
	if port == "" {
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be 1 to 65535", s)
	}
	return nil
}

func (c *config) render(header string) (Rendered, error) {
	m := map[string]any{
		"receivers":  c.receivers,
		"processors": c.processors,
		"exporters":  c.exporters,
		"service":    map[string]any{"pipelines": c.pipelines},
	}
	return marshal(header, m)
}

func headerFor(ctx Context, what string) string {
	var b strings.Builder
	b.WriteString("# phoenix-otelcol config rendered by the Phoenix pipeline catalog. Do not edit: redeploy instead.\n")
	fmt.Fprintf(&b, "# %s\n", what)
	if ctx.HostName != "" {
		fmt.Fprintf(&b, "# host: %s\n", ctx.HostName)
	}
	if ctx.DeploymentID != "" {
		fmt.Fprintf(&b, "# deployment: %s\n", oneLine(ctx.DeploymentID))
	}
	if len(ctx.Labels) > 0 {
		var kv []string
		for _, k := range sortedKeys(ctx.Labels) {
			kv = append(kv, oneLine(k)+"="+oneLine(ctx.Labels[k]))
		}
		fmt.Fprintf(&b, "# labels: %s\n", strings.Join(kv, ","))
	}
	return b.String()
}

// oneLine keeps a value from breaking out of its comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func marshal(header string, m map[string]any) (Rendered, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return Rendered{}, err
	}
	if err := enc.Close(); err != nil {
		return Rendered{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return Rendered{YAML: buf.Bytes(), SHA256: hex.EncodeToString(sum[:])}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
