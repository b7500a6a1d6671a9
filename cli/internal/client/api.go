package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The types below mirror phoenix-server's JSON (opamp-server/server/api.go
// and docs/api.md) with the fields the CLI's tables use; -o json and -o yaml
// print the server's documents whole (Raw), so no field is lost there.

// Param is a template parameter.
type Param struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Type        string   `json:"type"`
	Default     any      `json:"default,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	Required    bool     `json:"required,omitempty"`
}

// Template is one pipeline of the catalog.
type Template struct {
	Name              string   `json:"name"`
	Title             string   `json:"title"`
	Description       string   `json:"description"`
	WhenToUse         string   `json:"when_to_use"`
	ExpectedReduction string   `json:"expected_reduction"`
	Params            []Param  `json:"params"`
	Processors        []string `json:"processors"`
}

// Catalog is GET /api/v1/catalog.
type Catalog struct {
	Templates        []Template `json:"templates"`
	DestinationTypes []string   `json:"destination_types"`
}

// Rendered is a rendered config.
type Rendered struct {
	Template string `json:"template,omitempty"`
	YAML     string `json:"yaml"`
	SHA256   string `json:"sha256"`
}

// Destination is where a pipeline exports.
type Destination struct {
	Type     string            `json:"type"`
	Endpoint string            `json:"endpoint,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Insecure bool              `json:"insecure,omitempty"`
}

// Target chooses hosts.
type Target struct {
	Hosts    []string          `json:"hosts,omitempty"`
	Selector map[string]string `json:"selector,omitempty"`
}

// String is the target for a table cell.
func (t Target) String() string {
	var parts []string
	if len(t.Hosts) > 0 {
		parts = append(parts, strings.Join(t.Hosts, ","))
	}
	if len(t.Selector) > 0 {
		parts = append(parts, joinMap(t.Selector))
	}
	return strings.Join(parts, " ")
}

// HostStatus is one host against its desired config.
type HostStatus struct {
	Host         string    `json:"host"`
	AgentUID     string    `json:"agent_uid,omitempty"`
	Deployment   string    `json:"deployment,omitempty"`
	Version      int       `json:"version,omitempty"`
	Status       string    `json:"status"`
	Error        string    `json:"error,omitempty"`
	Detail       string    `json:"detail,omitempty"`
	Connected    bool      `json:"connected"`
	LastSeen     time.Time `json:"last_seen,omitzero"`
	DesiredHash  string    `json:"desired_hash,omitempty"`
	ReportedHash string    `json:"reported_hash,omitempty"`
	RemoteStatus string    `json:"remote_config_status,omitempty"`
	AppliedAt    time.Time `json:"applied_at,omitzero"`
}

// DeploymentStatus aggregates a deployment's hosts.
type DeploymentStatus struct {
	Deployment string         `json:"deployment,omitempty"`
	Version    int            `json:"version,omitempty"`
	Status     string         `json:"status"`
	Detail     string         `json:"detail,omitempty"`
	Total      int            `json:"total"`
	Counts     map[string]int `json:"counts"`
	Hosts      []HostStatus   `json:"hosts,omitempty"`
	Final      bool           `json:"final"`
}

// Deployment is a deployment with its current version.
type Deployment struct {
	Name        string            `json:"name"`
	Version     int               `json:"version"`
	Template    string            `json:"template"`
	Params      map[string]any    `json:"params,omitempty"`
	Destination Destination       `json:"destination"`
	Target      Target            `json:"target"`
	RollbackOf  int               `json:"rollback_of,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Status      *DeploymentStatus `json:"status,omitempty"`
}

// DeploymentRequest creates or updates a deployment.
type DeploymentRequest struct {
	Name        string         `json:"name,omitempty"`
	Template    string         `json:"template,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
	Destination *Destination   `json:"destination,omitempty"`
	Target      *Target        `json:"target,omitempty"`
}

