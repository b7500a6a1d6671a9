package pipeline

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// The tables and texts shared by the pipeline commands.

func hostRow(t *output.TableWriter, h api.HostStatus) {
	msg := h.Error
	if msg == "" {
		msg = h.Detail
	}
	t.StyledRow(output.Cell{Text: h.Host}, output.Cell{Text: h.Deployment}, output.Cell{Text: cmdutil.VersionText(h.Version)},
		output.Cell{Text: h.Status, Style: cmdutil.StatusStyle(h.Status)}, output.Cell{Text: cmdutil.Ago(h.LastSeen)}, output.Cell{Text: msg})
}

func hostHeader(t *output.TableWriter) {
	t.Header("host", "deployment", "version", "status", "last seen", "message")
}

func deploymentStatusTable(t *output.TableWriter, st api.DeploymentStatus) {
	hostHeader(t)
	t.Empty(fmt.Sprintf("deployment %s: %s (%s)", st.Deployment, st.Status, st.Detail))
	for _, h := range st.Hosts {
		hostRow(t, h)
	}
}

func countsText(st api.DeploymentStatus) string {
	keys := make([]string, 0, len(st.Counts))
	for k := range st.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", st.Counts[k], k))
	}
	return strings.Join(parts, ", ")
}

func countsOrDetail(st api.DeploymentStatus) string {
	s := fmt.Sprintf("%d host(s)", st.Total)
	if c := countsText(st); c != "" {
		s += ": " + c
	}
	if st.Detail != "" {
		s += "; " + st.Detail
	}
	return s
}

// specText is a version's template, or "raw config (N bytes)" for a raw one.
func specText(template, config string) string {
	if config != "" {
		return fmt.Sprintf("raw config (%d bytes)", len(config))
	}
	return template
}

// valueText shows a parameter value as a user would type it in --param.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = valueText(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return paramsText(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// paramsText is k=v,... sorted by name.
func paramsText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + valueText(m[k])
	}
	return strings.Join(parts, ",")
}

func destText(d api.Destination) string {
	if d.Endpoint == "" {
		return d.Type
	}
	return d.Type + "=" + d.Endpoint
}
