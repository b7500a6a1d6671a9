// Package agent is `phoenix agent`: the fleet, its health and config
// status, and the operator's approve, revoke and retry (one command per file
// with its options struct, gh's layout).
package agent

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

const agentsPath = "/api/v1/agents"

// listAgents gets the agents, by host name, the newest agent of a host first.
func listAgents(ctx context.Context, f *cmdutil.Factory) (client.Raw, []api.Agent, error) {
	c, err := f.Client()
	if err != nil {
		return nil, nil, err
	}
	var l api.AgentList
	raw, err := c.GetBoth(ctx, agentsPath, nil, &l)
	if err != nil {
		return nil, nil, err
	}
	sortAgents(l.Agents)
	return raw, l.Agents, nil
}

func sortAgents(as []api.Agent) {
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].HostName != as[j].HostName {
			return as[i].HostName < as[j].HostName
		}
		return as[i].LastSeen.After(as[j].LastSeen)
	})
}

// completeHosts completes the agents' host names.
func completeHosts(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.Complete(f, agentsPath, nil, func(l api.AgentList) []string {
		sortAgents(l.Agents)
		var out []string
		for _, a := range l.Agents {
			out = append(out, a.HostName)
		}
		return out
	})
}

func healthText(a api.Agent) (string, output.Style) {
	switch {
	case !a.Online:
		return "offline", output.Warn
	case a.Health == nil:
		return "unknown", output.Plain
	case a.Health.Healthy:
		return "healthy", output.Good
	}
	return "unhealthy", output.Bad
}

func shortUID(s string) string {
	if len(s) > 13 {
		return s[:8] + "…" + s[len(s)-4:]
	}
	return s
}

func versionLabel(v int) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("(version %d)", v)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func labelsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// capabilitiesText names the set bits of OpAMP's AgentCapabilities.
func capabilitiesText(c uint64) string {
	var out []string
	for bit := uint64(1); bit != 0 && bit <= c; bit <<= 1 {
		if c&bit == 0 {
			continue
		}
		name, ok := protobufs.AgentCapabilities_name[int32(bit)]
		if !ok {
			name = fmt.Sprintf("0x%x", bit)
		}
		out = append(out, strings.TrimPrefix(name, "AgentCapabilities_"))
	}
	return orDash(strings.Join(out, ", "))
}
