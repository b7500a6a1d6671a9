// Package loadsim is phoenix-server's side of load simulations: jobs that put
// synthetic or real-process load on one host, their storage and status, and
// their REST API under /api/v1/loadsim.
//
// A synthetic job adds the loadgen receiver to the target host's desired
// config (pipelines.WithLoadSim), so its fake processes flow through the
// host's deployed pipeline; it is running once the host's agent reports that
// config APPLIED and finished when its duration has elapsed (the receiver is
// then taken out of the config again). A process job asks the host's agent,
// through the OpAMP custom capability io.phoenix.loadsim, to start real OS
// processes with the loadgen spawner, so that the real process scraper sees
// them; its status follows the agent's status messages.
//
// One host runs at most one active job at a time: the agent's spawner runs
// one simulation, and the config takes one loadgen receiver.
package loadsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// Mode is how a job puts load on its host.
type Mode string

// Modes.
const (
	// Synthetic: the loadgen receiver in the collector's config.
	Synthetic Mode = "synthetic"
	// Process: real OS processes started by the agent.
	Process Mode = "process"
)

// Status is a job's state.
type Status string

// Statuses. pending and running are active; the others are final.
const (
	Pending  Status = "pending"  // stored; not yet applied on the host
	Running  Status = "running"  // the load is on the host
	Stopped  Status = "stopped"  // stopped by a user
	Finished Status = "finished" // its duration elapsed
	Failed   Status = "failed"   // the host refused or lost it; see Error
)

// Final reports whether a status is final.
func (s Status) Final() bool { return s == Stopped || s == Finished || s == Failed }

// Statuses lists every status, for validation and docs.
func Statuses() []Status { return []Status{Pending, Running, Stopped, Finished, Failed} }

// Duration is a time.Duration that reads and writes as a Go duration string
// ("5m"); a JSON number is taken as seconds.
type Duration time.Duration

// MarshalJSON writes "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s == "" {
			*d = 0
			return nil
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 90s, 5m, 1h)", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("%s is not a duration: give a string such as \"5m\" or a number of seconds", string(b))
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Request is what a user asks for (POST /api/v1/loadsim/jobs).
type Request struct {
	TargetHost string `json:"target_host"`
	// Profile is realistic, high-cardinality, process-churn or custom.
	Profile string `json:"profile"`
	// Mode is synthetic (the default) or process.
	Mode Mode `json:"mode,omitempty"`
	// Duration: 0 runs until stopped.
	Duration     Duration `json:"duration,omitempty"`
	ProcessCount int      `json:"process_count,omitempty"`
	ChurnRate    float64  `json:"churn_rate,omitempty"`
	// ProfileYAML is the content of a custom profile file.
	ProfileYAML string `json:"profile_yaml,omitempty"`
	// ProfilePath is where the custom profile file lives on the target host:
	// the loadgen receiver of a synthetic job reads it there. Process jobs
	// take ProfileYAML instead (the agent writes it down itself).
	ProfilePath string `json:"profile_path,omitempty"`
	Seed        int64  `json:"seed,omitempty"`
}

