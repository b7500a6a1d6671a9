package server

import (
	"sort"
	"strings"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// The retry message of phoenix-agent (agent.RetryCapability, agent.RetryType;
// a test checks they agree): it goes with the config a retry pushes, so the
// agent forgets that the hash failed there.
const (
	retryCapability = "io.phoenix.retry"
	retryType       = "retry"
)

// Bounds on what an agent's health may put in its record: it is untrusted
// input that ends up in the API and the console.
const (
	maxHealthComponents = 32
	maxHealthText       = 1 << 10
)

// healthFrom turns the agent's reported ComponentHealth into the record's
// Health: the top level, and the sub-components that report themselves
// unhealthy, flattened to "parent > child" paths (ids may contain "/") (phoenix-agent reports
// "exporter:<id>" entries; the contrib opamp extension nests
// "pipeline:<id>" -> "exporter:<id>").
func healthFrom(h *protobufs.ComponentHealth) *store.Health {
	nh := &store.Health{Healthy: h.GetHealthy(), Status: bound(h.GetStatus()), LastError: bound(h.GetLastError())}
	if h.GetStartTimeUnixNano() > 0 {
		nh.StartTime = time.Unix(0, int64(h.GetStartTimeUnixNano())).UTC()
	}
	var walk func(prefix string, m map[string]*protobufs.ComponentHealth, depth int)
	walk = func(prefix string, m map[string]*protobufs.ComponentHealth, depth int) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c := m[k]
			path := prefix + k
			if !c.GetHealthy() && len(c.GetComponentHealthMap()) == 0 {
				if len(nh.Components) >= maxHealthComponents {
					return
				}
				if nh.Components == nil {
					nh.Components = map[string]store.ComponentHealth{}
				}
				ch := store.ComponentHealth{Status: bound(c.GetStatus()), LastError: bound(c.GetLastError())}
				if t := c.GetStatusTimeUnixNano(); t > 0 {
					ch.At = time.Unix(0, int64(t)).UTC()
				}
				nh.Components[bound(path)] = ch
			}
			if depth < 4 {
				walk(path+" > ", c.GetComponentHealthMap(), depth+1)
			}
		}
	}
	walk("", h.GetComponentHealthMap(), 0)
	return nh
}

func bound(s string) string {
	if len(s) > maxHealthText {
		return strings.ToValidUTF8(s[:maxHealthText], "") + "…"
	}
	return s
}
