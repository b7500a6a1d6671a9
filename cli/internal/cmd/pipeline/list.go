package pipeline

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ListOptions are the arguments of `phoenix pipeline list` (none).
type ListOptions struct{}

// NewListCmd is `phoenix pipeline list`.
func NewListCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	return &cobra.Command{
		Use:   "list",
		Short: "List the pipeline catalog",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run prints the server's catalog.
func (o *ListOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	var cat api.Catalog
	raw, err := c.GetBoth(ctx, "/api/v1/catalog", nil, &cat)
	if err != nil {
		return err
	}
	return p.Print(raw, func(t *output.TableWriter) {
		t.Header("name", "title", "expected reduction", "params")
		for _, tm := range cat.Templates {
			t.Row(tm.Name, tm.Title, tm.ExpectedReduction, strconv.Itoa(len(tm.Params)))
		}
	})
}
