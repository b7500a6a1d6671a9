package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

const jobsPath = "/api/v1/loadsim/jobs"

func newLoadSimCmd(app *App) *cobra.Command {
	cmd := newGroup("loadsim", "Load simulations: put synthetic or real-process load on a host",
		`A load simulation puts a load profile on one host. In synthetic mode
(the default) the host's collector gets the loadgen receiver, whose fake
processes flow through the host's pipeline. In process mode the host's
agent starts real OS processes that the real process scraper sees.
A host runs one simulation at a time.`)
	cmd.AddCommand(newLoadSimStartCmd(app), newLoadSimStopCmd(app), newLoadSimStatusCmd(app), newLoadSimProfilesCmd(app))
	return cmd
}

func completeJobs(app *App) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := app.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		defer cancel()
		var js []api.Job
		if c.Get(ctx, jobsPath, url.Values{"active": {"true"}}, &js) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, j := range js {
			out = append(out, j.ID+"\t"+j.TargetHost+" "+j.Profile)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func jobTable(t *output.TableWriter, js []api.Job) {
	t.Header("id", "host", "mode", "profile", "status", "processes", "duration", "age", "message")
	t.Empty("no load simulations")
	for _, j := range js {
		procs := ""
		switch {
		case j.Mode == "process" && j.TargetProcesses > 0:
			procs = fmt.Sprintf("%d/%d", j.Live, j.TargetProcesses)
		case j.ProcessCount > 0:
			procs = strconv.Itoa(j.ProcessCount)
		}
		dur := j.Duration.String()
		if j.Duration == 0 {
			dur = "until stopped"
		}
		st := string(j.Status)
		if j.StopRequested && !j.Final() {
			st += " (stopping)"
		}
		t.StyledRow(output.Cell{Text: j.ID}, output.Cell{Text: j.TargetHost}, output.Cell{Text: string(j.Mode)}, output.Cell{Text: j.Profile},
			output.Cell{Text: st, Style: cmdutil.StatusStyle(string(j.Status))}, output.Cell{Text: procs}, output.Cell{Text: dur}, output.Cell{Text: cmdutil.Ago(j.CreatedAt)},
			output.Cell{Text: j.Error})
	}
}

func newLoadSimStartCmd(app *App) *cobra.Command {
	var (
		req         api.JobRequest
		mode        string
		duration    time.Duration
		profileFile string
		w           cmdutil.WatchFlags
	)
	cmd := &cobra.Command{
		Use:   "start --profile P --target-host H",
		Short: "Start a load simulation on a host",
		Long: `Start a load simulation on a host. --mode synthetic (the default) adds the
loadgen receiver to the host's collector config; --mode process has the
host's agent start real processes (profile bounds apply; the agent caps the
count). --profile custom takes --profile-file, a YAML profile (see
loadgen/README.md); in synthetic mode that file must also exist at the same
path on the target host. --watch follows the job until it runs (or ends).`,
		Example: `  phoenix loadsim start --profile realistic --target-host web-1 --duration 10m
  phoenix loadsim start --profile process-churn --target-host web-1 --mode process --process-count 40 --watch
  phoenix loadsim start --profile custom --profile-file batch.yaml --target-host web-1 --mode process`,
		Args: noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			req.Mode = api.LoadSimMode(mode)
			if req.Profile == "" || req.TargetHost == "" {
				return usageErr("--profile and --target-host are required (profiles: %s)", strings.Join(loadgen.ProfileNames(), ", "))
			}
			if duration > 0 {
				req.Duration = api.Duration(duration)
			} else if duration < 0 {
				return usageErr("--duration must be >= 0 (0 runs until stopped)")
			}
			if profileFile != "" {
				b, err := cmdutil.ReadFileArg(app.In, profileFile)
				if err != nil {
					return err
				}
				req.ProfileYAML = string(b)
				if profileFile != "-" {
					if abs, err := filepath.Abs(profileFile); err == nil {
						req.ProfilePath = abs
					}
				}
				if req.Mode == "process" {
					req.ProfilePath = ""
				}
			}
			ctx := cmd.Context()
			var j api.Job
			raw, err := c.DoBoth(ctx, http.MethodPost, jobsPath, req, &j)
			if err != nil {
				return hintf(err, "`phoenix loadsim list-profiles` lists the profiles; `phoenix agent list` the hosts")
			}
			if err := p.Print(raw, func(t *output.TableWriter) { jobTable(t, []api.Job{j}) }); err != nil {
				return err
			}
			if w.Watch {
				return app.watchJobs(ctx, c, p, []string{j.ID}, w, true)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&req.Profile, "profile", "", "load profile: "+strings.Join(loadgen.ProfileNames(), ", ")+" (required)")
	f.StringVar(&req.TargetHost, "target-host", "", "host name of the agent to load (required)")
	f.StringVar(&mode, "mode", "synthetic", "synthetic (loadgen receiver in the collector) or process (real OS processes)")
	f.DurationVar(&duration, "duration", 0, "how long the load runs (e.g. 10m); 0 runs until stopped")
	f.IntVar(&req.ProcessCount, "process-count", 0, "live processes (0: the profile's default)")
	f.Float64Var(&req.ChurnRate, "churn-rate", 0, "processes replaced per second (0: the profile's default)")
	f.StringVar(&profileFile, "profile-file", "", "YAML of a custom profile (with --profile custom; - reads stdin)")
	f.Int64Var(&req.Seed, "seed", 0, "random seed (0: the profile's); the same seed reproduces a run")
	_ = cmd.RegisterFlagCompletionFunc("profile", cobra.FixedCompletions(loadgen.ProfileNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"synthetic", "process"}, cobra.ShellCompDirectiveNoFileComp))
	w.Add(cmd, "follow the job until it runs, ends or fails")
	return cmd
}

func newLoadSimStopCmd(app *App) *cobra.Command {
	var (
		all  bool
		host string
		w    cmdutil.WatchFlags
	)
	cmd := &cobra.Command{
		Use:   "stop <job|--all>",
		Short: "Stop a load simulation, or all of them",
		Long: `Stop a load simulation job, or every active one (--all, optionally on one
--target-host). A synthetic job stops at once; a process job stops when the
agent confirms that its processes are gone (--watch waits for that).`,
		Args:              maxArgs("job"),
		ValidArgsFunction: completeJobs(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			if all == (len(args) == 1) {
				return usageErr("give a job id or --all")
			}
			if host != "" && !all {
				return usageErr("--target-host goes with --all")
			}
			ctx := cmd.Context()
			var js []api.Job
			var raw client.Raw
			if all {
				path := "/api/v1/loadsim/stop-all"
				if host != "" {
					path += "?target_host=" + url.QueryEscape(host)
				}
				raw, err = c.DoBoth(ctx, http.MethodPost, path, nil, &js)
			} else {
				var j api.Job
				raw, err = c.DoBoth(ctx, http.MethodPost, jobsPath+"/"+client.Esc(args[0])+"/stop", nil, &j)
				js = []api.Job{j}
			}
			if err != nil {
				return hintf(err, "`phoenix loadsim status` lists the jobs")
			}
			if err := p.Print(raw, func(t *output.TableWriter) { jobTable(t, js) }); err != nil {
				return err
			}
			if w.Watch {
				var ids []string
				for _, j := range js {
					ids = append(ids, j.ID)
				}
				return app.watchJobs(ctx, c, p, ids, w, false)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&all, "all", false, "stop every active load simulation")
	cmd.Flags().StringVar(&host, "target-host", "", "with --all: only this host's")
	w.Add(cmd, "follow the jobs until they have stopped")
	return cmd
}

func newLoadSimStatusCmd(app *App) *cobra.Command {
	var (
		host   string
		status string
		w      cmdutil.WatchFlags
	)
	cmd := &cobra.Command{
		Use:   "status [job]",
		Short: "Show a load simulation, or list them",
		Long: `Show a load simulation job, or list the jobs (newest first; --status and
--target-host filter). --watch follows the job (or every active job) until
it is final (stopped, finished or failed; exit 1 when failed) or Ctrl-C.`,
		Args:              maxArgs("job"),
		ValidArgsFunction: completeJobs(app),
		RunE: run(func(cmd *cobra.Command, args []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if len(args) == 1 {
				if w.Watch {
					return app.watchJobs(ctx, c, p, args, w, false)
				}
				var j api.Job
				raw, err := c.GetBoth(ctx, jobsPath+"/"+client.Esc(args[0]), nil, &j)
				if err != nil {
					return hintf(err, "`phoenix loadsim status` lists the jobs")
				}
				return p.Print(raw, func(t *output.TableWriter) { jobTable(t, []api.Job{j}) })
			}
			q := url.Values{}
			if host != "" {
				q.Set("target_host", host)
			}
			if status != "" {
				q.Set("status", status)
			}
			if w.Watch {
				q.Set("active", "true")
			}
			var js []api.Job
			raw, err := c.GetBoth(ctx, jobsPath, q, &js)
			if err != nil {
				return err
			}
			if w.Watch {
				var ids []string
				for _, j := range js {
					ids = append(ids, j.ID)
				}
				if len(ids) == 0 {
					fmt.Fprintln(app.Out, "no active load simulations")
					return nil
				}
				return app.watchJobs(ctx, c, p, ids, w, false)
			}
			return p.Print(raw, func(t *output.TableWriter) { jobTable(t, js) })
		}),
	}
	cmd.Flags().StringVar(&host, "target-host", "", "only this host's jobs")
	cmd.Flags().StringVar(&status, "status", "", "only jobs with this status: pending, running, stopped, finished or failed")
	w.Add(cmd, "follow the jobs until they are final")
	return cmd
}

func newLoadSimProfilesCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "list-profiles",
		Short: "List the load profiles and their defaults",
		Args:  noArgs,
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			p, c, err := app.printerClient()
			if err != nil {
				return err
			}
			var ps []api.Profile
			raw, err := c.GetBoth(cmd.Context(), "/api/v1/loadsim/profiles", nil, &ps)
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
		}),
	}
}

