package api

import (
	"encoding/json"
	"time"
)

// Event is one message of /api/v1/stream as a client reads it; Data is the
// event's document (a Deployment, an Agent, a Job, an Experiment...).
type Event struct {
	Type       string          `json:"type"`
	Time       time.Time       `json:"time"`
	Deployment string          `json:"deployment,omitempty"`
	Host       string          `json:"host,omitempty"`
	AgentUID   string          `json:"agent_uid,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// Event types.
const (
	EventDeploymentCreated = "deployment.created"
	EventDeploymentUpdated = "deployment.updated"
	EventDeploymentDeleted = "deployment.deleted"
	EventDeploymentStatus  = "deployment.status"
	EventAgentUpdated      = "agent.updated"
	EventMetricsUpdated    = "metrics.updated"
	EventLoadSim           = "loadsim.updated"
	EventExperiment        = "experiment.updated"
	// EventResync tells a client that events meant for it were dropped
	// (it read too slowly): its picture may be stale, so it re-reads the
	// state it shows. It is sent whatever the client's filters, once the
	// client has caught up with what is buffered.
	EventResync = "stream.resync"
	// EventHello is the first message of every stream.
	EventHello = "hello"
)

// StreamHello is the data of the stream's first message.
type StreamHello struct {
	// ServerID names the replica serving the stream.
	ServerID string `json:"server_id"`
}

// StreamResync is the data of a stream.resync event.
type StreamResync struct {
	// Dropped counts the events this client missed since the last resync.
	Dropped int64 `json:"dropped"`
}

// MetricsUpdated is the data of a metrics.updated event: an agent's own
// metrics were ingested on this replica.
type MetricsUpdated struct {
	AgentUID string   `json:"agent_uid"`
	Names    []string `json:"names"`
}
