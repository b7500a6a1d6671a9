package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/phoenix-otel/phoenix/cli/internal/cmdutil"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// CreateOptions are the flags of `phoenix experiment create`.
type CreateOptions struct {
	File       string
	Hosts      []string
	Selector   map[string]string
	Baseline   string
	Candidates []string
	Params     []string
	Duration   time.Duration
	Warmup     time.Duration
	Interval   time.Duration
	Criteria   api.Criteria
	Prices     api.Prices
	Load       api.ExperimentLoad
	Start      bool
}

func newCreateCmd(f *cmdutil.Factory) *cobra.Command {
	o := &CreateOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an experiment from flags or from a scenario file",
		Long: `Create an experiment: the target hosts, the baseline (default: each
host's current deployment) and one to four candidates, each a catalog
template with parameters. Parameters are --param VARIANT.KEY=VALUE, the
variants being baseline, candidate, candidate2.. (VALUE is JSON, or a plain
string). A scenario file (-f) is the JSON or YAML of the API's request
(see opamp-server/docs/api.md); flags given beside it override it.`,
		Example: `  phoenix experiment create agg --hosts web-1 --candidate process-aggregated-v1 --duration 30m --start
  phoenix experiment create three --selector env=prod --baseline process-baseline-v1 \
    --candidate process-topk-v1 --candidate process-aggregated-v1 --param candidate.k=20
  phoenix experiment create -f scenario.yaml`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := o.request(cmd, args, f.In)
			if err != nil {
				return err
			}
			return post(cmd.Context(), f, basePath, req)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "file", "f", "", "scenario file (JSON or YAML of the create request; - reads stdin)")
	fl.StringSliceVar(&o.Hosts, "hosts", nil, "target host names (comma-separated)")
	fl.StringToStringVar(&o.Selector, "selector", nil, "target label selector (k=v,...)")
	fl.StringVar(&o.Baseline, "baseline", "", "baseline template (default: each host's current deployment)")
	fl.StringArrayVar(&o.Candidates, "candidate", nil, "candidate template (repeat for up to four candidates)")
	fl.StringArrayVar(&o.Params, "param", nil, "a variant's parameter: VARIANT.KEY=VALUE (e.g. candidate.k=20)")
	fl.DurationVar(&o.Duration, "duration", 0, "measured phase (default 30m)")
	fl.DurationVar(&o.Warmup, "warmup", -1, "warm-up before measuring (default 1m)")
	fl.DurationVar(&o.Interval, "interval", 0, "sample interval (default 1m; not below the server's finest --metric-resolutions step, 1m unless the server allows 10s)")
	fl.Float64Var(&o.Criteria.MinReductionPct, "min-reduction", 0, "least output-series reduction to promote, % (default 20)")
	fl.Float64Var(&o.Criteria.MaxCPUIncreasePct, "max-cpu-increase", 0, "largest increase of the collector's CPU with the candidate alone over the baseline alone, %: significantly above it rejects (default 50)")
	fl.Float64Var(&o.Criteria.Alpha, "alpha", 0, "significance level after Holm's correction (default 0.05)")
	fl.IntVar(&o.Criteria.MinSamples, "min-samples", 0, "paired intervals needed before a verdict (default 10)")
	fl.Float64Var(&o.Prices.PerMillionDataPoints, "price-per-million-datapoints", 0, "price of a million data points (default 0.10)")
	fl.Float64Var(&o.Prices.PerActiveSeries, "price-per-series", 0, "monthly price of an active series (default 0.002)")
	fl.StringVar(&o.Load.Profile, "load-profile", "", "a synthetic load simulation on every host while it runs: realistic, high-cardinality or process-churn")
	fl.IntVar(&o.Load.ProcessCount, "load-process-count", 0, "with --load-profile: live synthetic processes (0: the profile's default)")
	fl.Int64Var(&o.Load.Seed, "load-seed", 0, "with --load-profile: random seed (the same seed reproduces the input)")
	fl.BoolVar(&o.Start, "start", false, "start the experiment at once")
	return cmd
}

func readScenario(path string, in io.Reader) (api.ExperimentRequest, error) {
	var req api.ExperimentRequest
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(in)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return req, &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("scenario %s: %w", path, err)}
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return req, &cmdutil.ExitError{Code: cmdutil.ExitValidation, Err: fmt.Errorf("scenario %s: %w", path, err)}
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return req, &cmdutil.ExitError{Code: cmdutil.ExitValidation, Err: fmt.Errorf("scenario %s: %w", path, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, &cmdutil.ExitError{Code: cmdutil.ExitValidation, Err: fmt.Errorf("scenario %s: %w", path, err),
			Hint: "the fields are those of POST /api/v1/experiments (opamp-server/docs/api.md)"}
	}
	return req, nil
}

