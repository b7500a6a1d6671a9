package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A raw config is a user's own phoenix-otelcol YAML, deployed instead of a
// template (Spec.Config). It is checked by ValidateRaw and delivered as the
// very bytes the user gave: its hash is the hash of those bytes, the same at
// every render, version and rollback.
//
// Secrets: a raw config never carries a destination secret in clear. Phoenix
// refuses it rather than rewriting the user's YAML: a credential-looking
// header (authorization, api-key, token, ...), a tls key_pem, a password in
// an endpoint URL must be a ${env:NAME} reference to the agent host's
// environment, or the deployment must use a template, whose --header values
// are sealed by the server. A raw config may refer only to ${env:NAME}
// (no ${file:...}, ${http:...}, ...) and not to the agent's own variables
// (PHOENIX_*, where its credential and Phoenix's sealed secrets live),
// except PHOENIX_HOST_NAME.

// RawPipelineName is the phoenix.pipeline label of a raw config's figures
// when it runs as an experiment variant.
const RawPipelineName = "raw"

// ValidateRaw checks a raw config: everything ValidateYAML checks, then the
// secret and reference rules above. nil when it finds nothing.
func ValidateRaw(data []byte) []Problem {
	if ps := ValidateYAML(data); len(ps) > 0 {
		return ps
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return []Problem{{Line: 1, Column: 1, Message: "invalid YAML"}}
	}
	var ps []Problem
	walkScalars(doc.Content[0], "", func(n *yaml.Node, path string) {
		if p, bad := badReference(n, path); bad {
			ps = append(ps, p)
		}
	})
	ps = append(ps, secretProblems(doc.Content[0])...)
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Column < ps[j].Column
	})
	return ps
}

// walkScalars calls f on every scalar value (not keys) with its dotted path.
func walkScalars(n *yaml.Node, path string, f func(*yaml.Node, string)) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkScalars(n.Content[i+1], joinPath(path, n.Content[i].Value), f)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, fmt.Sprintf("%s[%d]", path, i), f)
		}
	case yaml.ScalarNode:
		f(n, path)
	}
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

var (
	anyRef     = regexp.MustCompile(`\$\{([^}]*)\}`)
	allowedRef = regexp.MustCompile(`^env:[A-Za-z_][A-Za-z0-9_]*$`)
)

// badReference refuses confmap references other than ${env:NAME} and the
// agent's own variables.
func badReference(n *yaml.Node, path string) (Problem, bool) {
	for _, m := range anyRef.FindAllStringSubmatch(n.Value, -1) {
		ref := m[1]
		if !allowedRef.MatchString(ref) {
			return Problem{Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(
				"reference ${%s} is not allowed in a raw config: only ${env:NAME}, a variable of the agent host's environment (file, http and yaml providers could read the agent's own files)", ref)}, true
		}
		name := strings.TrimPrefix(ref, "env:")
		if strings.HasPrefix(name, "PHOENIX_") && name != EnvHostName {
			return Problem{Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(
				"${env:%s}: the PHOENIX_ variables are the agent's own (its credential, sealed secrets); a raw config may use only ${env:%s} of them", name, EnvHostName)}, true
		}
	}
	return Problem{}, false
}

// credentialHeader matches header names that carry credentials.
var credentialHeader = regexp.MustCompile(`(?i)(auth|token|key|secret|passw|cookie|credential|signature)`)

// authScheme is the scheme word a credential value may start with.
var authScheme = regexp.MustCompile(`(?i)^\s*(bearer|basic|token|apikey|api-key|splunk|dsn)\s+`)

// secretFields are settings of an exporter or extension whose value is a
// secret wherever they appear.
var secretFields = map[string]bool{"key_pem": true, "password": true, "bearer_token": true, "api_key": true, "client_secret": true, "token": true}

