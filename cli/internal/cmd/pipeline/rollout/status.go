package rollout

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// StatusOptions are the flags of `phoenix pipeline rollout status`.
type StatusOptions struct {
	Name  string
	Watch bool
}

func newStatusCmd(f *cmdutil.Factory) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status DEPLOYMENT",
		Short: "Show a deployment's rollout: hosts applied of total, the stage, batches and failures",
		Long: `Show how a deployment's current version is reaching its hosts. With --watch,
follow it until it completes (exit 0), pauses or is aborted (exit 1, with
the reason): a progress bar on a terminal, one line per change otherwise
(or one document per change with -o json|yaml). The watch reads the
rollout again on each of the server's events about the deployment; it
does not poll.`,
		Example: `  phoenix pipeline rollout status web
  phoenix pipeline rollout status web --watch`,
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return runStatus(cmd, f, o)
		},
	}
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "follow the rollout until it completes, pauses or is aborted")
	return cmd
}

func runStatus(cmd *cobra.Command, f *cmdutil.Factory, o *StatusOptions) error {
	return status(cmd.Context(), f, o)
}

// Watch follows a deployment's rollout until it completes (nil), pauses or
// is aborted (an exit-1 error with the reason): `pipeline deploy --watch`
// of a staged version. timeout > 0 gives up after that long.
func Watch(ctx context.Context, f *cmdutil.Factory, name string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	err := status(ctx, f, &StatusOptions{Name: name, Watch: true})
	if ctx.Err() == context.DeadlineExceeded {
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("the rollout of %s did not end within %s", name, timeout),
			Hint: "follow it with `phoenix pipeline rollout status " + name + " --watch`"}
	}
	return err
}

func status(ctx context.Context, f *cmdutil.Factory, o *StatusOptions) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	var st *client.Stream
	if o.Watch { // open first, so no change between the read and the stream is missed
		if st, err = c.OpenStream(ctx, client.StreamFilter{Deployment: o.Name, Types: []string{api.EventRollout, api.EventDeploymentStatus, api.EventDeploymentDeleted}}); err != nil {
			return err
		}
		defer st.Close()
	}
	var r api.Rollout
	raw, err := c.GetBoth(ctx, path(o.Name), nil, &r)
	if err != nil {
		return err
	}
	if !o.Watch {
		return p.Print(raw, func(t *output.TableWriter) { statusTable(t, r) })
	}
	w := newWatcher(f.Out, p)
	if err := w.show(raw, r); err != nil {
		return err
	}
	for r.State == api.RolloutRolling {
		ev, err := st.Next()
		if err != nil {
			w.done()
			return err
		}
		if ev.Type == api.EventDeploymentDeleted {
			w.done()
			return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("deployment %s was deleted while watching", o.Name)}
		}
		if raw, err = c.GetBoth(ctx, path(o.Name), nil, &r); err != nil {
			w.done()
			return err
		}
		if err := w.show(raw, r); err != nil {
			return err
		}
	}
	w.done()
	if r.State != api.RolloutCompleted {
		hint := "resume with `phoenix pipeline rollout resume " + o.Name + "`, or return the reached hosts with `phoenix pipeline rollout abort " + o.Name + "`"
		if r.State == api.RolloutAborted {
			hint = "deploy a new version, or roll back, to go on"
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("rollout of %s version %d %s: %s", o.Name, r.Version, r.State, r.Reason), Hint: hint}
	}
	return nil
}

// watcher prints a rollout's progress: a bar on a terminal (failures and
// stage changes as lines above it), a line per change otherwise.
type watcher struct {
	out      io.Writer
	p        *output.Printer
	bar      *progressbar.ProgressBar
	last     string
	failures int
	stage    int
}

func newWatcher(out io.Writer, p *output.Printer) *watcher {
	return &watcher{out: out, p: p, stage: -1}
}

func (w *watcher) line(format string, args ...any) {
	if w.bar != nil {
		_ = w.bar.Clear()
	}
	fmt.Fprintf(w.out, "%s  "+format+"\n", append([]any{time.Now().Format(time.TimeOnly)}, args...)...)
}

func (w *watcher) show(raw []byte, r api.Rollout) error {
	text := progressText(r)
	if text == w.last && len(r.Failures) == w.failures {
		return nil
	}
	w.last = text
	if w.p.Format != output.Table {
		w.failures = len(r.Failures)
		return w.p.Print(raw, nil)
	}
	for _, fl := range r.Failures[min(w.failures, len(r.Failures)):] {
		w.line("host %s %s: %s", fl.Host, fl.Status, fl.Error)
	}
	w.failures = len(r.Failures)
	if w.p.Term.Width == 0 { // not a terminal: plain lines
		w.line("%s %s", r.Deployment, text)
		return nil
	}
	if r.Stage != w.stage {
		w.stage = r.Stage
		w.line("%s version %d: stage %d/%d (%s)", r.Deployment, r.Version, r.Stage, r.Stages, r.Reason)
	}
	if w.bar == nil {
		w.bar = progressbar.NewOptions(max(1, r.Total), progressbar.OptionSetWriter(w.out), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(min(40, max(10, w.p.Term.Width/3))), progressbar.OptionSetPredictTime(false),
			progressbar.OptionThrottle(0), progressbar.OptionSetRenderBlankState(true))
	}
	w.bar.ChangeMax(max(1, r.Total))
	w.bar.Describe(fmt.Sprintf("%s v%d %s stage %d/%d, %d failed", r.Deployment, r.Version, r.State, r.Stage, r.Stages, r.Failed))
	return w.bar.Set(r.Applied)
}

func (w *watcher) done() {
	if w.bar != nil {
		_ = w.bar.Clear()
		w.bar = nil
		fmt.Fprintf(w.out, "%s  %s\n", time.Now().Format(time.TimeOnly), w.last)
	}
}
