package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ActiveConfigOptions are the arguments of `phoenix pipeline get-active-config`.
type ActiveConfigOptions struct {
	Deployment string
	Host       string
	Desired    bool
}

// NewActiveConfigCmd is `phoenix pipeline get-active-config`.
func NewActiveConfigCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ActiveConfigOptions{}
	cmd := &cobra.Command{
		Use:   "get-active-config [deployment]",
		Short: "Print the collector config a host really runs (as its agent reports it)",
		Long: `Print the config the collector of a host really runs: the effective config
its agent reports after applying it. The agent also adds its own health check
extension and telemetry settings, which it does not report; they are in
<agent data dir>/config/effective.yaml on the host. Give --target-host, or a
deployment to print the config of each
of its hosts. --desired prints what the server wants the host to run
instead. A host that does not run its desired config yet is named on stderr.`,
		Example: `  phoenix pipeline get-active-config --target-host web-1
  phoenix pipeline get-active-config web --desired`,
		Args:              cmdutil.MaxArgs("deployment"),
		ValidArgsFunction: completeDeployments(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Deployment = args[0]
			}
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().StringVar(&o.Host, "target-host", "", "the host whose config to print")
	cmd.Flags().BoolVar(&o.Desired, "desired", false, "print the desired config (what the server wants to run) instead")
	return cmd
}

// Run prints the config of the host, or of each of the deployment's hosts.
func (o *ActiveConfigOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	if o.Deployment == "" && o.Host == "" {
		return cmdutil.UsageError("give a deployment or --target-host")
	}
	var hostNames []string
	if o.Deployment != "" {
		var st api.DeploymentStatus
		q := url.Values{}
		if o.Host != "" {
			q.Set("host", o.Host)
		}
		if err := c.Get(ctx, "/api/v1/deployments/"+client.Esc(o.Deployment)+"/status", q, &st); err != nil {
			return cmdutil.Hint(err, "`phoenix pipeline list-deployments` lists the deployments")
		}
		for _, h := range st.Hosts {
			if h.AgentUID != "" {
				hostNames = append(hostNames, h.Host)
			}
		}
		if len(hostNames) == 0 {
			return cmdutil.NotFoundError(fmt.Errorf("deployment %s has no host with an agent yet", o.Deployment), "")
		}
	} else {
		hostNames = []string{o.Host}
	}
	var raws []client.Raw
	var docs []string
	for _, h := range hostNames {
		var hc api.HostConfig
		raw, err := c.GetBoth(ctx, "/api/v1/hosts/"+client.Esc(h)+"/config", nil, &hc)
		if err != nil {
			return cmdutil.Hint(err, "`phoenix agent list` lists the hosts")
		}
		raws = append(raws, raw)
		body := hc.Effective.YAML
		if o.Desired {
			body = hc.Desired.YAML
			if hc.Desired.Error != "" {
				fmt.Fprintf(f.Err, "host %s: the desired config does not render: %s\n", h, hc.Desired.Error)
			}
		} else if hc.Effective.YAML == "" {
			fmt.Fprintf(f.Err, "host %s: the agent has not reported an effective config yet\n", h)
		} else if hc.Status != "applied" && hc.Status != "none" {
			fmt.Fprintf(f.Err, "host %s: status %s: this is what runs now, not yet the desired config\n", h, hc.Status)
		}
		if len(hostNames) > 1 {
			body = fmt.Sprintf("# host: %s\n%s", h, body)
		}
		docs = append(docs, body)
	}
	if p.Format != output.Table {
		if len(raws) == 1 {
			return p.Print(raws[0], nil)
		}
		return p.Print(raws, nil)
	}
	_, err = io.WriteString(f.Out, strings.Join(docs, "\n---\n"))
	return err
}
