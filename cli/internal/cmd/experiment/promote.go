package experiment

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// PromoteOptions are the flags of `phoenix experiment promote`.
type PromoteOptions struct {
	Name    string
	Variant string
	Force   bool
}

func newPromoteCmd(f *cmdutil.Factory) *cobra.Command {
	o := &PromoteOptions{}
	cmd := &cobra.Command{
		Use:   "promote NAME --variant VARIANT",
		Short: "Make a variant the hosts' deployment, as a new version",
		Long: `Promote makes the chosen variant the hosts' deployment, as a new version
of each host's deployment (or a deployment named after the experiment for
hosts that had none); the experiment's other pipelines disappear. It is
refused before the experiment completes unless --force is given.`,
		Example:           `  phoenix experiment promote agg --variant candidate`,
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if o.Variant == "" {
				return cmdutil.UsageError("--variant is required: the variant to promote (e.g. candidate)")
			}
			return post(cmd.Context(), f, path(o.Name, "promote"), api.PromoteRequest{Variant: o.Variant, Force: o.Force})
		},
	}
	cmd.Flags().StringVar(&o.Variant, "variant", "", "the variant to promote (candidate, candidate2, ...)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "promote before the experiment completed")
	return cmd
}
