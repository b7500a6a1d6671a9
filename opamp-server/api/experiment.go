package api

import "time"

// Experiment statuses. Active ones hold their hosts.
const (
	ExperimentPending   = "pending"
	ExperimentDeploying = "deploying"
	ExperimentWarmingUp = "warming_up"
	ExperimentRunning   = "running"
	ExperimentCompleted = "completed"
	ExperimentStopped   = "stopped"
	ExperimentFailed    = "failed"
	ExperimentPromoted  = "promoted"
)

// Verdicts.
const (
	VerdictPromote      = "promote"
	VerdictReject       = "reject"
	VerdictInconclusive = "inconclusive"
)

// Variant is one side of an experiment: a catalog template with parameters.
type Variant struct {
	// Name is the variant's name: "baseline", "candidate", then
	// "candidate2".."candidate4" unless given.
	Name     string         `json:"name,omitempty"`
	Template string         `json:"template"`
	Params   map[string]any `json:"params,omitempty"`
	// Config is a raw config (the user's own collector YAML, one metrics
	// pipeline) instead of Template: its processors and exporters run on the
	// experiment's receiver, between the variant's tagging and cardinality
	// processors.
	Config string `json:"config,omitempty"`
}

// Criteria decide the verdict. Zero values take the documented defaults.
type Criteria struct {
	// MinReductionPct is the least reduction of output series a candidate
	// must show to be promoted (default 20).
	MinReductionPct float64 `json:"min_reduction_pct,omitempty"`
	// MaxCPUIncreasePct bounds the candidate's estimated collector CPU
	// against the baseline's, same hosts, same intervals (the collector_cpu
	// KPI): a candidate significantly above it is rejected (default 50).
	MaxCPUIncreasePct float64 `json:"max_cpu_increase_pct,omitempty"`
	// CriticalRetentionPct is the share of critical processes every
	// interval must keep (default and only accepted value 100).
	CriticalRetentionPct float64 `json:"critical_retention_pct,omitempty"`
	// Alpha is the significance level, after Holm's correction (default 0.05).
	Alpha float64 `json:"alpha,omitempty"`
	// MinSamples is how many paired intervals each variant needs before a
	// verdict other than inconclusive (default 10).
	MinSamples int `json:"min_samples,omitempty"`
}

// Prices turn the KPIs into an estimated monthly cost.
type Prices struct {
	// PerMillionDataPoints is the price of one million ingested data points
	// (default 0.10).
	PerMillionDataPoints float64 `json:"per_million_datapoints,omitempty"`
	// PerActiveSeries is the monthly price of one active series (default 0.002).
	PerActiveSeries float64 `json:"per_active_series,omitempty"`
	Currency        string  `json:"currency,omitempty"`
}

// ExperimentRequest creates an experiment (POST /api/v1/experiments).
type ExperimentRequest struct {
	Name   string `json:"name"`
	Target Target `json:"target"`
	// Baseline defaults to each host's current deployment.
	Baseline *Variant `json:"baseline,omitempty"`
	// Candidate is the first candidate; Candidates may add up to three more.
	Candidate  *Variant  `json:"candidate,omitempty"`
	Candidates []Variant `json:"candidates,omitempty"`
	// Duration of the measured phase, Warmup before it, Interval between
	// samples: Go durations ("10m", "30s"). Defaults 30m, 1m, 1m.
	Duration string   `json:"duration,omitempty"`
	Warmup   string   `json:"warmup,omitempty"`
	Interval string   `json:"interval,omitempty"`
	Criteria Criteria `json:"criteria,omitzero"`
	Prices   Prices   `json:"prices,omitzero"`
	// LoadSim puts a synthetic load simulation on every host while the
	// experiment runs: the loadgen receiver joins the one receiver, so every
	// variant reads the same synthetic processes too.
	LoadSim *ExperimentLoad `json:"load_sim,omitempty"`
	// Start starts the experiment at once.
	Start bool `json:"start,omitempty"`
}

// ExperimentLoad is an experiment's load simulation profile.
type ExperimentLoad struct {
	// Profile is realistic, high-cardinality or process-churn.
	Profile      string  `json:"profile"`
	ProcessCount int     `json:"process_count,omitempty"`
	ChurnRate    float64 `json:"churn_rate,omitempty"`
	Seed         int64   `json:"seed,omitempty"`
}

// Transition is one change of an experiment's status.
type Transition struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// By names the server replica that made the transition.
	By string `json:"by,omitempty"`
}

// ExperimentHost is one host of an experiment.
type ExperimentHost struct {
	Host     string `json:"host"`
	AgentUID string `json:"agent_uid,omitempty"`
	// Deployment is the host's deployment when the experiment started.
	Deployment string `json:"deployment,omitempty"`
	// PreviousHash is the config the host ran before: stop, failure and
	// delete return it there.
	PreviousHash string `json:"previous_hash,omitempty"`
	// ExperimentHash is the experiment's config for this host.
	ExperimentHash string `json:"experiment_hash,omitempty"`
	Status         string `json:"status,omitempty"`
	Error          string `json:"error,omitempty"`
	// LoadJob is the host's load simulation job, when the experiment has one.
	LoadJob string `json:"load_job,omitempty"`
}

