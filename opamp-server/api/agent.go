package api

import "time"

// Health is an agent's reported health.
type Health struct {
	Healthy   bool      `json:"healthy"`
	Status    string    `json:"status,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	StartTime time.Time `json:"start_time,omitzero"`
	// Components are the sub-components the agent reports unhealthy, by
	// path: "exporter:otlp_http" (phoenix-agent), or the contrib opamp
	// extension's "pipeline:metrics > exporter:otlp".
	Components map[string]ComponentHealth `json:"components,omitempty"`
}

// ComponentHealth is one unhealthy sub-component of an agent.
type ComponentHealth struct {
	Status    string    `json:"status,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at,omitzero"`
}

// FailedConfig is a config hash an agent reported FAILED; the server never
// pushes that hash to that agent again.
type FailedConfig struct {
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Agent is GET /api/v1/agents/{uid}: the registry entry, whether it is
// online, and its status against its desired config.
type Agent struct {
	InstanceUID      string            `json:"instance_uid"`
	HostName         string            `json:"host_name"`
	PendingHost      string            `json:"pending_host,omitempty"` // claimed, but bound to another agent: no config until approved
	OS               string            `json:"os,omitempty"`
	Arch             string            `json:"arch,omitempty"`
	AgentVersion     string            `json:"agent_version,omitempty"`
	CollectorVersion string            `json:"collector_version,omitempty"`
	Identifying      map[string]string `json:"identifying_attributes,omitempty"`
	NonIdentifying   map[string]string `json:"non_identifying_attributes,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	Capabilities     uint64            `json:"capabilities"`
	Transport        string            `json:"transport,omitempty"`

	Connected bool      `json:"connected"`
	ServerID  string    `json:"server_id,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`

	Health *Health `json:"health,omitempty"`

	EffectiveConfigHash string `json:"effective_config_hash,omitempty"`

	RemoteStatus string `json:"remote_config_status,omitempty"`
	RemoteHash   string `json:"remote_config_hash,omitempty"`
	RemoteError  string `json:"remote_config_error,omitempty"`

	DesiredDeployment string    `json:"desired_deployment,omitempty"`
	DesiredVersion    int       `json:"desired_version,omitempty"`
	DesiredHash       string    `json:"desired_hash,omitempty"`
	DesiredError      string    `json:"desired_error,omitempty"`
	PushedHash        string    `json:"pushed_hash,omitempty"`
	PushedAt          time.Time `json:"pushed_at,omitzero"`
	AppliedAt         time.Time `json:"applied_at,omitzero"`

	FailedConfigs map[string]FailedConfig `json:"failed_configs,omitempty"`

	Online bool       `json:"online"`
	Status HostStatus `json:"status"`
}

// AgentList is GET /api/v1/agents.
type AgentList struct {
	Agents []Agent `json:"agents"`
}

// HostList is GET /api/v1/hosts.
type HostList struct {
	Hosts []HostStatus `json:"hosts"`
}

// ConfigBody is a config and its sha256.
type ConfigBody struct {
	YAML   string `json:"yaml"`
	SHA256 string `json:"sha256"`
	Error  string `json:"error,omitempty"`
}

// RemoteConfigStatus is the agent's last report on the remote config.
type RemoteConfigStatus struct {
	Status string `json:"status"`
	Hash   string `json:"hash"`
	Error  string `json:"error"`
}

// HostConfig is GET /api/v1/hosts/{host}/config: what the host runs
// (effective, as its agent reported it) and what it should run (desired).
type HostConfig struct {
	Host               string             `json:"host"`
	AgentUID           string             `json:"agent_uid"`
	Deployment         string             `json:"deployment"`
	Version            int                `json:"version"`
	Experiment         string             `json:"experiment,omitempty"`
	Status             string             `json:"status"`
	Effective          ConfigBody         `json:"effective"`
	Desired            ConfigBody         `json:"desired"`
	RemoteConfigStatus RemoteConfigStatus `json:"remote_config_status"`
}

// RetryResult is POST /api/v1/hosts/{host}/retry.
type RetryResult struct {
	Host     string `json:"host"`
	AgentUID string `json:"agent_uid"`
	Detail   string `json:"detail"`
}
