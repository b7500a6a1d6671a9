package experiment

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// DeleteOptions are the flags of `phoenix experiment delete`.
type DeleteOptions struct {
	Name string
	Yes  bool
}

func newDeleteCmd(f *cmdutil.Factory) *cobra.Command {
	o := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an experiment and its samples (an active one needs --yes)",
		Long: `Delete an experiment and its samples. An active experiment (pending,
deploying, warming up, running) is stopped first, which needs --yes: its
hosts return to the config they ran before.`,
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			c, err := f.Client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if o.Yes {
				q.Set("force", "true")
			}
			var out api.Deleted
			err = c.Do(cmd.Context(), "DELETE", path(o.Name), q, nil, &out)
			if ae, ok := errors.AsType[*client.APIError](err); ok && ae.Status == 409 && !o.Yes {
				return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: err, Hint: "the experiment is active: add --yes to stop and delete it"}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Out, "experiment %s deleted: %s\n", out.Deleted, out.Detail)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "confirm deleting an active experiment (it is stopped first)")
	return cmd
}
