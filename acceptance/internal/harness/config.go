package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ContentHash is the sha256 of a collector config's content: parsed YAML
// re-marshalled with sorted keys (comments dropped), without what the agent
// injects into every config it runs (its health_check extension on a fresh
// port and service::telemetry; see agent/README.md). Two configs with the
// same content hash run the same pipelines.
func ContentHash(config string) (string, error) {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(config), &m); err != nil {
		return "", fmt.Errorf("config is not YAML: %w", err)
	}
	if ext, ok := m["extensions"].(map[string]any); ok {
		delete(ext, "health_check/phoenix_agent")
		if len(ext) == 0 {
			delete(m, "extensions")
		}
	}
	if svc, ok := m["service"].(map[string]any); ok {
		delete(svc, "telemetry")
		if es, ok := svc["extensions"].([]any); ok {
			var keep []any
			for _, e := range es {
				if e != "health_check/phoenix_agent" {
					keep = append(keep, e)
				}
			}
			if len(keep) == 0 {
				delete(svc, "extensions")
			} else {
				svc["extensions"] = keep
			}
		}
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
