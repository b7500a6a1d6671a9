package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/cli/internal/output"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// ValidateOptions are the arguments of `phoenix pipeline validate`.
type ValidateOptions struct {
	File    string
	Remote  bool
	Otelcol string
}

// NewValidateCmd is `phoenix pipeline validate`.
func NewValidateCmd(f *cmdutil.Factory) *cobra.Command {
	o := &ValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate <file>",
		Short: "Check a collector YAML file; print each problem's line, column and reason (exit 4 when invalid)",
		Long: `Check a collector YAML file (or - for stdin) with the catalog's validator:
YAML syntax, the top-level sections, component references and pipelines,
and the settings of the Phoenix components (topk, adaptive_filter,
cardinality, loadgen) as phoenix-otelcol reads them: unknown keys are refused
and each component's own Validate() runs. Files over 1 MiB are refused
(exit 4) before they are parsed.
Each problem is printed as file:line:column: path: reason, and the command
exits with 4 when there is any.

It runs locally and needs no server; --remote asks the server's validator
instead. --otelcol also runs the real collector binary's validate command
(what the agent runs before it applies a config).`,
		Example: `  phoenix pipeline validate my-collector.yaml
  phoenix pipeline show process-topk-v1 | phoenix pipeline validate -
  phoenix pipeline validate my-collector.yaml --otelcol ./bin/phoenix-otelcol`,
		Args: cmdutil.ExactArgs("file"),
		RunE: cmdutil.Run(func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return o.Run(cmd.Context(), f)
		}),
	}
	cmd.Flags().BoolVar(&o.Remote, "remote", false, "validate with the server's validator instead of locally")
	cmd.Flags().StringVar(&o.Otelcol, "otelcol", "", "also run `<binary> validate` with this phoenix-otelcol binary")
	return cmd
}

// validation is what validate prints with -o json|yaml.
type validation struct {
	File      string           `json:"file"`
	Valid     bool             `json:"valid"`
	Problems  []client.Problem `json:"problems"`
	Collector string           `json:"collector_error,omitempty"`
}

// Run validates the file: exit 4 when it is invalid.
func (o *ValidateOptions) Run(ctx context.Context, f *cmdutil.Factory) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	file := o.File
	data, err := cmdutil.ReadFileArg(f.In, file)
	if err != nil {
		return err
	}
	res := validation{File: file, Problems: []client.Problem{}}
	if o.Remote {
		c, err := f.Client()
		if err != nil {
			return err
		}
		if err := c.Do(ctx, http.MethodPost, "/api/v1/validate", nil, data, &res); err != nil {
			return err
		}
		res.File = file
	} else {
		for _, pr := range pipelines.ValidateYAML(data) {
			res.Problems = append(res.Problems, client.Problem{Line: pr.Line, Column: pr.Column, Path: pr.Path, Message: pr.Message})
		}
	}
	if len(res.Problems) == 0 && o.Otelcol != "" {
		if err := pipelines.ValidateWithBinary(ctx, o.Otelcol, data); err != nil {
			var be *pipelines.BinaryValidationError
			if !errors.As(err, &be) {
				return fmt.Errorf("--otelcol: %w", err)
			}
			res.Collector = be.Output
		}
	}
	res.Valid = len(res.Problems) == 0 && res.Collector == ""
	if p.Format != output.Table {
		if err := p.Print(res, nil); err != nil {
			return err
		}
	} else if res.Valid {
		fmt.Fprintf(f.Out, "%s: valid\n", file)
	} else {
		for _, pr := range res.Problems {
			fmt.Fprintln(f.Out, cmdutil.ProblemLine(file, pr))
		}
		if res.Collector != "" {
			fmt.Fprintf(f.Out, "%s: the collector refuses it:\n%s\n", file, indent(res.Collector))
		}
	}
	if !res.Valid {
		n := len(res.Problems)
		what := fmt.Sprintf("%d problem(s)", n)
		if n == 0 {
			what = "the collector's validate failed"
		}
		return cmdutil.ValidationError(fmt.Errorf("%s is not a valid collector config: %s", file, what), "")
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