// watchJobs streams job updates until every job is final (or, with
// untilRunning, running). A failed job makes the command fail.
func (app *App) watchJobs(parent context.Context, c *client.Client, p *output.Printer, ids []string, w cmdutil.WatchFlags, untilRunning bool) error {
	ctx, cancel := w.Context(parent)
	defer cancel()
	s, err := c.OpenStream(ctx, client.StreamFilter{Types: []string{api.EventLoadSim}})
	if err != nil {
		return err
	}
	defer s.Close()
	state := map[string]api.Job{}
	show := func(raw json.RawMessage, j api.Job) error {
		prev, seen := state[j.ID]
		state[j.ID] = j
		if seen && prev.Status == j.Status && prev.Live == j.Live && prev.Error == j.Error && prev.StopRequested == j.StopRequested {
			return nil
		}
		return cmdutil.Emit(app.Out, p, raw, func() string {
			line := fmt.Sprintf("%s  load simulation %s on %s: %s", cmdutil.Stamp(), j.ID, j.TargetHost, j.Status)
			if j.Mode == "process" && j.Status == "running" {
				line += fmt.Sprintf(" (%d/%d processes)", j.Live, j.TargetProcesses)
			}
			if j.StopRequested && !j.Final() {
				line += " (stopping)"
			}
			if j.Error != "" {
				line += ": " + j.Error
			}
			return line
		})
	}
	for _, id := range ids {
		var j api.Job
		raw, err := c.GetBoth(ctx, jobsPath+"/"+client.Esc(id), nil, &j)
		if err != nil {
			return hintf(err, "`phoenix loadsim status` lists the jobs")
		}
		if err := show(raw, j); err != nil {
			return err
		}
	}
	done := func() (bool, error) {
		for _, id := range ids {
			j := state[id]
			if j.Status == "failed" {
				return true, &Error{Code: ExitError, Err: fmt.Errorf("load simulation %s failed: %s", j.ID, j.Error)}
			}
			if !(j.Final() || (untilRunning && j.Status == "running" && !j.StopRequested)) {
				return false, nil
			}
		}
		return true, nil
	}
	for {
		if ok, err := done(); ok {
			return err
		}
		e, err := s.Next()
		if err != nil {
			return cmdutil.WatchTimeout(ctx, w, "the load simulation", cmdutil.CtxErr(ctx, err))
		}
		var j api.Job
		if err := json.Unmarshal(e.Data, &j); err != nil {
			return fmt.Errorf("event stream: bad load simulation event: %w", err)
		}
		if _, ok := state[j.ID]; !ok {
			continue
		}
		if err := show(e.Data, j); err != nil {
			return err
		}
	}
}
