// The fleet state the views render: one row per host, kept up to date by
// the REST snapshot and the stream's events. Pure logic, unit-tested.
import type { Agent, HostStatus, MetricBucket, StreamEvent } from './types';

/** Figures of one host's pipeline, from the collector's own metrics. */
export interface Figures {
  inputProcesses?: number;
  inputSeries?: number;
  outputSeries?: number;
  criticalIn?: number;
  criticalOut?: number;
  cpu?: number; // cores
  memory?: number; // bytes (RSS)
}

// Rows are replaced, never changed in place, so a view can skip rows whose
// object is the same as in its last render.
export interface Row {
  host: string;
  status: HostStatus;
  agent?: Agent;
  figures: Figures;
}

export const METRIC = {
  processes: 'phoenix.cardinality.processes',
  series: 'phoenix.cardinality.series',
  critical: 'phoenix.cardinality.critical_processes',
  cpu: 'otelcol_process_cpu_seconds',
  memory: 'otelcol_process_memory_rss',
} as const;

/** Reduction of output series against input series (0..1). */
export function reduction(f: Figures): number | undefined {
  if (f.inputSeries === undefined || f.outputSeries === undefined || f.inputSeries <= 0) return undefined;
  return 1 - f.outputSeries / f.inputSeries;
}

/** Share of the critical processes at the input that the output kept. */
export function criticalRetained(f: Figures): number | undefined {
  if (f.criticalIn === undefined || f.criticalOut === undefined) return undefined;
  if (f.criticalIn === 0) return 1;
  return Math.min(1, f.criticalOut / f.criticalIn);
}

/** Estimated monthly saving in USD at a price per active series per month. */
export function monthlySaving(f: Figures, pricePerSeries: number): number | undefined {
  if (f.inputSeries === undefined || f.outputSeries === undefined) return undefined;
  return Math.max(0, f.inputSeries - f.outputSeries) * pricePerSeries;
}

/** The error a row shows: the collector's own error first. */
export function rowError(r: Row): string {
  return r.status.error || r.agent?.remote_config_error || (r.agent?.health && !r.agent.health.healthy ? r.agent.health.last_error || '' : '') || '';
}

