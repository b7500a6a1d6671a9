package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmd/pipeline"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

type agentRetryOptions struct {
	app  *App
	host string
	w    cmdutil.WatchFlags
}

func newAgentRetryCmd(app *App) *cobra.Command {
	opts := &agentRetryOptions{app: app}
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
		Args:    exactArgs("host"),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			opts.host = args[0]
			return opts.run(cmd)
		}),
	}
	opts.w.Add(cmd, "follow the host's deployment until it is applied or failed")
	return cmd
}

func (o *agentRetryOptions) run(cmd *cobra.Command) error {
	p, c, err := o.app.printerClient()
	if err != nil {
		return err
	}
	var res api.RetryResult
	raw, err := c.DoBoth(cmd.Context(), "POST", "/api/v1/hosts/"+client.Esc(o.host)+"/retry", nil, &res)
	if err != nil {
		return err
	}
	if p.Format != output.Table {
		if err := p.Print(raw, nil); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(o.app.Out, "host %s: %s\n", res.Host, res.Detail)
	}
	if !o.w.Watch {
		return nil
	}
	var h api.HostStatus
	if err := c.Get(cmd.Context(), "/api/v1/hosts/"+client.Esc(o.host), nil, &h); err != nil {
		return err
	}
	if h.Deployment == "" {
		return nil
	}
	return pipeline.WatchDeployment(cmd.Context(), o.app.Out, c, p, h.Deployment, o.w)
}
