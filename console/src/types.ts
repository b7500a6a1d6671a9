// The console's types. The API's documents are generated from the Go wire
// types (package opamp-server/api) into api.gen.ts by
// `go run ./opamp-server/api/cmd/tsgen`; a Go test fails when that file is
// stale. Only what the API package does not define is written here.
export type {
  Agent, Catalog, Comparison, Deployment, DeploymentStatus, Destination, Experiment, ExperimentHost, Health, HostConfig,
  HostStatus, Job as LoadJob, KPITest, MetricBucket, MetricSeries, Param, Problem, Profile as LoadProfile, Promotion, Rendered, Result, Series as KPISeries,
  Target, Template, Transition, Variant, Version,
} from './api.gen';
import type { Event } from './api.gen';

/** One message of /api/v1/stream. */
export type StreamEvent = Omit<Event, 'time'> & { time: string };

/** Host status values (docs/api.md). */
export type HostState = 'pending' | 'applying' | 'applied' | 'degraded' | 'failed' | 'offline' | 'stale' | 'none';

