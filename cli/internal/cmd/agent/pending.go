package agent

import (
	"context"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// PendingOptions are the arguments of `phoenix agent pending`.
type PendingOptions struct {
	// All lists every enrolled agent, not only the pending ones.
	All bool
}

// NewPendingCmd is `phoenix agent pending`.
func NewPendingCmd(f *cmdutil.Factory) *cobra.Command {
	o := &PendingOptions{}
	cmd := &cobra.Command{
		Use:   "pending",
		Short: "List agents waiting for approval: they claim a host name another agent holds",
		Long: `List the agents that wait for an operator: each claims a host name that is
bound to another agent (a host reinstalled, a cloned data directory, or an
impostor with the enrollment token), and gets no config until
'phoenix agent approve <uid>' moves the host name to it, or
'phoenix agent revoke <uid>' cuts it off. --all lists every enrolled agent
with its state (bound, pending, enrolled, revoked, readmitted).`,
		Example: `  phoenix agent pending
  phoenix agent pending --all -o json`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context(), f) }),
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "list every enrolled agent with its state")
	return cmd
}

// Run lists the pending (or all) identities.
func (o *PendingOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	if !o.All {
		q.Set("state", api.IdentityPending)
	}
	var list api.IdentityList
	raw, err := c.GetBoth(ctx, identitiesPath, q, &list)
	if err != nil {
		return err
	}
	return p.Print(raw, func(t *output.TableWriter) {
		t.Header("agent", "claims host", "state", "bound to", "enrolled")
		if o.All {
			t.Empty("no agent has enrolled yet")
		} else {
			t.Empty("no agent waits for approval")
		}
		for _, id := range list.Identities {
			st := output.Plain
			switch id.State {
			case api.IdentityPending:
				st = output.Warn
			case api.IdentityRevoked:
				st = output.Bad
			case api.IdentityBound:
				st = output.Good
			}
			t.StyledRow(output.Cell{Text: id.InstanceUID}, output.Cell{Text: id.ClaimedHost}, output.Cell{Text: id.State, Style: st},
				output.Cell{Text: id.BoundTo}, output.Cell{Text: cmdutil.Ago(id.EnrolledAt)})
		}
	})
}
