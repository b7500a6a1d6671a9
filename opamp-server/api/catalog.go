package api

import (
	"time"

	"github.com/phoenix-otel/phoenix/pipelines"
)

// Catalog is GET /api/v1/catalog. The templates are the catalog's own
// declarations (package pipelines), served as they are.
type Catalog struct {
	Templates        []pipelines.Template `json:"templates"`
	DestinationTypes []string             `json:"destination_types"`
}

// RenderRequest is POST /api/v1/catalog/{template}/render.
type RenderRequest struct {
	Params      map[string]any    `json:"params,omitempty"`
	Destination *Destination      `json:"destination,omitempty"`
	HostName    string            `json:"host_name,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// Rendered is a rendered config.
type Rendered struct {
	Template string `json:"template,omitempty"`
	YAML     string `json:"yaml"`
	SHA256   string `json:"sha256"`
}

// ValidateRequest is POST /api/v1/validate with a JSON body.
type ValidateRequest struct {
	YAML string `json:"yaml"`
}

// Validation is the answer of POST /api/v1/validate.
type Validation struct {
	Valid    bool                `json:"valid"`
	Problems []pipelines.Problem `json:"problems"`
}

// Info is GET /api/v1/info.
type Info struct {
	Version             string    `json:"version"`
	Commit              string    `json:"commit"`
	BuildDate           string    `json:"build_date"`
	ServerID            string    `json:"server_id"`
	OpAMPURL            string    `json:"opamp_url"`
	StartedAt           time.Time `json:"started_at"`
	AgentsConnectedHere int       `json:"agents_connected_here"`
}