// secretProblems finds literal secrets in the exporters and extensions.
func secretProblems(root *yaml.Node) []Problem {
	var ps []Problem
	for i := 0; i+1 < len(root.Content); i += 2 {
		kind := root.Content[i].Value
		if kind != KindExporter && kind != KindExtension {
			continue
		}
		sec := root.Content[i+1]
		if sec.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(sec.Content); j += 2 {
			ps = append(ps, secretsIn(sec.Content[j+1], kind+"."+sec.Content[j].Value)...)
		}
	}
	return ps
}

func secretsIn(n *yaml.Node, path string) []Problem {
	var ps []Problem
	literal := func(v *yaml.Node) bool {
		rest := anyRef.ReplaceAllString(v.Value, "")
		rest = authScheme.ReplaceAllString(rest, "")
		return strings.TrimSpace(rest) != ""
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := joinPath(path, k.Value)
		switch {
		case k.Value == "headers" && v.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				hk, hv := v.Content[j], v.Content[j+1]
				if hv.Kind == yaml.ScalarNode && credentialHeader.MatchString(hk.Value) && literal(hv) {
					ps = append(ps, Problem{Line: hv.Line, Column: hv.Column, Path: joinPath(p, hk.Value), Message: fmt.Sprintf(
						"header %q looks like a credential and its value is written in clear: refer to the agent host's environment (%s: \"Bearer ${env:MY_TOKEN}\"), or deploy a template with --header, whose values the server seals", hk.Value, hk.Value)})
				}
			}
		case secretFields[k.Value] && v.Kind == yaml.ScalarNode && literal(v):
			ps = append(ps, Problem{Line: v.Line, Column: v.Column, Path: p, Message: fmt.Sprintf(
				"%s is a secret written in clear: refer to the agent host's environment as ${env:NAME} (or use key_file/a file on the host)", k.Value)})
		case k.Value == "endpoint" && v.Kind == yaml.ScalarNode:
			if u, err := url.Parse(v.Value); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					ps = append(ps, Problem{Line: v.Line, Column: v.Column, Path: p, Message: "the endpoint URL carries a password in clear: put credentials in a header that refers to ${env:NAME}"})
				}
			}
		case v.Kind == yaml.MappingNode:
			ps = append(ps, secretsIn(v, p)...)
		}
	}
	return ps
}

