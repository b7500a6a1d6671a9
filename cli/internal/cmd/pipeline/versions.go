package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// VersionsOptions are the arguments of `phoenix pipeline versions`.
type VersionsOptions struct {
	Deployment string
}

// NewVersionsCmd is `phoenix pipeline versions`.
func NewVersionsCmd(f *cmdutil.Factory) *cobra.Command {
	o := &VersionsOptions{}
	return &cobra.Command{
		Use:               "versions <deployment>",
		Short:             "List a deployment's immutable versions (for rollback)",
		Args:              cmdutil.ExactArgs("deployment"),
		ValidArgsFunction: completeDeployments(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Deployment = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run lists the versions, the current one marked.
func (o *VersionsOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	var l api.VersionList
	raw, err := c.GetBoth(ctx, "/api/v1/deployments/"+client.Esc(o.Deployment)+"/versions", nil, &l)
	if err != nil {
		return cmdutil.Hint(err, "`phoenix pipeline list-deployments` lists the deployments")
	}
	return p.Print(raw, func(t *output.TableWriter) {
		t.Header("version", "template", "params", "destination", "target", "created", "note")
		for _, v := range l.Versions {
			note := ""
			if v.RollbackOf > 0 {
				note = fmt.Sprintf("rollback to %d", v.RollbackOf)
			}
			if v.Current {
				note = strings.TrimPrefix(note+", current", ", ")
			}
			t.Row(strconv.Itoa(v.Version), specText(v.Template, v.Config), paramsText(v.Params), destText(v.Destination), v.Target.String(), cmdutil.Ago(v.CreatedAt), note)
		}
	})
}
