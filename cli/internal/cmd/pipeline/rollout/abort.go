package rollout

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

// AbortOptions are the arguments of `phoenix pipeline rollout abort`.
type AbortOptions struct {
	Name   string
	Reason string
}

func newAbortCmd(f *cmdutil.Factory) *cobra.Command {
	o := &AbortOptions{}
	cmd := &cobra.Command{
		Use:               "abort DEPLOYMENT",
		Short:             "Abort a rollout: every host it reached returns to the version it ran before",
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return act(cmd.Context(), f, o.Name, "abort", o.Reason)
		},
	}
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why (recorded with the transition)")
	return cmd
}
