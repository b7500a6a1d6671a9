package loadsim

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// StartOptions are the arguments of `phoenix loadsim start`.
type StartOptions struct {
	Req         api.JobRequest
	Mode        string
	Duration    time.Duration
	ProfileFile string
	Watch       cmdutil.WatchFlags
}

// NewStartCmd is `phoenix loadsim start`.
func NewStartCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StartOptions{}
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
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context(), f)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Req.Profile, "profile", "", "load profile: "+strings.Join(loadgen.ProfileNames(), ", ")+" (required)")
	fl.StringVar(&o.Req.TargetHost, "target-host", "", "host name of the agent to load (required)")
	fl.StringVar(&o.Mode, "mode", "synthetic", "synthetic (loadgen receiver in the collector) or process (real OS processes)")
	fl.DurationVar(&o.Duration, "duration", 0, "how long the load runs (e.g. 10m); 0 runs until stopped")
	fl.IntVar(&o.Req.ProcessCount, "process-count", 0, "live processes (0: the profile's default)")
	fl.Float64Var(&o.Req.ChurnRate, "churn-rate", 0, "processes replaced per second (0: the profile's default)")
	fl.StringVar(&o.ProfileFile, "profile-file", "", "YAML of a custom profile (with --profile custom; - reads stdin)")
	fl.Int64Var(&o.Req.Seed, "seed", 0, "random seed (0: the profile's); the same seed reproduces a run")
	_ = cmd.RegisterFlagCompletionFunc("profile", cobra.FixedCompletions(loadgen.ProfileNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"synthetic", "process"}, cobra.ShellCompDirectiveNoFileComp))
	o.Watch.Add(cmd, "follow the job until it runs, ends or fails")
	return cmd
}

// Run starts the job, and with --watch follows it until it runs.
func (o *StartOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, c, err := f.PrinterClient()
	if err != nil {
		return err
	}
	req := o.Req
	req.Mode = api.LoadSimMode(o.Mode)
	if req.Profile == "" || req.TargetHost == "" {
		return cmdutil.UsageError("--profile and --target-host are required (profiles: %s)", strings.Join(loadgen.ProfileNames(), ", "))
	}
	if o.Duration > 0 {
		req.Duration = api.Duration(o.Duration)
	} else if o.Duration < 0 {
		return cmdutil.UsageError("--duration must be >= 0 (0 runs until stopped)")
	}
	if o.ProfileFile != "" {
		b, err := cmdutil.ReadFileArg(f.In, o.ProfileFile)
		if err != nil {
			return err
		}
		req.ProfileYAML = string(b)
		if o.ProfileFile != "-" {
			if abs, err := filepath.Abs(o.ProfileFile); err == nil {
				req.ProfilePath = abs
			}
		}
		if req.Mode == "process" {
			req.ProfilePath = ""
		}
	}
	var j api.Job
	raw, err := c.DoBoth(ctx, http.MethodPost, jobsPath, req, &j)
	if err != nil {
		return cmdutil.Hint(err, "`phoenix loadsim list-profiles` lists the profiles; `phoenix agent list` the hosts")
	}
	if err := p.Print(raw, func(t *output.TableWriter) { jobTable(t, []api.Job{j}) }); err != nil {
		return err
	}
	if o.Watch.Watch {
		return watchJobs(ctx, f, c, p, []string{j.ID}, o.Watch, true)
	}
	return nil
}
