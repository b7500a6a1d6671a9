package pipelines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a collector config. Line and Column are
// 1-based; Path is the dotted path of the offending key ("" for the
// document).
type Problem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	loc := fmt.Sprintf("line %d, column %d", p.Line, p.Column)
	if p.Path != "" {
		return fmt.Sprintf("%s (%s): %s", loc, p.Path, p.Message)
	}
	return loc + ": " + p.Message
}

// ValidationError carries the problems ValidateYAML found, for callers that
// want an error.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var s []string
	for _, p := range e.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "; ")
}

// Component kinds of a collector config.
const (
	KindReceiver  = "receivers"
	KindProcessor = "processors"
	KindExporter  = "exporters"
	KindExtension = "extensions"
	KindConnector = "connectors"
)

// Components lists the component types phoenix-otelcol has, by kind,
// canonical names first, then the deprecated aliases the collector still
// loads. A test checks it against `phoenix-otelcol components`.
var Components = map[string][]string{
	KindReceiver: {"host_metrics", "loadgen", "otlp",
		"hostmetrics"},
	KindProcessor: {"adaptive_filter", "attributes", "batch", "cardinality", "cumulative_to_delta", "filter", "groupbyattrs",
		"memory_limiter", "metrics_transform", "resource", "topk", "transform",
		"cumulativetodelta", "metricstransform"},
	KindExporter: {"debug", "nop", "otlp_grpc", "otlp_http", "prometheus_remote_write",
		"otlp", "otlphttp", "prometheusremotewrite"},
	KindExtension: {"file_storage", "health_check", "pprof"},
	KindConnector: {},
}

var pipelineTypes = []string{"traces", "metrics", "logs", "profiles"}

// ValidateYAML checks a user's own collector config without running
// anything: YAML syntax (with line and column), the top-level sections, that
// every component type exists in phoenix-otelcol, that every pipeline has a
// receiver and an exporter and references only defined components, that
// the service's extensions are defined, and that every Phoenix component's
// settings unmarshal as the collector does (unknown keys refused) and pass
// the component's own Validate(). Input over MaxConfigBytes is refused
// unread. It returns nil when it finds nothing;
// ValidateWithBinary is the final word.
func ValidateYAML(data []byte) []Problem {
	if len(data) > MaxConfigBytes {
		return []Problem{tooLarge(len(data))}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return []Problem{{Line: 1, Column: 1, Message: "the config is empty"}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []Problem{syntaxProblem(data, err)}
	}
	if len(doc.Content) == 0 {
		return []Problem{{Line: 1, Column: 1, Message: "the config is empty"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return []Problem{{Line: root.Line, Column: root.Column, Message: "the config must be a mapping of receivers, processors, exporters, extensions, connectors and service"}}
	}
	v := &validator{defined: map[string]map[string]*yaml.Node{}}
	v.check(root)
	sort.SliceStable(v.problems, func(i, j int) bool {
		a, b := v.problems[i], v.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return v.problems
}

var yamlLineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// syntaxProblem positions a YAML syntax error. go.yaml.in/yaml (what the
// collector parses with) says only the line; goccy/go-yaml's parser gives
// the column, so its position is used when it finds the error too.
func syntaxProblem(data []byte, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{Line: 1, Column: 1, Message: "invalid YAML: " + msg}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = "invalid YAML: " + m[2]
	}
	if _, gerr := goccyparser.ParseBytes(data, 0); gerr != nil {
		var se *goccy.SyntaxError
		if errors.As(gerr, &se) && se.Token != nil && se.Token.Position != nil {
			p.Line, p.Column = se.Token.Position.Line, se.Token.Position.Column
		}
	}
	return p
}

type validator struct {
	problems []Problem
	// defined: kind -> component id -> its key node
	defined map[string]map[string]*yaml.Node
}

func (v *validator) add(n *yaml.Node, path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) check(root *yaml.Node) {
	var service, serviceKey *yaml.Node
	sections := []string{KindReceiver, KindProcessor, KindExporter, KindExtension, KindConnector}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := root.Content[i], root.Content[i+1]
		switch {
		case k.Value == "service":
			service, serviceKey = val, k
		case slices.Contains(sections, k.Value):
			v.section(k.Value, val)
		default:
			v.add(k, k.Value, "unknown top-level key %q (want one of %s, service)", k.Value, strings.Join(sections, ", "))
		}
	}
	if service == nil {
		v.add(root, "service", "missing the service section (service::pipelines wires the components)")
		return
	}
	if service.Kind != yaml.MappingNode {
		v.add(serviceKey, "service", "service must be a mapping")
		return
	}
	var pipelines *yaml.Node
	for i := 0; i+1 < len(service.Content); i += 2 {
		k, val := service.Content[i], service.Content[i+1]
		switch k.Value {
		case "pipelines":
			pipelines = val
		case "extensions":
			v.refs(val, "service.extensions", KindExtension)
		case "telemetry":
		default:
			v.add(k, "service."+k.Value, "unknown key %q in service (want pipelines, extensions, telemetry)", k.Value)
		}
	}
	if pipelines == nil || pipelines.Kind != yaml.MappingNode || len(pipelines.Content) == 0 {
		n := serviceKey
		if pipelines != nil {
			n = pipelines
		}
		v.add(n, "service.pipelines", "no pipelines: a config needs at least one pipeline under service::pipelines")
		return
	}
	for i := 0; i+1 < len(pipelines.Content); i += 2 {
		k, val := pipelines.Content[i], pipelines.Content[i+1]
		v.pipeline(k, val)
	}
}

func (v *validator) section(kind string, n *yaml.Node) {
	v.defined[kind] = map[string]*yaml.Node{}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		v.add(n, kind, "%s must be a mapping of component IDs to their settings", kind)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := kind + "." + k.Value
		if _, dup := v.defined[kind][k.Value]; dup {
			v.add(k, path, "%s %q is defined twice", strings.TrimSuffix(kind, "s"), k.Value)
		}
		v.defined[kind][k.Value] = k
		typ, _, _ := strings.Cut(k.Value, "/")
		if !slices.Contains(Components[kind], typ) {
			known := Components[kind]
			if len(known) == 0 {
				v.add(k, path, "phoenix-otelcol has no %s", kind)
			} else {
				v.add(k, path, "unknown %s type %q: phoenix-otelcol has %s", strings.TrimSuffix(kind, "s"), typ, strings.Join(known, ", "))
			}
		}
		if val.Kind != yaml.MappingNode && !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
			v.add(val, path, "the settings of %q must be a mapping (or empty for the defaults)", k.Value)
			continue
		}
		v.checkPhoenixComponent(kind, typ, k, val)
	}
}

// refs checks a list of component IDs against the defined ones.
func (v *validator) refs(n *yaml.Node, path, kind string, alsoKinds ...string) int {
	if n.Kind != yaml.SequenceNode {
		v.add(n, path, "%s must be a list of component IDs", path)
		return 0
	}
	seen := map[string]bool{}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			v.add(item, path, "%s must list component IDs", path)
			continue
		}
		if seen[item.Value] {
			v.add(item, path, "%q is listed twice", item.Value)
		}
		seen[item.Value] = true
		found := v.defined[kind][item.Value] != nil
		for _, k := range alsoKinds {
			found = found || v.defined[k][item.Value] != nil
		}
		if !found {
			what := strings.TrimSuffix(kind, "s")
			v.add(item, path, "%s %q is not defined (add it under %s)", what, item.Value, kind)
		}
	}
	return len(n.Content)
}

