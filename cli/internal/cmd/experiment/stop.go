package experiment

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

// StopOptions are the arguments of `phoenix experiment stop`.
type StopOptions struct{ Name string }

func newStopCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StopOptions{}
	return &cobra.Command{
		Use:               "stop NAME",
		Short:             "Stop an experiment: every host returns to the exact config it ran before",
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return post(cmd.Context(), f, path(o.Name, "stop"), nil)
		},
	}
}
