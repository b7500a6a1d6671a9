package loadsim

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

// StatusOptions are the arguments of `phoenix loadsim status`.
type StatusOptions struct {
	Jobs   []string // one job id, or none for the list
	Host   string
	Status string
	Watch  cmdutil.WatchFlags
}

// NewStatusCmd is `phoenix loadsim status`.
func NewStatusCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status [job]",
		Short: "Show a load simulation, or list them",
		Long: `Show a load simulation job, or list the jobs (newest first; --status and
--target-host filter). --watch follows the job (or every active job) until
it is final (stopped, finished or failed; exit 1 when failed) or Ctrl-C.`,
		Args:              cmdutil.MaxArgs("job"),
		ValidArgsFunction: completeJobs(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Jobs = args
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().StringVar(&o.Host, "target-host", "", "only this host's jobs")
	cmd.Flags().StringVar(&o.Status, "status", "", "only jobs with this status: pending, running, stopped, finished or failed")
	o.Watch.Add(cmd, "follow the jobs until they are final")
	return cmd
}

// Run shows the job, or lists the jobs; --watch follows them.
func (o *StatusOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	if len(o.Jobs) == 1 {
		if o.Watch.Watch {
			return watchJobs(ctx, f, c, p, o.Jobs, o.Watch, false)
		}
		var j api.Job
		raw, err := c.GetBoth(ctx, jobsPath+"/"+client.Esc(o.Jobs[0]), nil, &j)
		if err != nil {
			return cmdutil.Hint(err, "`phoenix loadsim status` lists the jobs")
		}
		return p.Print(raw, func(t *output.TableWriter) { jobTable(t, []api.Job{j}) })
	}
	q := url.Values{}
	if o.Host != "" {
		q.Set("target_host", o.Host)
	}
	if o.Status != "" {
		q.Set("status", o.Status)
	}
	if o.Watch.Watch {
		q.Set("active", "true")
	}
	var js []api.Job
	raw, err := c.GetBoth(ctx, jobsPath, q, &js)
	if err != nil {
		return err
	}
	if o.Watch.Watch {
		ids := jobIDs(js)
		if len(ids) == 0 {
			fmt.Fprintln(f.Out, "no active load simulations")
			return nil
		}
		return watchJobs(ctx, f, c, p, ids, o.Watch, false)
	}
	return p.Print(raw, func(t *output.TableWriter) { jobTable(t, js) })
}
