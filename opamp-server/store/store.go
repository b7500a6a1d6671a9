// Package store defines phoenix-server's persistent state (deployments and
// their immutable versions, the agent registry, agents' own-metric series) and
// the one interface that the SQLite and PostgreSQL implementations share.
// Both implementations pass the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Errors every implementation returns (wrapped) so that callers can use errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrExists          = errors.New("already exists")
	ErrVersionConflict = errors.New("version conflict")
)

// ConflictError is returned when a deployment's target overlaps another
// deployment's hosts. It names the other deployment and the hosts.
type ConflictError struct {
	Deployment string
	Hosts      []string
	Reason     string
}

func (e *ConflictError) Error() string {
	if len(e.Hosts) == 0 {
		return fmt.Sprintf("target overlaps deployment %q: %s", e.Deployment, e.Reason)
	}
	return fmt.Sprintf("target overlaps deployment %q on host(s) %s: a host belongs to one deployment at a time",
		e.Deployment, strings.Join(e.Hosts, ", "))
}

// Destination is where a deployed pipeline exports to.
type Destination struct {
	Type     string            `json:"type"`
	Endpoint string            `json:"endpoint,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Insecure bool              `json:"insecure,omitempty"`
}

// Target chooses a deployment's hosts: explicit host names, a label selector
// (all labels must match), or both (a host matching either is targeted).
type Target struct {
	Hosts    []string          `json:"hosts,omitempty"`
	Selector map[string]string `json:"selector,omitempty"`
}

// Empty reports whether the target chooses nothing.
func (t Target) Empty() bool { return len(t.Hosts) == 0 && len(t.Selector) == 0 }

// Matches reports whether an agent with that host name and labels is targeted.
func (t Target) Matches(host string, labels map[string]string) bool {
	for _, h := range t.Hosts {
		if h == host {
			return true
		}
	}
	if len(t.Selector) == 0 {
		return false
	}
	for k, v := range t.Selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// String renders the target for messages.
func (t Target) String() string {
	var parts []string
	if len(t.Hosts) > 0 {
		parts = append(parts, "hosts="+strings.Join(t.Hosts, ","))
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
		parts = append(parts, "selector="+strings.Join(sel, ","))
	}
	return strings.Join(parts, " ")
}

// DeploymentSpec is what a user deploys: a catalog template with parameters,
// a destination and a target, or a raw config (the user's own collector
// YAML, delivered as it is) and a target.
type DeploymentSpec struct {
	Template string `json:"template"`
	// Config is a raw config, instead of Template, Params and Destination.
	Config      string         `json:"config,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
	Destination Destination    `json:"destination"`
	Target      Target         `json:"target"`
	// Rollout is how this version reaches its hosts (nil: staged with the
	// defaults).
	Rollout *RolloutPolicy `json:"rollout,omitempty"`
}

