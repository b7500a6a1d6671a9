package commands

import (
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

func newAgentCmd(app *App) *cobra.Command {
	cmd := newGroup("agent", "The fleet: agents, their health and their config status", "")
	cmd.Aliases = []string{"agents"}
	cmd.AddCommand(newAgentListCmd(app), newAgentShowCmd(app), newAgentPendingCmd(app), newAgentApproveCmd(app), newAgentRevokeCmd(app), newAgentRetryCmd(app))
	return cmd
}

func listAgents(app *App, cmd *cobra.Command) (client.Raw, []api.Agent, error) {
	c, err := app.client()
	if err != nil {
		return nil, nil, err
	}
	var resp struct {
		Agents []api.Agent `json:"agents"`
	}
	raw, err := c.GetBoth(cmd.Context(), "/api/v1/agents", nil, &resp)
	if err != nil {
		return nil, nil, err
	}
	sort.SliceStable(resp.Agents, func(i, j int) bool {
		if resp.Agents[i].HostName != resp.Agents[j].HostName {
			return resp.Agents[i].HostName < resp.Agents[j].HostName
		}
		return resp.Agents[i].LastSeen.After(resp.Agents[j].LastSeen)
	})
	return raw, resp.Agents, nil
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

func newAgentListCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the agents with their health and config status",
		Args:  noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, err := app.printer()
			if err != nil {
				return err
			}
			raw, agents, err := listAgents(app, cmd)
			if err != nil {
				return err
			}
			return p.Print(raw, func(t *output.TableWriter) {
				t.Header("host", "agent", "health", "config", "deployment", "version", "last seen", "message")
				t.Empty("no agents: start phoenix-agent on a host (`make run` starts one here)")
				for _, a := range agents {
					h, hs := healthText(a)
					msg := a.Status.Error
					if msg == "" && a.Health != nil {
						msg = a.Health.LastError
					}
					host := output.Cell{Text: a.HostName}
					if a.HostName == "" && a.PendingHost != "" {
						// Another agent holds the name: `phoenix agent pending`.
						host = output.Cell{Text: a.PendingHost + " (pending approval)", Style: output.Warn}
					}
					t.StyledRow(host, output.Cell{Text: shortUID(a.InstanceUID)}, output.Cell{Text: h, Style: hs},
						output.Cell{Text: a.Status.Status, Style: cmdutil.StatusStyle(a.Status.Status)}, output.Cell{Text: a.Status.Deployment},
						output.Cell{Text: cmdutil.VersionText(a.Status.Version)}, output.Cell{Text: cmdutil.Ago(a.LastSeen)}, output.Cell{Text: msg})
				}
			})
		}),
	}
}

func newAgentShowCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "show <host>",
		Short: "Show a host's agent: identity, health, labels, config status and failed configs",
		Args:  exactArgs("host"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			_, agents, err := listAgents(app, cmd)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, a := range agents {
				out = append(out, a.HostName)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, err := app.printer()
			if err != nil {
				return err
			}
			_, agents, err := listAgents(app, cmd)
			if err != nil {
				return err
			}
			host := args[0]
			var found []api.Agent
			var known []string
			for _, a := range agents {
				if a.HostName == host || a.InstanceUID == host {
					found = append(found, a)
				}
				known = append(known, a.HostName)
			}
			if len(found) == 0 {
				k := "none"
				if len(known) > 0 {
					k = strings.Join(known, ", ")
				}
				return notFoundErr(fmt.Errorf("no agent has host name %q (known hosts: %s)", host, k), "")
			}
			c, err := app.client()
			if err != nil {
				return err
			}
			// The newest agent of the host first (a reinstalled host has a new uid).
			raw, err := c.GetBoth(cmd.Context(), "/api/v1/agents/"+client.Esc(found[0].InstanceUID), nil, nil)
			if err != nil {
				return err
			}
			a := found[0]
			return p.Print(raw, func(t *output.TableWriter) {
				h, hs := healthText(a)
				t.Row("host:", a.HostName)
				t.Row("agent uid:", a.InstanceUID)
				t.Row("os / arch:", strings.Trim(a.OS+" / "+a.Arch, " /"))
				t.Row("versions:", fmt.Sprintf("agent %s, collector %s", orDash(a.AgentVersion), orDash(a.CollectorVersion)))
				t.Row("labels:", orDash(labelsText(a.Labels)))
				t.StyledRow(output.Cell{Text: "connected:"}, output.Cell{Text: fmt.Sprintf("%v (%s), first seen %s ago, last seen %s ago", a.Online, orDash(a.Transport), cmdutil.Ago(a.FirstSeen), cmdutil.Ago(a.LastSeen))})
				t.StyledRow(output.Cell{Text: "health:"}, output.Cell{Text: h, Style: hs})
				if a.Health != nil && a.Health.LastError != "" {
					t.Row("last error:", a.Health.LastError)
				}
				t.Row("capabilities:", capabilitiesText(a.Capabilities))
				st := a.Status
				t.Row("deployment:", orDash(strings.TrimSpace(st.Deployment+" "+versionLabel(st.Version))))
				t.StyledRow(output.Cell{Text: "config status:"}, output.Cell{Text: st.Status, Style: cmdutil.StatusStyle(st.Status)})
				if st.Error != "" || st.Detail != "" {
					t.Row("message:", orText2(st.Error, st.Detail))
				}
				t.Row("desired hash:", orDash(short(st.DesiredHash)))
				t.Row("reported:", orDash(strings.TrimSpace(a.RemoteStatus+" "+short(a.RemoteHash))))
				if a.RemoteError != "" {
					t.Row("agent error:", a.RemoteError)
				}
				t.Row("effective hash:", orDash(short(a.EffectiveConfigHash)))
				for hash, f := range a.FailedConfigs {
					t.Row("failed config:", fmt.Sprintf("%s at %s: %s", short(hash), f.At.Format("2006-01-02 15:04:05Z07:00"), f.Error))
				}
				if len(found) > 1 {
					t.Row("older agents:", fmt.Sprintf("%d more with this host name (see -o json of `phoenix agent list`)", len(found)-1))
				}
			})
		}),
	}
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

func orText2(a, b string) string {
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
