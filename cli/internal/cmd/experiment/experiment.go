// Package experiment is `phoenix experiment`: A/B experiments of pipelines
// on identical input (one command per file, gh's layout).
package experiment

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

const basePath = "/api/v1/experiments"

func path(name string, tail ...string) string {
	p := basePath + "/" + url.PathEscape(name)
	for _, t := range tail {
		p += "/" + t
	}
	return p
}

// NewCmd is `phoenix experiment`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "experiment",
		Aliases: []string{"experiments", "exp"},
		Short:   "A/B experiments: prove a pipeline's saving on identical input, then promote it",
		Long: `An experiment runs a baseline and up to four candidate pipelines side by
side on the chosen hosts, on ONE receiver, so every variant reads the very
same processes at the very same scrape. Samples pair by interval; the
verdict (promote, reject or inconclusive) names the criterion that decided
it and prints the measured values. Promote makes the winner the hosts'
deployment as a new version; stop returns every host to the exact config
it ran before.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCreateCmd(f), newStartCmd(f), newStatusCmd(f), newCompareCmd(f), newPromoteCmd(f),
		newStopCmd(f), newListCmd(f), newDeleteCmd(f))
	return cmd
}

// completeNames completes experiment names.
func completeNames(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.Complete(f, basePath, nil, func(l api.ExperimentList) []string {
		var out []string
		for _, e := range l.Experiments {
			out = append(out, e.Name+"\t"+e.Status)
		}
		return out
	})
}

func oneName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cmdutil.UsageError("%s takes one argument, the experiment's name (%d given)", cmd.CommandPath(), len(args))
	}
	return nil
}

func variantsText(e api.Experiment) string {
	var parts []string
	for _, v := range e.Variants {
		t := v.Template
		if t == "" {
			t = "(deployment)"
		}
		parts = append(parts, v.Name+"="+t)
	}
	return strings.Join(parts, " ")
}

func verdictText(e api.Experiment) string {
	var parts []string
	for _, v := range e.Verdicts {
		parts = append(parts, v.Variant+": "+v.Verdict)
	}
	return strings.Join(parts, ", ")
}

func listTable(t *output.TableWriter, es []api.Experiment) {
	t.Header("name", "status", "hosts", "variants", "samples", "verdict", "age")
	t.Empty("no experiments; create one with `phoenix experiment create`")
	for _, e := range es {
		t.Row(e.Name, e.Status, strconv.Itoa(len(e.Hosts)), variantsText(e), strconv.Itoa(e.Samples), verdictText(e), ago(e.CreatedAt))
	}
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return time.Since(t).Round(time.Second).String()
}

// statusTable shows one experiment: its transitions and hosts.
func statusTable(t *output.TableWriter, e api.Experiment) {
	t.Header("when", "status", "detail")
	for _, tr := range e.Transitions {
		t.Row(tr.At.Local().Format(time.DateTime), tr.Status, tr.Reason)
	}
	for _, h := range e.Hosts {
		t.Row("", "host "+h.Host, fmt.Sprintf("deployment %s, previous %s, experiment %s", orDash(h.Deployment), short(h.PreviousHash), short(h.ExperimentHash)))
	}
	for _, v := range e.Verdicts {
		t.Row("", "verdict "+v.Variant, v.Verdict+" - "+v.Criterion)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return orDash(h)
}

// post sends a body and prints the experiment it gets back.
func post(ctx context.Context, f *cmdutil.Factory, p string, body any) error {
	pr, err := f.Printer()
	if err != nil {
		return err
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	var e api.Experiment
	raw, err := c.DoBoth(ctx, "POST", p, body, &e)
	if err != nil {
		return err
	}
	return pr.Print(raw, func(t *output.TableWriter) { statusTable(t, e) })
}
