package agent

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// RetryOptions are the arguments of `phoenix agent retry`.
type RetryOptions struct {
	Host  string
	Watch cmdutil.WatchFlags
}

// NewRetryCmd is `phoenix agent retry`.
func NewRetryCmd(f *cmdutil.Factory) *cobra.Command {
	o := &RetryOptions{}
	cmd := &cobra.Command{
		Use:   "retry <host>",
		Short: "Push a host's desired config again after it FAILED (once its cause is fixed)",
		Long: `The server never pushes a config again to a host that reported it FAILED:
that would fight the agent's rollback. Once the cause is fixed (a busy port
freed, a missing file added), retry makes the server forget the host's failed
configs and push the desired one again, with the message that tells
phoenix-agent to try a hash that failed there. --watch follows the host's
deployment until it is applied or fails again.`,
		Example: `  phoenix agent retry web-1 --watch`,
		Args:    cmdutil.ExactArgs("host"),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Host = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
	o.Watch.Add(cmd, "follow the host's deployment until it is applied or failed")
	return cmd
}

// Run asks the server to push the host's config again; --watch follows its
// deployment.
func (o *RetryOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	var res api.RetryResult
	raw, err := c.DoBoth(ctx, "POST", "/api/v1/hosts/"+client.Esc(o.Host)+"/retry", nil, &res)
	if err != nil {
		return err
	}
	if p.Format != output.Table {
		if err := p.Print(raw, nil); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(f.Out, "host %s: %s\n", res.Host, res.Detail)
	}
	if !o.Watch.Watch {
		return nil
	}
	var h api.HostStatus
	if err := c.Get(ctx, "/api/v1/hosts/"+client.Esc(o.Host), nil, &h); err != nil {
		return err
	}
	if h.Deployment == "" {
		return nil
	}
	return pipeline.WatchDeployment(ctx, f.Out, c, p, h.Deployment, o.Watch)
}
