package api

import "time"

// Job is a load simulation job as GET /api/v1/loadsim/jobs/{id} shows it.
type Job struct {
	ID              string    `json:"id"`
	TargetHost      string    `json:"target_host"`
	AgentUID        string    `json:"agent_uid,omitempty"`
	Profile         string    `json:"profile"`
	Mode            string    `json:"mode"`
	Duration        string    `json:"duration,omitempty"`
	ProcessCount    int       `json:"process_count,omitempty"`
	ChurnRate       float64   `json:"churn_rate,omitempty"`
	Status          string    `json:"status"`
	Error           string    `json:"error,omitempty"`
	StopRequested   bool      `json:"stop_requested,omitempty"`
	TargetProcesses int       `json:"target_processes,omitempty"`
	Live            int       `json:"live_processes"`
	Started         int       `json:"started_processes,omitempty"`
	Exited          int       `json:"exited_processes,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	StartedAt       time.Time `json:"started_at,omitzero"`
	EndedAt         time.Time `json:"ended_at,omitzero"`
}

// Final reports whether a job's status is final.
func (j Job) Final() bool {
	return j.Status == "stopped" || j.Status == "finished" || j.Status == "failed"
}

// JobRequest starts a load simulation (POST /api/v1/loadsim/jobs).
type JobRequest struct {
	TargetHost   string  `json:"target_host"`
	Profile      string  `json:"profile"`
	Mode         string  `json:"mode,omitempty"`
	Duration     string  `json:"duration,omitempty"`
	ProcessCount int     `json:"process_count,omitempty"`
	ChurnRate    float64 `json:"churn_rate,omitempty"`
	ProfileYAML  string  `json:"profile_yaml,omitempty"`
	ProfilePath  string  `json:"profile_path,omitempty"`
	Seed         int64   `json:"seed,omitempty"`
}

// Profile is a load profile (GET /api/v1/loadsim/profiles).
type Profile struct {
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	DefaultProcessCount int      `json:"default_process_count"`
	DefaultChurnRate    float64  `json:"default_churn_rate"`
	CriticalServices    []string `json:"critical_services,omitempty"`
}