// Job is a load simulation and its state.
type Job struct {
	ID string `json:"id"`
	// Revision counts writes (compare-and-set between server replicas).
	Revision int `json:"revision"`
	Request
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
	// AgentUID is the agent of the target host the job was started on.
	AgentUID string `json:"agent_uid,omitempty"`
	// ConfigHash (synthetic) is the desired config that carries the load.
	ConfigHash string `json:"config_hash,omitempty"`
	// StopRequested is set by a stop until the host confirms it.
	StopRequested bool `json:"stop_requested,omitempty"`
	// Delivered (process) is when the start was handed to the agent's
	// connection; StopDelivered likewise for the stop.
	Delivered     time.Time `json:"delivered_at,omitzero"`
	StopDelivered time.Time `json:"stop_delivered_at,omitzero"`
	// AskedAt is when the server last asked an unanswering agent for its
	// status.
	AskedAt time.Time `json:"asked_at,omitzero"`
	// Live, Started and Exited are the agent's process counters (process).
	TargetProcesses int `json:"target_processes,omitempty"`
	Live            int `json:"live_processes"`
	Started         int `json:"started_processes,omitempty"`
	Exited          int `json:"exited_processes,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// Active reports whether the job still holds its host.
func (j Job) Active() bool { return !j.Status.Final() }

// FieldError is a bad request field; the API answers 422 naming it.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func bad(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// maxProfileYAML bounds a custom profile's size (it is stored and sent over
// OpAMP).
const maxProfileYAML = 256 << 10

// Check validates a request in full, as the host will resolve it, and fills
// in the default mode. It returns the resolved profile.
func (r *Request) Check() (*loadgen.Profile, error) {
	r.TargetHost = strings.TrimSpace(r.TargetHost)
	if r.TargetHost == "" {
		return nil, bad("target_host", "required: the host name of an agent (see GET /api/v1/agents)")
	}
	if r.Mode == "" {
		r.Mode = Synthetic
	}
	if r.Mode != Synthetic && r.Mode != Process {
		return nil, bad("mode", "%q is not a mode: use %s or %s", r.Mode, Synthetic, Process)
	}
	if r.Duration < 0 {
		return nil, bad("duration", "must be >= 0 (0 runs until stopped), got %s", time.Duration(r.Duration))
	}
	if r.ProcessCount < 0 {
		return nil, bad("process_count", "must be >= 0 (0 keeps the profile's), got %d", r.ProcessCount)
	}
	if r.ChurnRate < 0 || math.IsNaN(r.ChurnRate) || math.IsInf(r.ChurnRate, 0) {
		return nil, bad("churn_rate", "must be a finite number >= 0 (0 keeps the profile's), got %v", r.ChurnRate)
	}
	if r.Seed < 0 {
		return nil, bad("seed", "must be >= 0, got %d", r.Seed)
	}
	over := loadgen.Overrides{ProcessCount: r.ProcessCount, ChurnRate: r.ChurnRate, Duration: time.Duration(r.Duration)}
	var (
		p   *loadgen.Profile
		err error
	)
	switch r.Profile {
	case loadgen.ProfileCustom:
		if strings.TrimSpace(r.ProfileYAML) == "" {
			return nil, bad("profile_yaml", "required with profile %q: the content of the profile file", loadgen.ProfileCustom)
		}
		if len(r.ProfileYAML) > maxProfileYAML {
			return nil, bad("profile_yaml", "%d bytes is over the limit of %d", len(r.ProfileYAML), maxProfileYAML)
		}
		if r.Mode == Synthetic && r.ProfilePath == "" {
			return nil, bad("profile_path", "required with profile %q in synthetic mode: the loadgen receiver reads the profile from a file on the target host (or use mode %q)", loadgen.ProfileCustom, Process)
		}
		if _, err := loadgen.ParseCustomProfile([]byte(r.ProfileYAML)); err != nil {
			return nil, bad("profile_yaml", "%v", err)
		}
		if p, err = resolveCustom(r.ProfileYAML, over, r.Seed); err != nil {
			return nil, err
		}
	case "":
		return nil, bad("profile", "required: one of %s", strings.Join(loadgen.ProfileNames(), ", "))
	default:
		if r.ProfileYAML != "" || r.ProfilePath != "" {
			return nil, bad("profile_yaml", "only allowed with profile %q, not %q", loadgen.ProfileCustom, r.Profile)
		}
		p, err = loadgen.Resolve(loadgen.Spec{Profile: r.Profile, Overrides: over, Seed: r.Seed})
		if err != nil {
			return nil, fieldFromLoadgen(err)
		}
	}
	return p, nil
}

// resolveCustom resolves a custom profile's content with the overrides by
// loadgen's own rules: loadgen reads custom profiles from files only, so the
// content goes through a private temporary file.
func resolveCustom(content string, o loadgen.Overrides, seed int64) (*loadgen.Profile, error) {
	dir, err := os.MkdirTemp("", "phoenix-loadsim-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "profile.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return nil, err
	}
	p, err := loadgen.Resolve(loadgen.Spec{Profile: loadgen.ProfileCustom, ProfileFile: path, Overrides: o, Seed: seed})
	if err != nil {
		// Name the field the user gave, not the temporary file.
		return nil, fieldFromLoadgen(errors.New(strings.ReplaceAll(err.Error(), path, "profile_yaml")))
	}
	return p, nil
}

// fieldFromLoadgen turns loadgen's "field: reason" errors into a FieldError.
func fieldFromLoadgen(err error) error {
	msg := err.Error()
	if f, reason, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(f, " \"") {
		return &FieldError{Field: f, Reason: reason}
	}
	return &FieldError{Field: "profile", Reason: msg}
}
