// Wire types of phoenix-server's REST API and stream (opamp-server/docs/api.md).
// Written by hand until the Go wire-types package (opamp-server/api) exists;
// then this file re-exports the generated types.

export type HostState =
  | 'pending' | 'applying' | 'applied' | 'degraded' | 'failed' | 'offline' | 'stale' | 'none';

export interface HostStatus {
  host: string;
  agent_uid?: string;
  deployment?: string;
  version?: number;
  status: HostState | string;
  error?: string;
  detail?: string;
  connected: boolean;
  last_seen?: string;
  desired_hash?: string;
  reported_hash?: string;
  remote_config_status?: string;
  pushed_at?: string;
  applied_at?: string;
  effective_config_hash?: string;
}

export interface Health {
  healthy: boolean;
  status?: string;
  last_error?: string;
  start_time?: string;
}

export interface Agent {
  instance_uid: string;
  host_name: string;
  os?: string;
  arch?: string;
  agent_version?: string;
  collector_version?: string;
  labels?: Record<string, string>;
  transport?: string;
  connected: boolean;
  online?: boolean;
  server_id?: string;
  first_seen?: string;
  last_seen?: string;
  health?: Health;
  remote_config_status?: string;
  remote_config_error?: string;
  desired_deployment?: string;
  desired_version?: number;
  status?: HostStatus;
}

export interface Destination {
  type: string;
  endpoint?: string;
  headers?: Record<string, string>;
  insecure?: boolean;
}

export interface Target {
  hosts?: string[];
  selector?: Record<string, string>;
}

export interface DeploymentStatus {
  status: string;
  detail?: string;
  total: number;
  counts: Record<string, number>;
  hosts?: HostStatus[];
}

export interface Deployment {
  name: string;
  version: number;
  template: string;
  params?: Record<string, unknown>;
  destination?: Destination;
  target?: Target;
  rollback_of?: number;
  created_at?: string;
  updated_at?: string;
  status?: DeploymentStatus;
}

export interface Version {
  deployment: string;
  version: number;
  template: string;
  params?: Record<string, unknown>;
  destination?: Destination;
  target?: Target;
  rollback_of?: number;
  created_at?: string;
  current?: boolean;
}

export interface Param {
  name: string;
  description: string;
  type: string;
  default?: unknown;
  min?: number;
  max?: number;
  enum?: string[];
  required?: boolean;
  regex?: boolean;
}

export interface Template {
  name: string;
  title: string;
  description: string;
  when_to_use: string;
  expected_reduction: string;
  params: Param[];
  processors?: string[];
}

export interface Catalog {
  templates: Template[];
  destination_types: string[];
}

export interface Rendered {
  template: string;
  yaml: string;
  sha256: string;
}

export interface HostConfig {
  host: string;
  agent_uid?: string;
  deployment?: string;
  version?: number;
  status?: string;
  effective?: { yaml: string; sha256: string };
  desired?: { yaml: string; sha256: string; error?: string };
  remote_config_status?: { status: string; hash?: string; error?: string };
}

export interface MetricBucket {
  agent: string;
  name: string;
  pipeline?: string;
  stage?: string;
  variant?: string;
  step_seconds: number;
  start: string;
  last: number;
  min: number;
  max: number;
  sum: number;
  count: number;
}

export interface LoadJob {
  id: string;
  target_host: string;
  profile: string;
  mode?: string;
  duration?: string;
  process_count?: number;
  status: string;
  error?: string;
  live_processes: number;
  target_processes?: number;
  created_at: string;
  updated_at: string;
}

export interface LoadProfile {
  name: string;
  description: string;
  default_process_count: number;
  default_churn_rate: number;
}

export interface StreamEvent {
  type: string;
  time: string;
  deployment?: string;
  host?: string;
  agent_uid?: string;
  data?: unknown;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
}
