package loadsim

import (
	"context"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// StopOptions are the arguments of `phoenix loadsim stop`.
type StopOptions struct {
	Jobs  []string // the job id; none with --all
	All   bool
	Host  string
	Watch cmdutil.WatchFlags
}

// NewStopCmd is `phoenix loadsim stop`.
func NewStopCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StopOptions{}
	cmd := &cobra.Command{
		Use:   "stop <job|--all>",
		Short: "Stop a load simulation, or all of them",
		Long: `Stop a load simulation job, or every active one (--all, optionally on one
--target-host). A synthetic job stops at once; a process job stops when the
agent confirms that its processes are gone (--watch waits for that).`,
		Args:              cmdutil.MaxArgs("job"),
		ValidArgsFunction: completeJobs(f),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.Jobs = args
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "stop every active load simulation")
	cmd.Flags().StringVar(&o.Host, "target-host", "", "with --all: only this host's")
	o.Watch.Add(cmd, "follow the jobs until they have stopped")
	return cmd
}

// Run stops the job (or all), and with --watch follows them until stopped.
func (o *StopOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	if o.All == (len(o.Jobs) == 1) {
		return cmdutil.UsageError("give a job id or --all")
	}
	if o.Host != "" && !o.All {
		return cmdutil.UsageError("--target-host goes with --all")
	}
	var js []api.Job
	var raw client.Raw
	if o.All {
		path := "/api/v1/loadsim/stop-all"
		if o.Host != "" {
			path += "?target_host=" + url.QueryEscape(o.Host)
		}
		raw, err = c.DoBoth(ctx, http.MethodPost, path, nil, &js)
	} else {
		var j api.Job
		raw, err = c.DoBoth(ctx, http.MethodPost, jobsPath+"/"+client.Esc(o.Jobs[0])+"/stop", nil, &j)
		js = []api.Job{j}
	}
	if err != nil {
		return cmdutil.Hint(err, "`phoenix loadsim status` lists the jobs")
	}
	if err := p.Print(raw, func(t *output.TableWriter) { jobTable(t, js) }); err != nil {
		return err
	}
	if o.Watch.Watch {
		return watchJobs(ctx, f, c, p, jobIDs(js), o.Watch, false)
	}
	return nil
}
