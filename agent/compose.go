package agent

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/internal/agentsecrets"
)

// healthExtensionID is the health_check extension the agent adds to every
// config it runs; its name is reserved.
const healthExtensionID = "health_check/phoenix_agent"

// minimalConfig is what the collector runs before any remote config has ever
// worked: no pipelines, only the injected health check and the collector's
// own telemetry. It needs the service.AllowNoPipelines feature gate, which
// the agent always passes (see collectorArgs).
const minimalConfig = `# phoenix-agent minimal safe config: no data pipelines, only the collector's
# own telemetry and the agent's health check.
service:
  pipelines: {}
`

// injection is what the agent adds to a user config before running it.
type injection struct {
	HealthEndpoint string // host:port of the health_check extension
	OwnMetrics     *ownMetricsDest
	MetricsPeriod  time.Duration
	Resource       map[string]string // resource attributes of the collector's own telemetry
}

// mergeConfigFiles parses the files of a remote config (merged in name order,
// later files win, like several --config flags) into one map.
func mergeConfigFiles(files map[string]string) (map[string]any, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, n := range names {
		if n == agentsecrets.FileName {
			// Secrets reach the collector through its environment.
			if _, err := agentsecrets.Decode([]byte(files[n])); err != nil {
				return nil, err
			}
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(files[n]), &m); err != nil {
			return nil, fmt.Errorf("config file %q is not valid YAML: %w", n, err)
		}
		deepMerge(out, m)
	}
	return out, nil
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// subMap returns m[key] as a map, creating it when absent or null. It fails
// when the key holds something else, naming the path.
func subMap(m map[string]any, key, path string) (map[string]any, error) {
	switch v := m[key].(type) {
	case map[string]any:
		return v, nil
	case nil:
		n := map[string]any{}
		m[key] = n
		return n, nil
	default:
		return nil, fmt.Errorf("%s must be a mapping, got %T", path, v)
	}
}

// compose returns the YAML the collector runs: the user config plus the
// health_check extension and the service::telemetry the agent owns.
func compose(user map[string]any, inj injection) ([]byte, error) {
	cfg := deepCopy(user).(map[string]any)

	exts, err := subMap(cfg, "extensions", "extensions")
	if err != nil {
		return nil, err
	}
	exts[healthExtensionID] = map[string]any{"endpoint": inj.HealthEndpoint, "path": "/"}

	svc, err := subMap(cfg, "service", "service")
	if err != nil {
		return nil, err
	}
	var list []any
	switch v := svc["extensions"].(type) {
	case nil:
	case []any:
		list = v
	default:
		return nil, fmt.Errorf("service::extensions must be a list, got %T", v)
	}
	found := false
	for _, e := range list {
		if e == healthExtensionID {
			found = true
		}
	}
	if !found {
		list = append(list, healthExtensionID)
	}
	svc["extensions"] = list

	tel, err := subMap(svc, "telemetry", "service::telemetry")
	if err != nil {
		return nil, err
	}
	// The agent reads the collector's log for health and error reports, so
	// the log goes to stderr whatever the user config says.
	logs, err := subMap(tel, "logs", "service::telemetry::logs")
	if err != nil {
		return nil, err
	}
	logs["output_paths"] = []any{"stderr"}
	logs["error_output_paths"] = []any{"stderr"}

	metrics, err := subMap(tel, "metrics", "service::telemetry::metrics")
	if err != nil {
		return nil, err
	}
	if inj.OwnMetrics != nil {
		if lvl, _ := metrics["level"].(string); lvl == "" || lvl == "none" {
			metrics["level"] = "normal"
		}
		delete(metrics, "address") // the pre-v0.3 form conflicts with readers
		var readers []any
		if r, ok := metrics["readers"].([]any); ok {
			readers = r
		}
		if w := shortestCardinalityWindow(cfg); w > 0 && (inj.MetricsPeriod <= 0 || w/3 < inj.MetricsPeriod) {
			// An experiment sampled every few seconds: three pushes per
			// window, so every sample interval sees its window reported.
			inj.MetricsPeriod = max(w/3, time.Second)
		}
		metrics["readers"] = append(readers, ownMetricsReader(inj))
	} else if _, ok := metrics["readers"]; !ok {
		if _, ok := metrics["address"]; !ok {
			// Without a destination the default would be a Prometheus
			// listener on :8888, which collides between collectors on one
			// host; nothing would scrape it anyway.
			metrics["level"] = "none"
		}
	}

	if len(inj.Resource) > 0 {
		res, err := subMap(tel, "resource", "service::telemetry::resource")
		if err != nil {
			return nil, err
		}
		if err := setResourceAttributes(res, inj.Resource); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(cfg)
}

// declarativeResourceKeys are the keys of service::telemetry::resource in the
// declarative form; any other key is a legacy inline attribute.
var declarativeResourceKeys = map[string]bool{
	"attributes": true, "attributes_list": true, "detectors": true, "schema_url": true, "detection/development": true,
}

// setResourceAttributes sets attrs in the form the user config already uses:
// the collector refuses a mix of the declarative attributes list and legacy
// inline keys, and warns about the legacy form.
func setResourceAttributes(res map[string]any, attrs map[string]string) error {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for k := range res {
		if !declarativeResourceKeys[k] {
			for _, a := range keys {
				res[a] = attrs[a]
			}
			return nil
		}
	}
	var list []any
	switch v := res["attributes"].(type) {
	case nil:
	case []any:
		list = v
	default:
		return fmt.Errorf("service::telemetry::resource::attributes must be a list, got %T", v)
	}
	kept := list[:0:0]
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if n, _ := m["name"].(string); hasKey(attrs, n) {
				continue // the agent's identity wins
			}
		}
		kept = append(kept, e)
	}
	for _, a := range keys {
		kept = append(kept, map[string]any{"name": a, "value": attrs[a]})
	}
	res["attributes"] = kept
	return nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// shortestCardinalityWindow is the shortest window of the config's
// cardinality processors below 30 s (0 when none is that short: the push
// period then stays as it is).
func shortestCardinalityWindow(cfg map[string]any) time.Duration {
	procs, _ := cfg["processors"].(map[string]any)
	var short time.Duration
	for id, p := range procs {
		if id != "cardinality" && !strings.HasPrefix(id, "cardinality/") {
			continue
		}
		m, _ := p.(map[string]any)
		ws, _ := m["window"].(string)
		w, err := time.ParseDuration(ws)
		if err != nil || w <= 0 || w >= 30*time.Second {
			continue
		}
		if short == 0 || w < short {
			short = w
		}
	}
	return short
}

func ownMetricsReader(inj injection) map[string]any {
	otlp := map[string]any{
		"protocol": "http/protobuf",
		"endpoint": inj.OwnMetrics.Endpoint,
	}
	if len(inj.OwnMetrics.Headers) > 0 {
		keys := make([]string, 0, len(inj.OwnMetrics.Headers))
		for k := range inj.OwnMetrics.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hs := make([]any, 0, len(keys))
		for i, k := range keys {
			// The value (the agent's credential) goes through the
			// collector's environment, never into the config file.
			hs = append(hs, map[string]any{"name": k, "value": agentsecrets.Ref(ownMetricsHeaderEnv(i))})
		}
		otlp["headers"] = hs
	}
	period := inj.MetricsPeriod
	if period <= 0 {
		period = 10 * time.Second
	}
	return map[string]any{"periodic": map[string]any{
		"interval": int(period / time.Millisecond),
		"exporter": map[string]any{"otlp": otlp},
	}}
}

// ownMetricsHeaderEnv names the environment variable that carries the
// value of the i-th own_metrics header (in key order) to the collector.
func ownMetricsHeaderEnv(i int) string { return fmt.Sprintf("PHOENIX_OWN_METRICS_HEADER_%d", i) }

// ownMetricsEnv is the collector environment that ownMetricsReader refers to.
func ownMetricsEnv(o *ownMetricsDest) []string {
	if o == nil {
		return nil
	}
	keys := make([]string, 0, len(o.Headers))
	for k := range o.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys))
	for i, k := range keys {
		env = append(env, ownMetricsHeaderEnv(i)+"="+o.Headers[k])
	}
	return env
}

// normalizeMetricsEndpoint turns an OpAMP own_metrics destination into the
// full OTLP/HTTP URL the collector's telemetry exporter wants: the path
// /v1/metrics is added when the server gave only a base URL.
func normalizeMetricsEndpoint(dest string) (string, error) {
	u, err := url.Parse(dest)
	if err != nil {
		return "", fmt.Errorf("own_metrics destination %q: %w", dest, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("own_metrics destination %q: scheme must be http or https (OTLP/HTTP)", dest)
	}
	if u.Host == "" {
		return "", fmt.Errorf("own_metrics destination %q: no host", dest)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/metrics"
	}
	return u.String(), nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// firstLine returns s up to its first newline, trimmed.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
