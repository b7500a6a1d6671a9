package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// agentRevokeOptions are the options of `phoenix agent revoke`.
type agentRevokeOptions struct {
	app *App
	uid string
}

func newAgentRevokeCmd(app *App) *cobra.Command {
	opts := &agentRevokeOptions{app: app}
	return &cobra.Command{
		Use:   "revoke <instance-uid>",
		Short: "Cut an agent off: close its connection and invalidate its credential",
		Long: `Revoke an agent: its live OpAMP connection is closed at once, its credential
opens no session and ingests nothing from now on, and the host name it held
is free for another agent to claim. It cannot enrol again with the
enrollment token until 'phoenix agent approve' readmits it. Rotating the
enrollment token (replace its file) disconnects nobody; revoke does.`,
		Example:           `  phoenix agent revoke 01a2336c-5111-76d4-8256-ee655a693f22`,
		Args:              exactArgs("instance-uid"),
		ValidArgsFunction: pendingUIDs(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			opts.uid = args[0]
			return opts.run(cmd)
		}),
	}
}

func (o *agentRevokeOptions) run(cmd *cobra.Command) error {
	return identityAction(o.app, cmd, o.uid, "revoke", func(id api.Identity) string {
		return fmt.Sprintf("agent %s revoked: disconnected, its credential no longer works\n", id.InstanceUID)
	})
}