export class FleetState {
  rows = new Map<string, Row>();
  /** Counts changes, so a view recomputes its sorted rows only after one. */
  rev = 0;
  private uidHost = new Map<string, string>();
  private listeners = new Set<() => void>();
  private scheduled = false;
  /** Schedules a notification; the browser passes requestAnimationFrame. */
  constructor(private schedule: (f: () => void) => void = (f) => queueMicrotask(f)) {}

  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Coalesces many changes into one notification (one render per frame). */
  changed() {
    this.rev++;
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      for (const f of this.listeners) f();
    });
  }

  private row(host: string): Row {
    let r = this.rows.get(host);
    if (!r) {
      r = { host, status: { host, status: 'pending', connected: false }, figures: {} };
      this.rows.set(host, r);
    }
    return r;
  }

  /** Replaces the state with a REST snapshot (hosts and agents). */
  load(hosts: HostStatus[], agents: Agent[]) {
    const old = this.rows;
    this.rows = new Map();
    this.uidHost.clear();
    for (const h of hosts) {
      const r = this.row(h.host);
      r.status = h;
      r.figures = old.get(h.host)?.figures ?? {};
    }
    // The hosts list names each host's most recent agent; keep that one.
    for (const a of agents) {
      const r = this.rows.get(a.host_name);
      if (!r) continue;
      if (!r.status.agent_uid || r.status.agent_uid === a.instance_uid) r.agent = a;
    }
    for (const r of this.rows.values()) if (r.agent) this.uidHost.set(r.agent.instance_uid, r.host);
    this.changed();
  }

  /** Applies one stream event; returns whether the state changed. */
  apply(ev: StreamEvent): boolean {
    switch (ev.type) {
      case 'agent.updated': {
        const a = ev.data as Agent | undefined;
        if (!a || typeof a.host_name !== 'string') return false;
        const prevHost = this.uidHost.get(a.instance_uid);
        if (prevHost !== undefined && prevHost !== a.host_name) {
          const prev = this.rows.get(prevHost);
          if (prev && prev.agent?.instance_uid === a.instance_uid) this.rows.delete(prevHost);
        }
        const r = this.row(a.host_name);
        // Another, newer agent holds this host name: ignore the old one's news.
        if (r.agent && r.agent.instance_uid !== a.instance_uid && a.last_seen && r.agent.last_seen && a.last_seen < r.agent.last_seen) return false;
        this.rows.set(a.host_name, { ...r, agent: a, status: a.status ?? r.status });
        this.uidHost.set(a.instance_uid, a.host_name);
        this.changed();
        return true;
      }
      case 'deployment.status': {
        const d = ev.data as { hosts?: HostStatus[] } | undefined;
        let any = false;
        for (const h of d?.hosts ?? []) {
          if (!h || typeof h.host !== 'string') continue;
          const r = this.row(h.host);
          // A status event lists every host of the deployment: keep the rows
          // that did not change, so they are not rendered again.
          if (sameStatus(r.status, h)) continue;
          this.rows.set(h.host, { ...r, status: h });
          any = true;
        }
        if (any) this.changed();
        return any;
      }
      case 'deployment.deleted': {
        let any = false;
        for (const r of this.rows.values()) {
          if (r.status.deployment === ev.deployment) {
            this.rows.set(r.host, { ...r, status: { ...r.status, status: 'pending', detail: 'deployment deleted' } });
            any = true;
          }
        }
        if (any) this.changed();
        return any;
      }
    }
    return false;
  }

  /** Folds metric buckets (any mix of names and agents) into the rows' figures. */
  applyMetrics(buckets: MetricBucket[]) {
    const touched = new Map<string, Figures>(); // host -> its new figures
    // Per agent and series key, the latest bucket and the one before (for rates).
    const latest = new Map<string, MetricBucket[]>();
    for (const b of buckets) {
      const k = b.agent + '\u0000' + b.name + '\u0000' + (b.stage ?? '') + '\u0000' + (b.variant ?? '');
      const l = latest.get(k) ?? [];
      l.push(b);
      latest.set(k, l);
    }
    for (const list of latest.values()) {
      list.sort((a, b) => a.start.localeCompare(b.start));
      const last = list[list.length - 1];
      const host = this.uidHost.get(last.agent);
      if (!host) continue;
      let f = touched.get(host);
      if (!f) {
        f = { ...this.row(host).figures };
        touched.set(host, f);
      }
      // In an experiment the table shows the baseline variant (or the only one).
      if (last.variant && last.variant !== 'baseline') continue;
      switch (last.name) {
        case METRIC.processes:
          if (last.stage === 'input') f.inputProcesses = last.last;
          break;
        case METRIC.series:
          if (last.stage === 'input') f.inputSeries = last.last;
          if (last.stage === 'output') f.outputSeries = last.last;
          break;
        case METRIC.critical:
          if (last.stage === 'input') f.criticalIn = last.last;
          if (last.stage === 'output') f.criticalOut = last.last;
          break;
        case METRIC.memory:
          f.memory = last.last;
          break;
        case METRIC.cpu:
          f.cpu = counterRate(list);
          break;
      }
    }
    // Replace only the rows whose figures changed: a 1,000-host fleet
    // re-reads its figures every few seconds, mostly unchanged.
    let any = false;
    for (const [host, f] of touched) {
      const r = this.row(host);
      if (sameFigures(r.figures, f)) continue;
      this.rows.set(host, { ...r, figures: f });
      any = true;
    }
    if (any) this.changed();
  }
}