// request builds the create request from the scenario file and the flags.
func (o *CreateOptions) request(cmd *cobra.Command, args []string, in io.Reader) (api.ExperimentRequest, error) {
	var req api.ExperimentRequest
	if o.File != "" {
		var err error
		if req, err = readScenario(o.File, in); err != nil {
			return req, err
		}
	}
	if len(args) == 1 {
		req.Name = args[0]
	}
	if req.Name == "" {
		return req, cmdutil.UsageError("give the experiment's name: phoenix experiment create NAME (or name: in the scenario file)")
	}
	fl := cmd.Flags()
	if fl.Changed("hosts") || fl.Changed("selector") {
		req.Target = api.Target{Hosts: o.Hosts, Selector: o.Selector}
	}
	if o.Baseline != "" {
		req.Baseline = &api.Variant{Template: o.Baseline}
	}
	if len(o.Candidates) > 0 {
		req.Candidate, req.Candidates = &api.Variant{Template: o.Candidates[0]}, nil
		for _, c := range o.Candidates[1:] {
			req.Candidates = append(req.Candidates, api.Variant{Template: c})
		}
	}
	for _, p := range o.Params {
		if err := setParam(&req, p); err != nil {
			return req, err
		}
	}
	if o.Duration > 0 {
		req.Duration = o.Duration.String()
	}
	if o.Warmup >= 0 {
		req.Warmup = o.Warmup.String()
	}
	if o.Interval > 0 {
		req.Interval = o.Interval.String()
	}
	mergeCriteria(&req.Criteria, o.Criteria)
	if o.Prices.PerMillionDataPoints != 0 {
		req.Prices.PerMillionDataPoints = o.Prices.PerMillionDataPoints
	}
	if o.Prices.PerActiveSeries != 0 {
		req.Prices.PerActiveSeries = o.Prices.PerActiveSeries
	}
	if o.Load.Profile != "" {
		l := o.Load
		req.LoadSim = &l
	} else if o.Load.ProcessCount != 0 || o.Load.Seed != 0 {
		return req, cmdutil.UsageError("--load-process-count and --load-seed go with --load-profile")
	}
	if o.Start {
		req.Start = true
	}
	return req, nil
}

func mergeCriteria(dst *api.Criteria, c api.Criteria) {
	if c.MinReductionPct != 0 {
		dst.MinReductionPct = c.MinReductionPct
	}
	if c.MaxCPUIncreasePct != 0 {
		dst.MaxCPUIncreasePct = c.MaxCPUIncreasePct
	}
	if c.Alpha != 0 {
		dst.Alpha = c.Alpha
	}
	if c.MinSamples != 0 {
		dst.MinSamples = c.MinSamples
	}
}

// setParam applies --param VARIANT.KEY=VALUE.
func setParam(req *api.ExperimentRequest, p string) error {
	kv, val, ok := strings.Cut(p, "=")
	variant, key, ok2 := strings.Cut(kv, ".")
	if !ok || !ok2 || variant == "" || key == "" {
		return cmdutil.UsageError("--param %q: want VARIANT.KEY=VALUE, e.g. candidate.k=20", p)
	}
	var v *api.Variant
	switch {
	case variant == "baseline":
		if req.Baseline == nil {
			return cmdutil.UsageError("--param %q: the baseline is the hosts' deployment; give --baseline TEMPLATE to set its parameters", p)
		}
		v = req.Baseline
	case variant == "candidate" && req.Candidate != nil:
		v = req.Candidate
	default:
		for i := range req.Candidates {
			if fmt.Sprintf("candidate%d", i+2) == variant || req.Candidates[i].Name == variant {
				v = &req.Candidates[i]
			}
		}
	}
	if v == nil {
		return cmdutil.UsageError("--param %q: no variant %q (baseline, candidate, candidate2.. as --candidate was given)", p, variant)
	}
	var x any
	if json.Unmarshal([]byte(val), &x) != nil {
		x = val
	}
	if v.Params == nil {
		v.Params = map[string]any{}
	}
	v.Params[key] = x
	return nil
}
