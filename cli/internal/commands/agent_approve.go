package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// agentApproveOptions are the options of `phoenix agent approve`.
type agentApproveOptions struct {
	app *App
	uid string
}

func newAgentApproveCmd(app *App) *cobra.Command {
	opts := &agentApproveOptions{app: app}
	return &cobra.Command{
		Use:   "approve <instance-uid>",
		Short: "Give a pending agent the host name it claims, or readmit a revoked agent",
		Long: `Approve an agent listed by 'phoenix agent pending': the host name it claims
is bound to it from now on (the agent that held it gets no config any more),
and it gets that host's config at once. Approving a revoked agent readmits
it: it may enrol once more with the enrollment token and is issued a new
credential.`,
		Example: `  phoenix agent pending
  phoenix agent approve 01a2336c-5111-76d4-8256-ee655a693f22`,
		Args:              exactArgs("instance-uid"),
		ValidArgsFunction: pendingUIDs(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			opts.uid = args[0]
			return opts.run(cmd)
		}),
	}
}

func (o *agentApproveOptions) run(cmd *cobra.Command) error {
	return identityAction(o.app, cmd, o.uid, "approve", func(id api.Identity) string {
		if id.State == api.IdentityReadmitted {
			return fmt.Sprintf("agent %s readmitted: it may enrol again with the enrollment token\n", id.InstanceUID)
		}
		return fmt.Sprintf("agent %s now holds host %s\n", id.InstanceUID, id.ClaimedHost)
	})
}

// identityAction POSTs an identity verb and prints the result.
func identityAction(app *App, cmd *cobra.Command, uid, verb string, say func(api.Identity) string) error {
	p, err := app.printer()
	if err != nil {
		return err
	}
	c, err := app.client()
	if err != nil {
		return err
	}
	var id api.Identity
	raw, err := c.DoBoth(cmd.Context(), "POST", "/api/v1/agents/"+client.Esc(uid)+"/"+verb, nil, &id)
	if err != nil {
		return err
	}
	if p.Format != output.Table {
		return p.Print(raw, nil)
	}
	_, err = fmt.Fprint(app.Out, say(id))
	return err
}

// pendingUIDs completes the instance uids of the pending agents.
func pendingUIDs(app *App) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := app.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var list api.IdentityList
		if _, err := c.GetBoth(cmd.Context(), "/api/v1/identities", nil, &list); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, id := range list.Identities {
			out = append(out, id.InstanceUID+"\t"+id.State+" "+id.ClaimedHost)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