func (v *validator) pipeline(k, n *yaml.Node) {
	path := "service.pipelines." + k.Value
	typ, _, _ := strings.Cut(k.Value, "/")
	if !slices.Contains(pipelineTypes, typ) {
		v.add(k, path, "unknown pipeline type %q (want %s, optionally followed by /name)", typ, strings.Join(pipelineTypes, ", "))
	}
	if n.Kind != yaml.MappingNode {
		v.add(k, path, "pipeline %q must be a mapping of receivers, processors and exporters", k.Value)
		return
	}
	counts := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kk, val := n.Content[i], n.Content[i+1]
		p := path + "." + kk.Value
		switch kk.Value {
		case "receivers":
			counts[kk.Value] = v.refs(val, p, KindReceiver, KindConnector)
		case "processors":
			counts[kk.Value] = v.refs(val, p, KindProcessor)
		case "exporters":
			counts[kk.Value] = v.refs(val, p, KindExporter, KindConnector)
		default:
			v.add(kk, p, "unknown key %q in a pipeline (want receivers, processors, exporters)", kk.Value)
		}
	}
	for _, need := range []string{"receivers", "exporters"} {
		if counts[need] == 0 {
			v.add(k, path+"."+need, "pipeline %q has no %s: it is not wired", k.Value, need)
		}
	}
}

// ValidateWithBinary runs `<binary> validate --config=<file>` on the config
// and returns the collector's own error (its output) when it refuses it.
func ValidateWithBinary(ctx context.Context, binary string, data []byte) error {
	if len(data) > MaxConfigBytes {
		return &BinaryValidationError{Output: tooLarge(len(data)).Message}
	}
	dir, err := os.MkdirTemp("", "phoenix-validate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, "validate", "--config="+cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s validate: %w", filepath.Base(binary), ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(strings.ReplaceAll(out.String(), cfg, "config"))
			return &BinaryValidationError{Output: msg}
		}
		return fmt.Errorf("run %s validate: %w", binary, err)
	}
	return nil
}

// BinaryValidationError is the collector refusing a config; Output is what
// it printed.
type BinaryValidationError struct{ Output string }

func (e *BinaryValidationError) Error() string {
	return "phoenix-otelcol validate: " + e.Output
}
