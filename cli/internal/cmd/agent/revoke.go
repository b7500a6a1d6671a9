package agent

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// RevokeOptions are the arguments of `phoenix agent revoke`.
type RevokeOptions struct {
	UID string
}

// NewRevokeCmd is `phoenix agent revoke`.
func NewRevokeCmd(f *cmdutil.Factory) *cobra.Command {
	o := &RevokeOptions{}
	return &cobra.Command{
		Use:   "revoke <instance-uid>",
		Short: "Cut an agent off: close its connection and invalidate its credential",
		Long: `Revoke an agent: its live OpAMP connection is closed at once, its credential
opens no session and ingests nothing from now on, and the host name it held
is free for another agent to claim. It cannot enrol again with the
enrollment token until 'phoenix agent approve' readmits it. Rotating the
enrollment token (replace its file) disconnects nobody; revoke does.`,
		Example:           `  phoenix agent revoke 01a2336c-5111-76d4-8256-ee655a693f22`,
		Args:              cmdutil.ExactArgs("instance-uid"),
		ValidArgsFunction: completeUIDs(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.UID = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run revokes the agent.
func (o *RevokeOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	return identityAction(ctx, f, o.UID, "revoke", func(id api.Identity) string {
		return fmt.Sprintf("agent %s revoked: disconnected, its credential no longer works\n", id.InstanceUID)
	})
}