// Experiment is GET /api/v1/experiments/{name}.
type Experiment struct {
	Name        string           `json:"name"`
	Status      string           `json:"status"`
	Reason      string           `json:"reason,omitempty"`
	Target      Target           `json:"target"`
	Variants    []Variant        `json:"variants"`
	Duration    string           `json:"duration"`
	Warmup      string           `json:"warmup"`
	Interval    string           `json:"interval"`
	Criteria    Criteria         `json:"criteria"`
	Prices      Prices           `json:"prices"`
	LoadSim     *ExperimentLoad  `json:"load_sim,omitempty"`
	Hosts       []ExperimentHost `json:"hosts,omitempty"`
	Transitions []Transition     `json:"transitions"`
	CreatedAt   time.Time        `json:"created_at"`
	// Samples is the number of complete sample intervals stored.
	Samples  int      `json:"samples"`
	Verdicts []Result `json:"verdicts,omitempty"`
	// Promoted names the variant and the deployment version it became.
	Promoted *Promotion `json:"promoted,omitempty"`
}

// Active reports whether the experiment holds its hosts.
func (e Experiment) Active() bool {
	switch e.Status {
	case ExperimentPending, ExperimentDeploying, ExperimentWarmingUp, ExperimentRunning:
		return true
	}
	return false
}

// Promotion is what promote did.
type Promotion struct {
	Variant    string    `json:"variant"`
	Deployment string    `json:"deployment"`
	Version    int       `json:"version"`
	At         time.Time `json:"at"`
	Forced     bool      `json:"forced,omitempty"`
}

// ExperimentList is GET /api/v1/experiments.
type ExperimentList struct {
	Experiments []Experiment `json:"experiments"`
}

// PromoteRequest is POST /api/v1/experiments/{name}/promote.
type PromoteRequest struct {
	Variant string `json:"variant"`
	Force   bool   `json:"force,omitempty"`
}

// KPITest is one KPI of one candidate against the baseline.
type KPITest struct {
	KPI           string  `json:"kpi"`
	Unit          string  `json:"unit,omitempty"`
	BaselineMean  float64 `json:"baseline_mean"`
	CandidateMean float64 `json:"candidate_mean"`
	N             int     `json:"n"`
	// Diff is candidate - baseline, with its 95% confidence interval (paired).
	Diff   float64 `json:"diff"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// PWelch, PPaired and PRank are the raw p-values; PAdjusted is the one
	// used (paired, or the rank test when the differences are skewed)
	// after Holm's correction over the candidates.
	PWelch    float64 `json:"p_welch"`
	PPaired   float64 `json:"p_paired"`
	PRank     float64 `json:"p_rank"`
	Method    string  `json:"method"`
	PAdjusted float64 `json:"p_adjusted"`
}

// Result is the verdict on one candidate, with the measured values.
type Result struct {
	Variant string `json:"variant"`
	Verdict string `json:"verdict"`
	// Criterion names what decided it, with the measured value.
	Criterion string    `json:"criterion"`
	Detail    string    `json:"detail"`
	KPIs      []KPITest `json:"kpis"`
	// ReductionPct is the mean reduction of output series against the baseline.
	ReductionPct float64 `json:"reduction_pct"`
	// CriticalRetentionPct is the lowest share of critical processes kept
	// in any interval.
	CriticalRetentionPct float64 `json:"critical_retention_pct"`
	// InputIdentical counts the intervals whose input series and processes
	// were identical to the baseline's, of Intervals.
	InputIdentical int `json:"input_identical_intervals"`
	Intervals      int `json:"intervals"`
	// Monthly cost estimates of the baseline and this candidate.
	BaselineCostMonth  float64 `json:"baseline_cost_month"`
	CandidateCostMonth float64 `json:"candidate_cost_month"`
	// CPUMeasured tells whether the collector CPU and the variants'
	// processing CPU were measured (the collector_cpu KPI); only then does
	// max_cpu_increase decide.
	CPUMeasured bool `json:"cpu_measured"`
	// CPUIncreasePct is the candidate's estimated collector CPU against the
	// baseline's, in percent of the baseline's.
	CPUIncreasePct float64 `json:"cpu_increase_pct"`
	// PCPUAboveBound is the one-sided paired t-test's p-value (after Holm
	// over the candidates) that the increase is above MaxCPUIncreasePct.
	PCPUAboveBound float64 `json:"p_cpu_above_bound"`
}

// BeforeDuring is a figure of the hosts' collectors before the experiment
// (the config they ran, over up to ten intervals before it deployed) and
// during it (every variant in one collector): what the experiment itself
// costs, mean per host, with Welch's test.
type BeforeDuring struct {
	KPI        string  `json:"kpi"`
	Unit       string  `json:"unit"`
	BeforeMean float64 `json:"before_mean"`
	DuringMean float64 `json:"during_mean"`
	BeforeN    int     `json:"before_n"`
	DuringN    int     `json:"during_n"`
	// Diff is during - before, with its 95% confidence interval (Welch).
	Diff   float64 `json:"diff"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	PWelch float64 `json:"p_welch"`
}

// Point is one sample of a KPI over time (the mean over the hosts).
type Point struct {
	Interval int       `json:"interval"`
	Time     time.Time `json:"time"`
	Value    float64   `json:"value"`
}

// Series is one KPI of one variant over time.
type Series struct {
	KPI     string  `json:"kpi"`
	Variant string  `json:"variant"`
	Points  []Point `json:"points"`
}

// Comparison is GET /api/v1/experiments/{name}/compare: the verdicts and
// every KPI over time for every variant.
type Comparison struct {
	Experiment Experiment `json:"experiment"`
	Results    []Result   `json:"results"`
	Series     []Series   `json:"series"`
	// Collector is the collectors' CPU and memory before and during.
	Collector []BeforeDuring `json:"collector"`
}
