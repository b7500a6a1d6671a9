package rollout

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

// ResumeOptions are the arguments of `phoenix pipeline rollout resume`.
type ResumeOptions struct {
	Name   string
	Reason string
}

func newResumeCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ResumeOptions{}
	cmd := &cobra.Command{
		Use:               "resume DEPLOYMENT",
		Short:             "Resume a paused rollout: the failures so far are accepted and the current batch soaks again",
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return act(cmd.Context(), f, o.Name, "resume", o.Reason)
		},
	}
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why (recorded with the transition)")
	return cmd
}
