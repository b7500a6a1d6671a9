package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// DeleteOptions are the arguments of `phoenix pipeline delete`.
type DeleteOptions struct {
	Deployment string
	Yes        bool
	Watch      cmdutil.WatchFlags
}

// NewDeleteCmd is `phoenix pipeline delete`.
func NewDeleteCmd(f *cmdutil.Factory) *cobra.Command {
	o := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete <deployment>",
		Short: "Delete a deployment: its hosts go back to the agent's minimal config (asks first unless --yes)",
		Long: `Delete a deployment and its versions. Its hosts get the empty config: their
agents go back to their minimal safe config (no data pipelines, only the
collector's own telemetry). Asks for confirmation unless --yes is given.
--watch follows the hosts until they run the minimal config.`,
		Args:              cmdutil.ExactArgs("deployment"),
		ValidArgsFunction: completeDeployments(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Deployment = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	o.Watch.Add(cmd, "follow the hosts until they run the minimal config")
	return cmd
}

// Run asks (unless --yes), deletes, and with --watch follows the hosts.
func (o *DeleteOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	// The printer only checks -o: delete prints no document.
	_, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	name := o.Deployment
	var st api.DeploymentStatus
	if err := c.Get(ctx, "/api/v1/deployments/"+client.Esc(name)+"/status", nil, &st); err != nil {
		return cmdutil.Hint(err, "`phoenix pipeline list-deployments` lists the deployments")
	}
	if !o.Yes {
		fmt.Fprintf(f.Err, "Delete deployment %s (version %d, %d host(s))? Its hosts go back to the agent's minimal config. [y/N] ", name, st.Version, st.Total)
		line, _ := bufio.NewReader(f.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("not confirmed: deployment %s was not deleted", name), Hint: "answer y, or pass --yes"}
		}
	}
	if err := c.Delete(ctx, "/api/v1/deployments/"+client.Esc(name), nil); err != nil {
		return err
	}
	fmt.Fprintf(f.Out, "deployment %s deleted\n", name)
	if !o.Watch.Watch {
		return nil
	}
	var hosts []string
	for _, h := range st.Hosts {
		if h.AgentUID != "" {
			hosts = append(hosts, h.Host)
		}
	}
	return watchHostsRelease(ctx, f.Out, c, hosts, o.Watch)
}
