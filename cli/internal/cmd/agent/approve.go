package agent

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ApproveOptions are the arguments of `phoenix agent approve`.
type ApproveOptions struct {
	UID string
}

// NewApproveCmd is `phoenix agent approve`.
func NewApproveCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ApproveOptions{}
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
		Args:              cmdutil.ExactArgs("instance-uid"),
		ValidArgsFunction: completeUIDs(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.UID = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run approves (or readmits) the agent.
func (o *ApproveOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	return identityAction(ctx, f, o.UID, "approve", func(id api.Identity) string {
		if id.State == api.IdentityReadmitted {
			return fmt.Sprintf("agent %s readmitted: it may enrol again with the enrollment token\n", id.InstanceUID)
		}
		return fmt.Sprintf("agent %s now holds host %s\n", id.InstanceUID, id.ClaimedHost)
	})
}
