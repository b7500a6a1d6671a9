package api

import (
	"sort"
	"strings"
	"time"
)

// Destination is where a deployed pipeline exports to.
type Destination struct {
	Type     string            `json:"type"`
	Endpoint string            `json:"endpoint,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Insecure bool              `json:"insecure,omitempty"`
}

// Target chooses hosts: explicit host names, a label selector (all labels
// must match), or both (a host matching either is targeted).
type Target struct {
	Hosts    []string          `json:"hosts,omitempty"`
	Selector map[string]string `json:"selector,omitempty"`
}

// String renders the target for a table cell: "h1,h2 k=v,k2=v2".
func (t Target) String() string {
	var parts []string
	if len(t.Hosts) > 0 {
		parts = append(parts, strings.Join(t.Hosts, ","))
	}
	if len(t.Selector) > 0 {
		keys := make([]string, 0, len(t.Selector))
		for k := range t.Selector {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sel := make([]string, len(keys))
		for i, k := range keys {
			sel[i] = k + "=" + t.Selector[k]
		}
		parts = append(parts, strings.Join(sel, ","))
	}
	return strings.Join(parts, " ")
}

// Host statuses.
const (
	StatusPending  = "pending"
	StatusApplying = "applying"
	StatusApplied  = "applied"
	StatusFailed   = "failed"
	// StatusDegraded: the config is applied, but the agent reports exports
	// or receivers failing (Error is the last such error).
	StatusDegraded = "degraded"
	StatusOffline  = "offline"
	StatusNone     = "none" // the host has no deployment and runs no remote config
)

// HostStatus is one host's state against its desired config.
type HostStatus struct {
	Host              string    `json:"host"`
	AgentUID          string    `json:"agent_uid,omitempty"`
	Deployment        string    `json:"deployment,omitempty"`
	Version           int       `json:"version,omitempty"`
	Experiment        string    `json:"experiment,omitempty"`
	Status            string    `json:"status"`
	Error             string    `json:"error,omitempty"`
	Detail            string    `json:"detail,omitempty"`
	Connected         bool      `json:"connected"`
	LastSeen          time.Time `json:"last_seen,omitzero"`
	DesiredHash       string    `json:"desired_hash,omitempty"`
	ReportedHash      string    `json:"reported_hash,omitempty"`
	RemoteStatus      string    `json:"remote_config_status,omitempty"`
	PushedAt          time.Time `json:"pushed_at,omitzero"`
	AppliedAt         time.Time `json:"applied_at,omitzero"`
	EffectiveConfigSH string    `json:"effective_config_hash,omitempty"`
	// Health is what the agent reports of its collector (nil when it
	// reports nothing); Unhealthy lists its failing components.
	Health *Health `json:"health,omitempty"`
}

// DeploymentStatus aggregates a deployment's hosts. Deployment, Version and
// Final are set by GET /api/v1/deployments/{name}/status.
type DeploymentStatus struct {
	Deployment string         `json:"deployment,omitempty"`
	Version    int            `json:"version,omitempty"`
	Status     string         `json:"status"`
	Detail     string         `json:"detail,omitempty"`
	Total      int            `json:"total"`
	Counts     map[string]int `json:"counts"`
	Hosts      []HostStatus   `json:"hosts,omitempty"`
	Final      bool           `json:"final"`
	// NextOffset, on GET .../status, is the offset of the next page of
	// hosts (0: this page is the last).
	NextOffset int `json:"next_offset,omitempty"`
}

// IsFinal reports whether a deployment's status will not change by itself.
func (d DeploymentStatus) IsFinal() bool {
	return d.Status == StatusApplied || d.Status == StatusFailed || d.Status == StatusDegraded
}

// Deployment is a deployment with its current version.
type Deployment struct {
	Name     string `json:"name"`
	Version  int    `json:"version"`
	Template string `json:"template"`
	// Config is a raw config: the user's own collector YAML, instead of
	// Template, Params and Destination. It reaches the agents as it is.
	Config      string            `json:"config,omitempty"`
	Params      map[string]any    `json:"params,omitempty"`
	Destination Destination       `json:"destination"`
	Target      Target            `json:"target"`
	RollbackOf  int               `json:"rollback_of,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Status      *DeploymentStatus `json:"status,omitempty"`
	// Unchanged, on a write: the spec equals the current version's, so no
	// version was created (a repeated or retried deploy); Detail says so.
	Unchanged bool   `json:"unchanged,omitempty"`
	Detail    string `json:"detail,omitempty"`
	// Warnings, on a write: e.g. target host names no agent has reported
	// (the deployment waits for them).
	Warnings []string `json:"warnings,omitempty"`
}

// DeploymentList is GET /api/v1/deployments.
type DeploymentList struct {
	Deployments []Deployment `json:"deployments"`
}

// DeploymentRequest creates (POST) or updates (PUT/PATCH) a deployment.
// Fields left out of an update keep their value.
type DeploymentRequest struct {
	Name     string `json:"name,omitempty"`
	Template string `json:"template,omitempty"`
	// Config is a raw config (the user's own collector YAML) instead of a
	// template; on an update, giving one replaces the template (and giving
	// a template replaces the config).
	Config      string         `json:"config,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
	Destination *Destination   `json:"destination,omitempty"`
	Target      *Target        `json:"target,omitempty"`
	// Rollout is how the new version reaches its hosts (left out of an
	// update: the current version's policy).
	Rollout         *RolloutPolicy `json:"rollout,omitempty"`
	ExpectedVersion int            `json:"expected_version,omitempty"`
}

// RollbackRequest is POST /api/v1/deployments/{name}/rollback.
type RollbackRequest struct {
	ToVersion *int `json:"to_version"`
}

// Deleted answers a DELETE.
type Deleted struct {
	Deleted string `json:"deleted"`
	Detail  string `json:"detail,omitempty"`
}

// Version is one immutable version of a deployment.
type Version struct {
	Deployment string `json:"deployment"`
	Version    int    `json:"version"`
	Template   string `json:"template"`
	// Config is a raw config: the user's own collector YAML, instead of
	// Template, Params and Destination. It reaches the agents as it is.
	Config      string         `json:"config,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
	Destination Destination    `json:"destination"`
	Target      Target         `json:"target"`
	RollbackOf  int            `json:"rollback_of,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	Current     bool           `json:"current"`
}

// VersionList is GET /api/v1/deployments/{name}/versions.
type VersionList struct {
	Deployment string    `json:"deployment"`
	Current    int       `json:"current"`
	Versions   []Version `json:"versions"`
}

// DeploymentConfig is GET /api/v1/deployments/{name}/config.
type DeploymentConfig struct {
	Deployment string `json:"deployment"`
	Version    int    `json:"version"`
	Host       string `json:"host"`
	YAML       string `json:"yaml"`
	SHA256     string `json:"sha256"`
}
