package agent

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
)

// ListOptions are the arguments of `phoenix agent list` (none).
type ListOptions struct{}

// NewListCmd is `phoenix agent list`.
func NewListCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	return &cobra.Command{
		Use:   "list",
		Short: "List the agents with their health and config status",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run lists the agents.
func (o *ListOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	raw, agents, err := listAgents(ctx, f)
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
}
