package rollout

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

// PauseOptions are the arguments of `phoenix pipeline rollout pause`.
type PauseOptions struct {
	Name   string
	Reason string
}

func newPauseCmd(f *cmdutil.Factory) *cobra.Command {
	o := &PauseOptions{}
	cmd := &cobra.Command{
		Use:               "pause DEPLOYMENT",
		Short:             "Pause a rolling rollout: reached hosts keep the new version, the others the previous one",
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return act(cmd.Context(), f, o.Name, "pause", o.Reason)
		},
	}
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why (recorded with the transition)")
	return cmd
}
