package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ShowOptions are the arguments of `phoenix agent show`.
type ShowOptions struct {
	Host string // a host name or an agent's instance uid
}

// NewShowCmd is `phoenix agent show`.
func NewShowCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ShowOptions{}
	return &cobra.Command{
		Use:               "show <host>",
		Short:             "Show a host's agent: identity, health, labels, config status and failed configs",
		Args:              cmdutil.ExactArgs("host"),
		ValidArgsFunction: completeHosts(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Host = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run shows the host's newest agent.
func (o *ShowOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	_, agents, err := listAgents(ctx, f)
	if err != nil {
		return err
	}
	host := o.Host
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
		return cmdutil.NotFoundError(fmt.Errorf("no agent has host name %q (known hosts: %s)", host, k), "")
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	// The newest agent of the host first (a reinstalled host has a new uid).
	raw, err := c.GetBoth(ctx, agentsPath+"/"+client.Esc(found[0].InstanceUID), nil, nil)
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
			t.Row("message:", orText(st.Error, st.Detail))
		}
		t.Row("desired hash:", orDash(short(st.DesiredHash)))
		t.Row("reported:", orDash(strings.TrimSpace(a.RemoteStatus+" "+short(a.RemoteHash))))
		if a.RemoteError != "" {
			t.Row("agent error:", a.RemoteError)
		}
		t.Row("effective hash:", orDash(short(a.EffectiveConfigHash)))
		for hash, fc := range a.FailedConfigs {
			t.Row("failed config:", fmt.Sprintf("%s at %s: %s", short(hash), fc.At.Format("2006-01-02 15:04:05Z07:00"), fc.Error))
		}
		if len(found) > 1 {
			t.Row("older agents:", fmt.Sprintf("%d more with this host name (see -o json of `phoenix agent list`)", len(found)-1))
		}
	})
}