// rawError is the error of a raw config that does not pass ValidateRaw.
func rawError(data []byte) error {
	if ps := ValidateRaw(data); len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

// renderRaw returns the raw config as it is delivered: its own bytes.
func renderRaw(spec Spec) (Rendered, error) {
	if err := rawOnly(spec); err != nil {
		return Rendered{}, err
	}
	if err := rawError([]byte(spec.Config)); err != nil {
		return Rendered{}, err
	}
	return Rendered{YAML: []byte(spec.Config), SHA256: sha256Hex([]byte(spec.Config))}, nil
}

// rawOnly refuses a spec that mixes a raw config with template settings.
func rawOnly(spec Spec) error {
	switch {
	case spec.Template != "":
		return &ParamError{Param: "config", Reason: "give a template or a raw config, not both"}
	case len(spec.Params) > 0:
		return &ParamError{Param: "params", Reason: "a raw config takes no template parameters: edit the YAML instead"}
	case spec.Destination.Type != "" || spec.Destination.Endpoint != "" || len(spec.Destination.Headers) > 0:
		return &ParamError{Param: "destination", Reason: "a raw config has its own exporters: give no destination"}
	case spec.Input != (Input{}):
		return &ParamError{Param: "input", Reason: "a raw config has its own receivers: give no input"}
	}
	return nil
}

// addRawPipeline adds a raw config's metrics pipeline as an experiment
// variant: its processors and exporters are renamed into the variant
// (filter/drop -> filter/candidate/drop), its receivers are replaced by the
// experiment's one receiver (identical input for every variant), and the
// variant's resource attributes and cardinality processors are added around
// its processors. Its own receivers, extensions and telemetry settings are
// not used. It must have exactly one pipeline, a metrics one.
func (c *config) addRawPipeline(spec Spec, variant, experimentID string) error {
	if spec.Template != "" {
		return &ParamError{Param: "config", Reason: "give a template or a raw config, not both"}
	}
	if len(spec.Params) > 0 {
		return &ParamError{Param: "params", Reason: "a raw config takes no template parameters: edit the YAML instead"}
	}
	if err := rawError([]byte(spec.Config)); err != nil {
		return err
	}
	var m struct {
		Processors map[string]any `yaml:"processors"`
		Exporters  map[string]any `yaml:"exporters"`
		Service    struct {
			Pipelines map[string]struct {
				Processors []string `yaml:"processors"`
				Exporters  []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(spec.Config), &m); err != nil {
		return &ParamError{Param: "config", Reason: err.Error()}
	}
	if len(m.Service.Pipelines) != 1 {
		return &ParamError{Param: "config", Reason: fmt.Sprintf("has %d pipelines; as an experiment variant a raw config must have exactly one, a metrics pipeline (both variants read the experiment's one receiver)", len(m.Service.Pipelines))}
	}
	var pname string
	for k := range m.Service.Pipelines {
		pname = k
	}
	if typ, _, _ := strings.Cut(pname, "/"); typ != "metrics" {
		return &ParamError{Param: "config", Reason: fmt.Sprintf("pipeline %q is not a metrics pipeline: an experiment compares process metrics", pname)}
	}
	p := m.Service.Pipelines[pname]
	rename := func(cid string) string {
		typ, name, _ := strings.Cut(cid, "/")
		if name == "" {
			name = "raw"
		}
		return id(typ, variant, name)
	}
	c.intervals[variant] = ""
	var chain []string
	add := func(cid string, cfg any) {
		c.processors[cid] = cfg
		chain = append(chain, cid)
	}
	add(id("resource", variant, "phoenix"), c.resourceProcessor(variant, experimentID))
	critical := defaultCritical()
	card := func(stage string) map[string]any {
		return map[string]any{"pipeline": RawPipelineName, "stage": stage, "critical_processes": toAny(critical),
			"variant": variant, "experiment_id": experimentID}
	}
	add(id("cardinality", variant, "in"), card("input"))
	for _, pid := range p.Processors {
		cfg := m.Processors[pid]
		if cfg == nil {
			cfg = map[string]any{}
		}
		add(rename(pid), cfg)
	}
	add(id("cardinality", variant, "out"), card("output"))
	var exps []any
	for _, eid := range p.Exporters {
		cfg := m.Exporters[eid]
		if cfg == nil {
			cfg = map[string]any{}
		}
		c.exporters[rename(eid)] = cfg
		exps = append(exps, rename(eid))
	}
	c.pipelines["metrics/"+variant] = map[string]any{
		"receivers":  []any{c.receiverID},
		"processors": toAny(chain),
		"exporters":  exps,
	}
	return nil
}

// defaultCritical is the catalog's default critical_processes, which the
// cardinality processors of a raw variant count.
func defaultCritical() []string {
	ts := catalog()
	if len(ts) == 0 {
		return nil
	}
	p, _ := ts[0].Param("critical_processes")
	l, _ := p.Default.([]string)
	return l
}

// title names a spec in a config's header comment.
func (s Spec) title() string {
	if s.Config != "" {
		return "a raw config"
	}
	return s.Template
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ValidateRawVariant checks a raw config as an experiment variant: what
// ValidateRaw checks, and the one metrics pipeline a variant must be.
func ValidateRawVariant(config string) error {
	_, err := RenderExperiment(ExperimentSpec{ID: "validation", Baseline: Spec{Template: TemplateBaseline}, Candidate: Spec{Config: config}}, Context{HostNameFromEnv: true})
	var pe *ParamError
	if errors.As(err, &pe) {
		return errors.New(pe.Reason)
	}
	return err
}
