package api

import "time"

// MetricBucket is one aggregated bucket of one of an agent's own-metrics
// series (GET /api/v1/metrics/series).
type MetricBucket struct {
	AgentUID    string    `json:"agent"`
	Name        string    `json:"name"`
	Pipeline    string    `json:"pipeline,omitempty"`
	Stage       string    `json:"stage,omitempty"`
	Variant     string    `json:"variant,omitempty"`
	StepSeconds int64     `json:"step_seconds"`
	Start       time.Time `json:"start"`
	Last        float64   `json:"last"`
	Min         float64   `json:"min"`
	Max         float64   `json:"max"`
	Sum         float64   `json:"sum"`
	Count       int64     `json:"count"`
}

// MetricSeries is the answer of GET /api/v1/metrics/series.
type MetricSeries struct {
	// StepSeconds is the resolution the server chose for the query.
	StepSeconds int64          `json:"step_seconds"`
	Buckets     []MetricBucket `json:"buckets"`
}

// Readiness is the answer of GET /healthz and GET /readyz.
type Readiness struct {
	// Status is ok (healthz), ready, starting or "store unavailable".
	Status string `json:"status"`
	// Error is why the store did not answer (readyz only).
	Error string `json:"error,omitempty"`
}
