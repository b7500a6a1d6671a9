package experiment

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
)

// StartOptions are the arguments of `phoenix experiment start`.
type StartOptions struct{ Name string }

func newStartCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StartOptions{}
	return &cobra.Command{
		Use:               "start NAME",
		Short:             "Start a pending experiment: its hosts get every variant on one receiver",
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return post(cmd.Context(), f, path(o.Name, "start"), nil)
		},
	}
}