// DeploymentVersion is one immutable version of a deployment.
type DeploymentVersion struct {
	Deployment string         `json:"deployment"`
	Version    int            `json:"version"`
	Spec       DeploymentSpec `json:"spec"`
	// RollbackOf is N when this version was created by a rollback to version N.
	RollbackOf int       `json:"rollback_of,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Deployment is a deployment's current state: its newest version.
type Deployment struct {
	Name      string            `json:"name"`
	Version   int               `json:"version"`
	Current   DeploymentVersion `json:"current"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Remote config statuses as the agent reports them (OpAMP RemoteConfigStatuses).
const (
	RemoteUnset    = "UNSET"
	RemoteApplying = "APPLYING"
	RemoteApplied  = "APPLIED"
	RemoteFailed   = "FAILED"
)

// Health is the agent's reported health.
type Health struct {
	Healthy   bool      `json:"healthy"`
	Status    string    `json:"status,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	StartTime time.Time `json:"start_time,omitzero"`
	// Components are the sub-components the agent reports unhealthy
	// (OpAMP ComponentHealthMap, flattened to "a > b" paths; bounded).
	Components map[string]ComponentHealth `json:"components,omitempty"`
}

// ComponentHealth is one unhealthy sub-component of an agent.
type ComponentHealth struct {
	Status    string    `json:"status,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at,omitzero"`
}

// FailedConfig records a config hash an agent reported FAILED. The server
// never pushes that hash to that agent again.
type FailedConfig struct {
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Agent is one entry of the agent registry.
type Agent struct {
	InstanceUID      string            `json:"instance_uid"`
	HostName         string            `json:"host_name"`
	PendingHost      string            `json:"pending_host,omitempty"` // claimed while another agent holds it (HostName is then "")
	OS               string            `json:"os,omitempty"`
	Arch             string            `json:"arch,omitempty"`
	AgentVersion     string            `json:"agent_version,omitempty"`
	CollectorVersion string            `json:"collector_version,omitempty"`
	Identifying      map[string]string `json:"identifying_attributes,omitempty"`
	NonIdentifying   map[string]string `json:"non_identifying_attributes,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	Capabilities     uint64            `json:"capabilities"`
	Transport        string            `json:"transport,omitempty"` // websocket | http

	Connected bool      `json:"connected"`
	ServerID  string    `json:"server_id,omitempty"` // replica holding the connection
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`

	Health *Health `json:"health,omitempty"`

	EffectiveConfig     string `json:"-"`
	EffectiveConfigHash string `json:"effective_config_hash,omitempty"`

	RemoteStatus string `json:"remote_config_status,omitempty"`
	RemoteHash   string `json:"remote_config_hash,omitempty"`
	RemoteError  string `json:"remote_config_error,omitempty"`

	// Desired state as last computed by the replica holding the connection.
	DesiredDeployment string    `json:"desired_deployment,omitempty"`
	DesiredVersion    int       `json:"desired_version,omitempty"`
	DesiredHash       string    `json:"desired_hash,omitempty"`
	DesiredError      string    `json:"desired_error,omitempty"`
	PushedHash        string    `json:"pushed_hash,omitempty"`
	PushedAt          time.Time `json:"pushed_at,omitzero"`
	AppliedAt         time.Time `json:"applied_at,omitzero"`

	FailedConfigs map[string]FailedConfig `json:"failed_configs,omitempty"`
	// RetryPending: an operator asked to retry (POST .../retry); the next
	// reconcile pushes the desired config even if the agent reports it
	// FAILED, with the io.phoenix.retry message.
	RetryPending bool `json:"retry_pending,omitempty"`
}

// Change is a notification that something changed, delivered to every
// replica (PostgreSQL LISTEN/NOTIFY) or every subscriber in-process (SQLite).
type Change struct {
	Kind string `json:"kind"` // deployment | agent
	Key  string `json:"key"`  // deployment name or agent instance uid
	// Keys carries several agents in one PostgreSQL notification (a batch
	// write); subscribers always receive one Change per key.
	Keys    []string `json:"keys,omitempty"`
	Version int      `json:"version,omitempty"`
	Deleted bool     `json:"deleted,omitempty"`
	Origin  string   `json:"origin,omitempty"` // server id of the writer
}

// Change kinds.
const (
	ChangeDeployment = "deployment"
	ChangeAgent      = "agent"
	// ChangeResync says changes may have been missed (a replica's listener
	// reconnected): subscribers reload everything.
	ChangeResync = "resync"
)

// ConflictCheck runs inside the transaction that writes a deployment version,
// with every other deployment and every agent, so that the one-deployment-per-
// host rule holds across replicas. It returns a *ConflictError to refuse.
type ConflictCheck func(others []Deployment, agents []Agent) error

// MetricPoint is one sample of an agent's own metric.
type MetricPoint struct {
	AgentUID string
	Name     string
	Pipeline string
	Stage    string
	Variant  string
	Time     time.Time
	Value    float64
}

// Resolution is a downsampling level: samples are folded into buckets of
// Step and kept for Retention.
type Resolution struct {
	Step      time.Duration
	Retention time.Duration
}

// MetricBucket is an aggregated bucket of one series.
type MetricBucket struct {
	AgentUID string    `json:"agent"`
	Name     string    `json:"name"`
	Pipeline string    `json:"pipeline,omitempty"`
	Stage    string    `json:"stage,omitempty"`
	Variant  string    `json:"variant,omitempty"`
	Step     int64     `json:"step_seconds"`
	Start    time.Time `json:"start"`
	Last     float64   `json:"last"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
	Sum      float64   `json:"sum"`
	Count    int64     `json:"count"`
}

// MetricQuery selects buckets; empty strings match everything.
type MetricQuery struct {
	AgentUID string
	Name     string
	Pipeline string
	Stage    string
	Variant  string
	Step     time.Duration
	Since    time.Time
	Limit    int
}

// Store is phoenix-server's persistence.
type Store interface {
	// LoadSimStore keeps load simulation jobs (loadsim.go).
	LoadSimStore
	// ExperimentStore keeps experiments and their samples (experiment.go).
	ExperimentStore
	// IdentityStore keeps agents' credentials and host bindings (identity.go).
	IdentityStore
	// RolloutStore keeps deployments' staged rollouts (rollout.go).
	RolloutStore

	// CreateDeployment stores version 1 of a new deployment. ErrExists if the
	// name is taken; the check's error if it refuses.
	CreateDeployment(ctx context.Context, name string, spec DeploymentSpec, check ConflictCheck) (DeploymentVersion, error)
	// AddDeploymentVersion stores version expect+1. ErrVersionConflict when the
	// current version is not expect (someone else changed it), ErrNotFound when
	// the deployment does not exist.
	AddDeploymentVersion(ctx context.Context, name string, expect int, spec DeploymentSpec, rollbackOf int, check ConflictCheck) (DeploymentVersion, error)
	GetDeployment(ctx context.Context, name string) (Deployment, error)
	ListDeployments(ctx context.Context) ([]Deployment, error)
	GetDeploymentVersion(ctx context.Context, name string, version int) (DeploymentVersion, error)
	ListDeploymentVersions(ctx context.Context, name string) ([]DeploymentVersion, error)
	// DeleteDeployment removes the deployment and its versions.
	DeleteDeployment(ctx context.Context, name string) error

	// UpsertAgent writes the whole agent record; notify sends a Change so that
	// other replicas and stream clients learn of it (not for heartbeats).
	UpsertAgent(ctx context.Context, a Agent, notify bool) error
	// UpsertAgents writes several records in one transaction with one
	// prepared statement (the server's batched writer).
	UpsertAgents(ctx context.Context, agents []Agent, notify bool) error
	// TouchAgents moves last_seen forward to at for the agents that serverID
	// still holds (batched liveness; announces nothing).
	TouchAgents(ctx context.Context, uids []string, serverID string, at time.Time) error
	GetAgent(ctx context.Context, uid string) (Agent, error)
	ListAgents(ctx context.Context) ([]Agent, error)
	// ListAgentRecords is ListAgents without the effective configs
	// (EffectiveConfig is empty, its hash stays): what a status needs, at
	// a fraction of the bytes (a config is ~5 KB, the rest ~1 KB).
	ListAgentRecords(ctx context.Context) ([]Agent, error)
	// ListAgentsSeenBefore is ListAgentRecords of the agents whose last_seen
	// is before t: the stale sweep's candidates, found without reading and
	// decoding the whole fleet every 15 s.
	ListAgentsSeenBefore(ctx context.Context, t time.Time) ([]Agent, error)
	// MarkDisconnected sets connected=false when serverID still holds the agent.
	MarkDisconnected(ctx context.Context, uid, serverID string, at time.Time) error
	// MarkServerDisconnected marks every agent held by serverID disconnected
	// (a replica starting after a crash).
	MarkServerDisconnected(ctx context.Context, serverID string) error
	// DeleteAgent forgets an agent.
	DeleteAgent(ctx context.Context, uid string) error

	// WriteMetrics folds points into one bucket per resolution.
	WriteMetrics(ctx context.Context, points []MetricPoint, resolutions []Resolution) error
	QueryMetrics(ctx context.Context, q MetricQuery) ([]MetricBucket, error)
	// PruneMetrics deletes buckets past each resolution's retention.
	PruneMetrics(ctx context.Context, now time.Time, resolutions []Resolution) (int64, error)

	// DeploymentsGeneration is a counter every deployment write (create,
	// new version, delete) increments in its transaction: equal values mean
	// nothing changed in between.
	DeploymentsGeneration(ctx context.Context) (int64, error)

	// Subscribe delivers changes until ctx ends. No change is ever dropped
	// and writers never wait for readers: changes a slow subscriber has not
	// read yet coalesce per (kind, key) into the latest one, and deployment
	// changes are delivered before agent changes. Consumers therefore read
	// the state a change names rather than rely on the change's fields.
	Subscribe(ctx context.Context) <-chan Change
	Ping(ctx context.Context) error
	Close() error
}
