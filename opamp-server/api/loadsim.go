package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// LoadSimMode is how a load simulation job puts load on its host.
type LoadSimMode string

// Modes.
const (
	// LoadSimSynthetic: the loadgen receiver in the collector's config.
	LoadSimSynthetic LoadSimMode = "synthetic"
	// LoadSimProcess: real OS processes started by the agent.
	LoadSimProcess LoadSimMode = "process"
)

// JobStatus is a load simulation job's state.
type JobStatus string

// Statuses. pending and running are active; the others are final.
const (
	JobPending  JobStatus = "pending"  // stored; not yet applied on the host
	JobRunning  JobStatus = "running"  // the load is on the host
	JobStopped  JobStatus = "stopped"  // stopped by a user
	JobFinished JobStatus = "finished" // its duration elapsed
	JobFailed   JobStatus = "failed"   // the host refused or lost it; see Error
)

// Final reports whether a status is final.
func (s JobStatus) Final() bool { return s == JobStopped || s == JobFinished || s == JobFailed }

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

// String is the Go duration ("5m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// JobRequest starts a load simulation (POST /api/v1/loadsim/jobs).
type JobRequest struct {
	TargetHost string `json:"target_host"`
	// Profile is realistic, high-cardinality, process-churn or custom.
	Profile string `json:"profile"`
	// Mode is synthetic (the default) or process.
	Mode LoadSimMode `json:"mode,omitempty"`
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

// Job is a load simulation and its state, as the server stores it and
// GET /api/v1/loadsim/jobs/{id} shows it.
type Job struct {
	ID string `json:"id"`
	// Revision counts writes (compare-and-set between server replicas).
	Revision int `json:"revision"`
	JobRequest
	Status JobStatus `json:"status"`
	Error  string    `json:"error,omitempty"`
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

// Final reports whether a job's status is final.
func (j Job) Final() bool { return j.Status.Final() }

// Active reports whether the job still holds its host.
func (j Job) Active() bool { return !j.Status.Final() }

// Profile is a load profile (GET /api/v1/loadsim/profiles).
type Profile struct {
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	DefaultProcessCount int      `json:"default_process_count"`
	DefaultChurnRate    float64  `json:"default_churn_rate"`
	CriticalServices    []string `json:"critical_services,omitempty"`
}

// The agent/server protocol of real-process load simulation: the OpAMP
// custom capability LoadSimCapability. The server sends custom messages of
// type LoadSimStart (data: a LoadSimRequest), LoadSimStop and
// LoadSimStatus; the agent answers every one of them, and reports every
// change (including the end of a run), with a LoadSimStatus message whose
// data is a LoadSimState. phoenix-agent and phoenix-server both use these
// declarations.
const (
	LoadSimCapability = "io.phoenix.loadsim"
	LoadSimStart      = "start"
	LoadSimStop       = "stop"
	LoadSimStatus     = "status"
)

// LoadSimRequest is the JSON body of a start message.
type LoadSimRequest struct {
	// Profile is realistic, high-cardinality, process-churn or custom.
	Profile string `json:"profile"`
	// ProfileYAML is the custom profile itself (profile: custom); the
	// server's files are not on this host.
	ProfileYAML string `json:"profile_yaml,omitempty"`
	// ProcessCount overrides the profile's live process count (0 = default).
	ProcessCount int `json:"process_count,omitempty"`
	// ChurnRate overrides the processes replaced per second (0 = default).
	ChurnRate float64 `json:"churn_rate,omitempty"`
	// Duration is a Go duration ("5m"); empty or "0s" = the profile's default.
	Duration string `json:"duration,omitempty"`
	Seed     int64  `json:"seed,omitempty"`
}

// LoadSimState is the JSON body of a status message.
type LoadSimState struct {
	// State is idle (never started), running, stopped (stopped or its
	// duration elapsed) or failed (the start was refused; see Error).
	State     string          `json:"state"`
	Request   *LoadSimRequest `json:"request,omitempty"`
	Target    int             `json:"target_processes,omitempty"`
	Live      int             `json:"live"`
	Started   int             `json:"started"`
	Exited    int             `json:"exited"`
	StartedAt time.Time       `json:"started_at,omitzero"`
	EndedAt   time.Time       `json:"ended_at,omitzero"`
	CPUScale  float64         `json:"cpu_scale,omitempty"`
	Error     string          `json:"error,omitempty"`
}
