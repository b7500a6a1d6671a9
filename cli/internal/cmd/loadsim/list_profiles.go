package loadsim

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ListProfilesOptions are the arguments of `phoenix loadsim list-profiles` (none).
type ListProfilesOptions struct{}

// NewListProfilesCmd is `phoenix loadsim list-profiles`.
func NewListProfilesCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ListProfilesOptions{}
	return &cobra.Command{
		Use:   "list-profiles",
		Short: "List the load profiles and their defaults",
		Args:  cmdutil.NoArgs,
		RunE: cmdutil.Run(func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), f)
		}),
	}
}

// Run prints the server's profiles.
func (o *ListProfilesOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	var ps []api.Profile
	raw, err := c.GetBoth(ctx, "/api/v1/loadsim/profiles", nil, &ps)
	if err != nil {
		return err
	}
	return p.Print(raw, func(t *output.TableWriter) {
		t.Header("profile", "processes", "churn/s", "description")
		for _, pr := range ps {
			n, ch := "from file", "from file"
			if pr.Name != loadgen.ProfileCustom {
				n, ch = strconv.Itoa(pr.DefaultProcessCount), strconv.FormatFloat(pr.DefaultChurnRate, 'g', -1, 64)
			}
			t.Row(pr.Name, n, ch, pr.Description)
		}
	})
}
