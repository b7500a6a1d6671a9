// Package rollout is `phoenix pipeline rollout`: how a deployment's new
// version is reaching its hosts, in stages, and the operator's pause,
// resume and abort (one command per file, gh's layout).
package rollout

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

func path(name string, tail ...string) string {
	p := "/api/v1/deployments/" + url.PathEscape(name) + "/rollout"
	for _, t := range tail {
		p += "/" + t
	}
	return p
}

// NewCmd is `phoenix pipeline rollout`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Staged rollouts of a deployment's new version: status, pause, resume, abort",
		Long: `Every new version of a deployment rolls out in stages: a first batch of
hosts (3), then batches growing x5 up to a cap (10% of the targeted hosts,
at least 100), each applied and healthy for a soak time (30s) before the
next starts. A host that fails or degrades on the new version pauses the
rollout on its own; the hosts not reached keep the previous version.
Deploy with --rollout all-at-once to skip the stages, and with
--rollout-first-batch, --rollout-factor, --rollout-max-batch and
--rollout-soak to change them. Version 1 of a deployment goes to every
host at once (nothing of it runs yet), and a new version while one rolls
out supersedes it: the hosts it reached keep its version until reached.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newStatusCmd(f), newPauseCmd(f), newResumeCmd(f), newAbortCmd(f))
	return cmd
}

func oneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cmdutil.UsageError("%s takes one argument, the deployment's name (%d given)", cmd.CommandPath(), len(args))
	}
	return nil
}

// completeNames completes deployment names with their rollout state.
func completeNames(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.Complete(f, "/api/v1/rollouts", nil, func(l api.RolloutList) []string {
		var out []string
		for _, r := range l.Rollouts {
			out = append(out, r.Deployment+"\t"+r.State)
		}
		return out
	})
}

// progressText is one line of a rollout's progress.
func progressText(r api.Rollout) string {
	s := fmt.Sprintf("version %d: %s, stage %d/%d, %d/%d hosts applied", r.Version, r.State, r.Stage, r.Stages, r.Applied, r.Total)
	if r.Failed > 0 {
		s += fmt.Sprintf(", %d failed", r.Failed)
	}
	if r.Offline > 0 {
		s += fmt.Sprintf(", %d offline", r.Offline)
	}
	return s
}

// statusTable shows a rollout: its progress, batches, failures and
// transitions.
func statusTable(t *output.TableWriter, r api.Rollout) {
	t.Header("what", "state", "detail")
	t.Row(fmt.Sprintf("%s v%d (from v%d)", r.Deployment, r.Version, r.FromVersion), r.State, progressText(r))
	if r.Reason != "" {
		t.Row("", "", r.Reason)
	}
	t.Row("policy", r.Policy.Strategy, fmt.Sprintf("first batch %d, x%d, max %s, soak %s", r.Policy.FirstBatch, r.Policy.Factor, maxText(r.Policy.MaxBatch), r.Policy.Soak))
	for _, b := range r.Batches {
		detail := fmt.Sprintf("%d host(s), started %s", b.Size, b.StartedAt.Local().Format(time.TimeOnly))
		if !b.HealthySince.IsZero() {
			detail += ", healthy since " + b.HealthySince.Local().Format(time.TimeOnly)
		}
		if len(b.Hosts) > 0 {
			detail += ": " + strings.Join(b.Hosts, ", ")
		}
		t.Row("batch "+strconv.Itoa(b.Number), "", detail)
	}
	for _, fl := range r.Failures {
		st := fl.Status
		if fl.Accepted {
			st += " (accepted)"
		}
		t.Row("host "+fl.Host, st, fl.Error)
	}
	for _, tr := range r.Transitions {
		t.Row(tr.At.Local().Format(time.DateTime), tr.Status, tr.Reason)
	}
}

func maxText(n int) string {
	if n == 0 {
		return "10% (at least 100)"
	}
	return strconv.Itoa(n)
}

// act posts an action and prints the rollout it gets back.
func act(ctx context.Context, f *cmdutil.Factory, name, action, reason string) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	var r api.Rollout
	raw, err := c.DoBoth(ctx, "POST", path(name, action), api.RolloutAction{Reason: reason}, &r)
	if err != nil {
		return err
	}
	return p.Print(raw, func(t *output.TableWriter) { statusTable(t, r) })
}
