package pipeline

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ListDeploymentsOptions are the arguments of `phoenix pipeline list-deployments`.
type ListDeploymentsOptions struct {
	Status string
}

var deploymentStatuses = []string{"pending", "applying", "applied", "failed", "offline"}

// NewListDeploymentsCmd is `phoenix pipeline list-deployments`.
func NewListDeploymentsCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ListDeploymentsOptions{}
	cmd := &cobra.Command{
		Use:   "list-deployments",
		Short: "List the deployments with their version and status",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().StringVar(&o.Status, "status", "", "only deployments with this status: pending, applying, applied, failed or offline")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(deploymentStatuses, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run lists the deployments.
func (o *ListDeploymentsOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	switch o.Status {
	case "", "pending", "applying", "applied", "failed", "offline":
	default:
		return cmdutil.UsageError("--status %q: want pending, applying, applied, failed or offline", o.Status)
	}
	q := url.Values{}
	if o.Status != "" {
		q.Set("status", o.Status)
	}
	var l api.DeploymentList
	raw, err := c.GetBoth(ctx, "/api/v1/deployments", q, &l)
	if err != nil {
		return err
	}
	return p.Print(raw, func(t *output.TableWriter) {
		t.Header("name", "template", "version", "status", "hosts", "target", "updated")
		t.Empty("no deployments")
		for _, d := range l.Deployments {
			st, hosts := "", ""
			if d.Status != nil {
				st = d.Status.Status
				hosts = fmt.Sprintf("%d/%d", d.Status.Counts["applied"], d.Status.Total)
			}
			t.StyledRow(output.Cell{Text: d.Name}, output.Cell{Text: specText(d.Template, d.Config)}, output.Cell{Text: strconv.Itoa(d.Version)},
				output.Cell{Text: st, Style: cmdutil.StatusStyle(st)}, output.Cell{Text: hosts}, output.Cell{Text: d.Target.String()}, output.Cell{Text: cmdutil.Ago(d.UpdatedAt)})
		}
	})
}
