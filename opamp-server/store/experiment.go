package store

import (
	"context"
	"time"
)

// ChangeExperiment announces an experiment write (Key: its name), so every
// replica re-renders the desired state of the experiment's hosts.
const ChangeExperiment = "experiment"

// ExperimentRecord is an experiment as stored: the record is the
// experiment's JSON (owned by opamp-server/experiment); the other fields are
// columns for lookups and the compare-and-set.
type ExperimentRecord struct {
	Name   string
	Status string
	// Active: the experiment holds its hosts (pending, deploying, warming
	// up, running).
	Active bool
	// Revision counts writes; PutExperiment compares and sets it.
	Revision  int
	CreatedAt time.Time
	Record    []byte
}

// ExperimentSample is one KPI value of one variant on one host in one
// sample interval of an experiment.
type ExperimentSample struct {
	Interval int       `json:"interval"`
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	Variant  string    `json:"variant"`
	KPI      string    `json:"kpi"`
	Value    float64   `json:"value"`
}

// ExperimentStore keeps experiments and their samples. It is part of Store.
type ExperimentStore interface {
	// PutExperiment writes r when the stored revision is expect (0: a new
	// experiment) and stores it with revision expect+1, announcing a
	// ChangeExperiment. A lost race, or an existing name for a new one, is
	// ErrVersionConflict.
	PutExperiment(ctx context.Context, r ExperimentRecord, expect int) error
	// GetExperiment returns an experiment or ErrNotFound.
	GetExperiment(ctx context.Context, name string) (ExperimentRecord, error)
	// ListExperiments returns experiments newest first; activeOnly keeps
	// the active ones.
	ListExperiments(ctx context.Context, activeOnly bool) ([]ExperimentRecord, error)
	// DeleteExperiment removes an experiment and its samples (ErrNotFound).
	DeleteExperiment(ctx context.Context, name string) error
	// AddExperimentSamples stores samples; a sample already stored for the
	// same (interval, host, variant, kpi) is kept as it was, so a replayed
	// interval never counts twice.
	AddExperimentSamples(ctx context.Context, name string, samples []ExperimentSample) error
	// ListExperimentSamples returns an experiment's samples by interval.
	ListExperimentSamples(ctx context.Context, name string) ([]ExperimentSample, error)
	// LeaseExperiment gives holder the right to analyse the experiment
	// until `until`, when no other holder has an unexpired lease; it reports
	// whether holder has it. Renewing one's own lease always succeeds.
	LeaseExperiment(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
}