function sameFigures(a: Figures, b: Figures): boolean {
  const ka = Object.keys(a) as (keyof Figures)[];
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Whether two host statuses show the same thing. */
export function sameStatus(a: HostStatus, b: HostStatus): boolean {
  return a.status === b.status && a.deployment === b.deployment && a.version === b.version && a.error === b.error && a.detail === b.detail &&
    a.connected === b.connected && a.reported_hash === b.reported_hash && a.last_seen === b.last_seen;
}

/** The rate per second of a cumulative counter over its last two buckets. */
export function counterRate(list: MetricBucket[]): number | undefined {
  if (list.length < 2) return undefined;
  const a = list[list.length - 2];
  const b = list[list.length - 1];
  const dt = (Date.parse(b.start) - Date.parse(a.start)) / 1000;
  if (dt <= 0 || b.last < a.last) return undefined;
  return (b.last - a.last) / dt;
}

export type SortKey = 'host' | 'deployment' | 'status' | 'inputProcesses' | 'outputSeries' | 'reduction' | 'critical' | 'cpu' | 'memory' | 'saving';

export interface View {
  sort: SortKey;
  desc: boolean;
  filter: string; // free text over host, deployment, status, error, labels
  status: string; // '' or one status
  price: number;
}

const statusOrder: Record<string, number> = { failed: 0, degraded: 1, offline: 2, stale: 3, applying: 4, pending: 5, applied: 6, none: 7 };

function key(r: Row, k: SortKey, price: number): number | string {
  switch (k) {
    case 'host': return r.host;
    case 'deployment': return r.status.deployment ?? '';
    case 'status': return statusOrder[r.status.status] ?? 9;
    case 'inputProcesses': return r.figures.inputProcesses ?? -1;
    case 'outputSeries': return r.figures.outputSeries ?? -1;
    case 'reduction': return reduction(r.figures) ?? -1;
    case 'critical': return criticalRetained(r.figures) ?? -1;
    case 'cpu': return r.figures.cpu ?? -1;
    case 'memory': return r.figures.memory ?? -1;
    case 'saving': return monthlySaving(r.figures, price) ?? -1;
  }
}

// A collator compares far faster than String.prototype.localeCompare,
// which matters when 1,000 rows are sorted on every frame with changes.
const collator = new Intl.Collator();

/** The rows a view shows, filtered and sorted (ties by host name). */
export function visibleRows(rows: Iterable<Row>, v: View): Row[] {
  const q = v.filter.trim().toLowerCase();
  const out: Row[] = [];
  for (const r of rows) {
    if (v.status && r.status.status !== v.status) continue;
    if (q) {
      const labels = r.agent?.labels ? Object.entries(r.agent.labels).map(([k, x]) => k + '=' + x).join(' ') : '';
      const hay = (r.host + ' ' + pipelineLabel(r.status) + ' ' + r.status.status + ' ' + rowError(r) + ' ' + labels).toLowerCase();
      if (!hay.includes(q)) continue;
    }
    out.push(r);
  }
  out.sort((a, b) => {
    const x = key(a, v.sort, v.price);
    const y = key(b, v.sort, v.price);
    let c = typeof x === 'string' ? collator.compare(x, y as string) : (x as number) - (y as number);
    if (v.desc) c = -c;
    return c !== 0 ? c : collator.compare(a.host, b.host);
  });
  return out;
}

/** A row's pipeline as the table shows it: "web v3", or "none". */
export function pipelineLabel(s: HostStatus): string {
  return s.deployment ? `${s.deployment} v${s.version ?? '?'}` : 'none';
}

/** How many rows show each pipeline version and status (a rollout's progress). */
export interface SummaryEntry {
  pipeline: string;
  status: string;
  hosts: number;
}

/** Counts rows by pipeline version and status: by pipeline, then status order. */
export function rolloutSummary(rows: Iterable<Row>): SummaryEntry[] {
  const m = new Map<string, SummaryEntry>();
  for (const r of rows) {
    const p = pipelineLabel(r.status);
    const k = p + '\u0000' + r.status.status;
    const e = m.get(k);
    if (e) e.hosts++;
    else m.set(k, { pipeline: p, status: r.status.status, hosts: 1 });
  }
  return [...m.values()].sort((a, b) => collator.compare(a.pipeline, b.pipeline) || (statusOrder[a.status] ?? 9) - (statusOrder[b.status] ?? 9));
}
