package pipelines

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/components/processor/adaptivefilterprocessor"
	"github.com/phoenix-otel/phoenix/components/processor/cardinalityprocessor"
	"github.com/phoenix-otel/phoenix/components/processor/topkprocessor"
	"github.com/phoenix-otel/phoenix/components/receiver/loadgenreceiver"
)

// MaxConfigBytes bounds the collector YAML that ValidateYAML (and the
// server's POST /api/v1/validate) reads. Real configs are a few KiB; the
// bound keeps a mistaken 50 MB file from taking gigabytes to parse.
const MaxConfigBytes = 1 << 20

// phoenixFactories are the Phoenix components' own factories: their default
// config, unmarshalled the way the collector does it and checked with their
// own Validate(), is what makes the local check agree with phoenix-otelcol.
var phoenixFactories = map[string]map[string]component.Factory{
	KindProcessor: {
		"topk":            topkprocessor.NewFactory(),
		"adaptive_filter": adaptivefilterprocessor.NewFactory(),
		"cardinality":     cardinalityprocessor.NewFactory(),
	},
	KindReceiver: {
		"loadgen": loadgenreceiver.NewFactory(),
	},
}

var invalidKeysRe = regexp.MustCompile(`has invalid keys: (.*)$`)

// checkPhoenixComponent unmarshals one Phoenix component's settings as
// the collector does (unknown keys refused) and runs its Validate(). Both
// are reported: an unknown key does not hide a bad value.
func (v *validator) checkPhoenixComponent(kind, typ string, key, settings *yaml.Node) {
	f, ok := phoenixFactories[kind][typ]
	if !ok {
		return
	}
	raw := map[string]any{}
	if settings.Kind == yaml.MappingNode {
		if err := settings.Decode(&raw); err != nil {
			return // the structural checks report it
		}
	}
	if hasExpansion(raw) {
		return // ${env:...} is resolved by the collector at start, not here
	}
	path := kind + "." + key.Value
	conf := confmap.NewFromStringMap(raw)
	cfg := f.CreateDefaultConfig()
	if err := conf.Unmarshal(cfg); err != nil {
		m := invalidKeysRe.FindStringSubmatch(err.Error())
		if m == nil {
			v.add(key, path, "%s", unmarshalMessage(err))
			return
		}
		for _, k := range strings.Split(m[1], ", ") {
			at := childKey(settings, k)
			if at == nil {
				at = key
			}
			v.add(at, path+"."+k, "unknown setting %q of %s (phoenix-otelcol refuses it)", k, typ)
		}
		cfg = f.CreateDefaultConfig()
		if err := conf.Unmarshal(cfg, confmap.WithIgnoreUnused()); err != nil {
			v.add(key, path, "%s", unmarshalMessage(err))
			return
		}
	}
	if err := confmap.Validate(cfg); err != nil {
		for _, e := range splitJoined(err) {
			v.add(key, path, "invalid %s settings: %v", typ, e)
		}
	}
}

func unmarshalMessage(err error) string {
	return "cannot decode the settings: " + strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):\n\n")
}

// splitJoined lists the errors an errors.Join holds.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []error{err}
}

func childKey(n *yaml.Node, name string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i]
		}
	}
	return nil
}

func hasExpansion(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "${")
	case map[string]any:
		for _, e := range x {
			if hasExpansion(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasExpansion(e) {
				return true
			}
		}
	}
	return false
}

// ErrConfigTooLarge is returned (as a Problem) for a config over MaxConfigBytes.
var ErrConfigTooLarge = errors.New("config too large")

func tooLarge(n int) Problem {
	return Problem{Line: 1, Column: 1, Message: fmt.Sprintf("the config is %d bytes, over the limit of %d bytes (%d MiB): %v", n, MaxConfigBytes, MaxConfigBytes>>20, ErrConfigTooLarge)}
}
