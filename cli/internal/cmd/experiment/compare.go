package experiment

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/cmd/experiment/report"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// CompareOptions are the flags of `phoenix experiment compare`.
type CompareOptions struct {
	Name string
	File string
}

func newCompareCmd(f *cmdutil.Factory) *cobra.Command {
	o := &CompareOptions{}
	cmd := &cobra.Command{
		Use:   "compare NAME",
		Short: "Compare the variants: KPIs, differences with 95% CIs, p-values and the verdicts",
		Long: `Compare shows, for each candidate against the baseline, the means of the
KPIs, their difference with a 95% confidence interval, the p-values (Welch,
paired t on the interval-paired samples, Wilcoxon signed-rank; the one used
after Holm's correction), the reduction, critical retention, whether the
input was identical in every interval, the monthly cost, the CPU of each
variant (its processors' CPU time and the collector's CPU with it alone),
and the verdict with the criterion that decided it; then the collectors'
CPU and memory before and during the experiment. While the experiment runs the verdict
is computed on the samples so far.

-o html writes ONE self-contained HTML file (charts of every KPI over time
for all variants, and the verdict table) to --file or stdout.`,
		Example: `  phoenix experiment compare agg
  phoenix experiment compare agg -o html --file agg.html`,
		Args:              oneName,
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			c, err := f.Client()
			if err != nil {
				return err
			}
			var cmp api.Comparison
			html := f.OutputFlag() == "html"
			if html {
				if err := c.Get(cmd.Context(), path(o.Name, "compare"), nil, &cmp); err != nil {
					return err
				}
				w := f.Out
				if o.File != "" && o.File != "-" {
					fh, err := os.OpenFile(o.File, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
					if err != nil {
						return err
					}
					defer fh.Close()
					w = fh
				}
				if err := report.Write(w, cmp); err != nil {
					return err
				}
				if o.File != "" && o.File != "-" {
					fmt.Fprintf(f.Err, "wrote %s\n", o.File)
				}
				return nil
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			raw, err := c.GetBoth(cmd.Context(), path(o.Name, "compare"), nil, &cmp)
			if err != nil {
				return err
			}
			return p.Print(raw, func(t *output.TableWriter) { compareTable(t, cmp) })
		},
	}
	cmd.Flags().StringVar(&o.File, "file", "", "with -o html: the file to write (default stdout)")
	return cmd
}

// f1 is one decimal, or three significant digits below 10 (CPU in cores).
func f1(x float64) string {
	if x != 0 && x > -10 && x < 10 {
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}
func g3(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }

func compareTable(t *output.TableWriter, c api.Comparison) {
	t.Header("variant", "kpi", "baseline", "variant mean", "diff [95% CI]", "p welch", "p paired", "p rank", "p used (Holm)", "verdict")
	t.Empty("no samples yet")
	for _, r := range c.Results {
		for i, k := range r.KPIs {
			verdict := ""
			if i == 0 {
				verdict = fmt.Sprintf("%s: %s; reduction %s%%, critical %s%%, identical input %d/%d, cost/month %.2f -> %.2f",
					r.Verdict, r.Criterion, f1(r.ReductionPct), f1(r.CriticalRetentionPct), r.InputIdentical, r.Intervals, r.BaselineCostMonth, r.CandidateCostMonth)
				if r.CPUMeasured {
					verdict += fmt.Sprintf(", CPU %+.1f%% (p above the bound %s)", r.CPUIncreasePct, g3(r.PCPUAboveBound))
				} else {
					verdict += ", CPU not measured"
				}
			}
			t.Row(r.Variant, k.KPI, f1(k.BaselineMean), f1(k.CandidateMean), fmt.Sprintf("%s [%s, %s]", f1(k.Diff), f1(k.CILow), f1(k.CIHigh)),
				g3(k.PWelch), g3(k.PPaired), g3(k.PRank), g3(k.PAdjusted)+" "+k.Method, verdict)
		}
	}
	// The collectors before and during (what the experiment itself costs).
	for _, k := range c.Collector {
		t.Row("(collector)", k.KPI+" before -> during", f1(k.BeforeMean), f1(k.DuringMean), fmt.Sprintf("%s [%s, %s]", f1(k.Diff), f1(k.CILow), f1(k.CIHigh)),
			g3(k.PWelch), "", "", "", fmt.Sprintf("%d intervals before, %d during", k.BeforeN, k.DuringN))
	}
}
