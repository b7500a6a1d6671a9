package experiment

import (
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// ListOptions are the flags of `phoenix experiment list`.
type ListOptions struct{ Status string }

func newListCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the experiments, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.Printer()
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			var l api.ExperimentList
			raw, err := c.GetBoth(cmd.Context(), basePath, nil, &l)
			if err != nil {
				return err
			}
			es := l.Experiments[:0]
			for _, e := range l.Experiments {
				if o.Status == "" || e.Status == o.Status {
					es = append(es, e)
				}
			}
			return p.Print(raw, func(t *output.TableWriter) { listTable(t, es) })
		},
	}
	cmd.Flags().StringVar(&o.Status, "status", "", "only experiments in this status (pending, running, completed, ...)")
	return cmd
}
