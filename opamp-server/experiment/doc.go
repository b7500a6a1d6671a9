// Package experiment is the experiment domain of phoenix-server: a baseline
// and up to four candidate pipelines run side by side on the chosen hosts,
// on ONE receiver (pipelines.RenderExperiment), so every variant reads the
// very same scrape; their KPIs come from the collectors' own metrics
// (phoenix.cardinality.* per variant) and pair by sample interval; the
// verdict (package stats) promotes, rejects or stays inconclusive, naming
// the criterion and the measured values.
//
// Sampling: the running phase starts after the warm-up once every host
// has reported a window of every variant, at a bucket boundary; interval k
// is then exactly its buckets, and its figure per host and variant is the
// last window the collector reported within it (README.md, "Sample
// intervals and pairing").
//
// Lifecycle: pending -> deploying -> warming_up -> running -> completed
// (verdict), or stopped, failed (reason) and promoted; every transition is
// kept with its time. Guardrails: a host whose collector fails on the
// experiment's config, or a candidate that loses a critical process in an
// interval, fails the experiment at once; the hosts then get back exactly
// the config they ran before (the experiment layer stops applying, and the
// deployment renders the same bytes).
//
// State and samples live in the store (SQLite or PostgreSQL), so a restart
// loses nothing; with replicas a lease row lets exactly one replica advance
// and analyse each experiment. The package returns domainerr errors.
package experiment
