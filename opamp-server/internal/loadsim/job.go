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
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/phoenix-otel/phoenix/loadgen"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
)

// The job types are the API's (one declaration for the server, the CLI
// and the console).
type (
	// Mode is how a job puts load on its host.
	Mode = api.LoadSimMode
	// Status is a job's state.
	Status = api.JobStatus
	// Duration reads and writes as a Go duration string.
	Duration = api.Duration
	// Request is what a user asks for (POST /api/v1/loadsim/jobs).
	Request = api.JobRequest
	// Job is a load simulation and its state.
	Job = api.Job
)

// Modes.
const (
	Synthetic = api.LoadSimSynthetic
	Process   = api.LoadSimProcess
)

// Statuses.
const (
	Pending  = api.JobPending
	Running  = api.JobRunning
	Stopped  = api.JobStopped
	Finished = api.JobFinished
	Failed   = api.JobFailed
)

// Statuses lists every status, for validation and docs.
func Statuses() []Status { return []Status{Pending, Running, Stopped, Finished, Failed} }

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
func Check(r *Request) (*loadgen.Profile, error) {
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
