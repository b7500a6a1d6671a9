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
)