// Health is an agent's reported health.
type Health struct {
	Healthy   bool      `json:"healthy"`
	Status    string    `json:"status,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	StartTime time.Time `json:"start_time,omitzero"`
}

// FailedConfig is a config hash an agent reported FAILED.
type FailedConfig struct {
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Agent is GET /api/v1/agents/{uid}.
type Agent struct {
	InstanceUID      string                  `json:"instance_uid"`
	HostName         string                  `json:"host_name"`
	OS               string                  `json:"os,omitempty"`
	Arch             string                  `json:"arch,omitempty"`
	AgentVersion     string                  `json:"agent_version,omitempty"`
	CollectorVersion string                  `json:"collector_version,omitempty"`
	Labels           map[string]string       `json:"labels,omitempty"`
	Capabilities     uint64                  `json:"capabilities"`
	Transport        string                  `json:"transport,omitempty"`
	Connected        bool                    `json:"connected"`
	FirstSeen        time.Time               `json:"first_seen"`
	LastSeen         time.Time               `json:"last_seen"`
	Health           *Health                 `json:"health,omitempty"`
	EffectiveHash    string                  `json:"effective_config_hash,omitempty"`
	RemoteStatus     string                  `json:"remote_config_status,omitempty"`
	RemoteHash       string                  `json:"remote_config_hash,omitempty"`
	RemoteError      string                  `json:"remote_config_error,omitempty"`
	FailedConfigs    map[string]FailedConfig `json:"failed_configs,omitempty"`
	Online           bool                    `json:"online"`
	Status           HostStatus              `json:"status"`
}

// HostConfig is GET /api/v1/hosts/{host}/config.
type HostConfig struct {
	Host       string `json:"host"`
	AgentUID   string `json:"agent_uid"`
	Deployment string `json:"deployment"`
	Version    int    `json:"version"`
	Status     string `json:"status"`
	Effective  struct {
		YAML   string `json:"yaml"`
		SHA256 string `json:"sha256"`
	} `json:"effective"`
	Desired struct {
		YAML   string `json:"yaml"`
		SHA256 string `json:"sha256"`
		Error  string `json:"error"`
	} `json:"desired"`
	RemoteConfigStatus struct {
		Status string `json:"status"`
		Hash   string `json:"hash"`
		Error  string `json:"error"`
	} `json:"remote_config_status"`
}

// Version is one immutable version of a deployment.
type Version struct {
	Deployment  string         `json:"deployment"`
	Version     int            `json:"version"`
	Template    string         `json:"template"`
	Params      map[string]any `json:"params,omitempty"`
	Destination Destination    `json:"destination"`
	Target      Target         `json:"target"`
	RollbackOf  int            `json:"rollback_of,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	Current     bool           `json:"current"`
}

// Job is a load simulation job (opamp-server/internal/loadsim).
type Job struct {
	ID              string    `json:"id"`
	TargetHost      string    `json:"target_host"`
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

// JobRequest starts a load simulation.
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

// Profile is a load profile.
type Profile struct {
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	DefaultProcessCount int      `json:"default_process_count"`
	DefaultChurnRate    float64  `json:"default_churn_rate"`
	CriticalServices    []string `json:"critical_services,omitempty"`
}

// Raw is a server document kept as it came, for -o json and -o yaml.
type Raw = json.RawMessage

// GetBoth fetches path once and decodes it into typed (for tables) and raw
// (for json/yaml).
func (c *Client) GetBoth(ctx context.Context, path string, q url.Values, typed any) (Raw, error) {
	var raw []byte
	if err := c.Do(ctx, http.MethodGet, path, q, nil, &raw); err != nil {
		return nil, err
	}
	if typed != nil {
		if err := json.Unmarshal(raw, typed); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

// DoBoth is GetBoth for any method and a JSON body.
func (c *Client) DoBoth(ctx context.Context, method, path string, body, typed any) (Raw, error) {
	var raw []byte
	if err := c.Do(ctx, method, path, nil, body, &raw); err != nil {
		return nil, err
	}
	if typed != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, typed); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
