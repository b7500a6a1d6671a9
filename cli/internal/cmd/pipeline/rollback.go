package pipeline

import (
	"context"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// RollbackOptions are the arguments of `phoenix pipeline rollback`.
type RollbackOptions struct {
	Deployment string
	ToVersion  int
	ToGiven    bool // --to-version was given (0 is refused by the server, not here)
	Watch      cmdutil.WatchFlags
}

// NewRollbackCmd is `phoenix pipeline rollback`.
func NewRollbackCmd(f *cmdutil.Factory) *cobra.Command {
	o := &RollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback <deployment> --to-version N",
		Short: "Roll a deployment back: a new version equal to version N",
		Example: `  phoenix pipeline versions web
  phoenix pipeline rollback web --to-version 1 --watch`,
		Args:              cmdutil.ExactArgs("deployment"),
		ValidArgsFunction: completeDeployments(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Deployment = args[0]
			o.ToGiven = cmd.Flags().Changed("to-version")
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().IntVar(&o.ToVersion, "to-version", 0, "the version to return to (required)")
	o.Watch.Add(cmd, "follow the hosts until the rollback is applied or failed")
	return cmd
}

// Run creates the new version equal to --to-version.
func (o *RollbackOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	if !o.ToGiven {
		return cmdutil.UsageError("--to-version is required (`phoenix pipeline versions %s` lists the versions)", o.Deployment)
	}
	var dep api.Deployment
	raw, err := c.DoBoth(ctx, http.MethodPost, "/api/v1/deployments/"+client.Esc(o.Deployment)+"/rollback", map[string]int{"to_version": o.ToVersion}, &dep)
	if err != nil {
		return cmdutil.Hint(err, "`phoenix pipeline versions %s` lists the versions", o.Deployment)
	}
	if p.Format != output.Table {
		if err := p.Print(raw, nil); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(f.Out, "deployment %s rolled back to version %d: now version %d\n", dep.Name, o.ToVersion, dep.Version)
	}
	if o.Watch.Watch {
		return WatchDeployment(ctx, f.Out, c, p, dep.Name, o.Watch)
	}
	return nil
}
