package pipeline

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// StatusOptions are the arguments of `phoenix pipeline status`.
type StatusOptions struct {
	Deployment string
	Host       string
	Watch      cmdutil.WatchFlags
}

// NewStatusCmd is `phoenix pipeline status`.
func NewStatusCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status [deployment]",
		Short: "Show a deployment's hosts and their status (pending, applying, applied, failed, offline)",
		Long: `Show the status of a deployment's hosts, of one host (--target-host), or,
with neither, of every host. --watch streams the changes until the state is
final (applied or failed; exit 1 when failed) or Ctrl-C.`,
		Example: `  phoenix pipeline status web
  phoenix pipeline status web --watch
  phoenix pipeline status --target-host web-1`,
		Args:              cmdutil.MaxArgs("deployment"),
		ValidArgsFunction: completeDeployments(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Deployment = args[0]
			}
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().StringVar(&o.Host, "target-host", "", "one host: its status (with a deployment: that host only)")
	o.Watch.Add(cmd, "follow the status until it is final")
	return cmd
}

// Run prints the status of the deployment, of the host, or of every host.
func (o *StatusOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	switch {
	case o.Deployment != "":
		if o.Watch.Watch {
			return WatchDeployment(ctx, f.Out, c, p, o.Deployment, o.Watch)
		}
		q := url.Values{}
		if o.Host != "" {
			q.Set("host", o.Host)
		}
		var st api.DeploymentStatus
		raw, err := c.GetBoth(ctx, "/api/v1/deployments/"+client.Esc(o.Deployment)+"/status", q, &st)
		if err != nil {
			return cmdutil.Hint(err, "`phoenix pipeline list-deployments` lists the deployments")
		}
		if p.Format == output.Table {
			fmt.Fprintf(f.Out, "deployment %s version %d: %s (%s)\n", st.Deployment, st.Version, st.Status, countsOrDetail(st))
		}
		return p.Print(raw, func(t *output.TableWriter) { deploymentStatusTable(t, st) })
	case o.Host != "":
		if o.Watch.Watch {
			return watchHost(ctx, f.Out, c, p, o.Host, o.Watch)
		}
		var hs api.HostStatus
		raw, err := c.GetBoth(ctx, "/api/v1/hosts/"+client.Esc(o.Host), nil, &hs)
		if err != nil {
			return cmdutil.Hint(err, "`phoenix agent list` lists the hosts")
		}
		return p.Print(raw, func(t *output.TableWriter) {
			hostHeader(t)
			hostRow(t, hs)
		})
	default:
		if o.Watch.Watch {
			return cmdutil.UsageError("--watch needs a deployment or --target-host")
		}
		var l api.HostList
		raw, err := c.GetBoth(ctx, "/api/v1/hosts", nil, &l)
		if err != nil {
			return err
		}
		return p.Print(raw, func(t *output.TableWriter) {
			hostHeader(t)
			t.Empty("no hosts: no agent has connected yet")
			for _, h := range l.Hosts {
				hostRow(t, h)
			}
		})
	}
}
