import { describe, expect, it } from 'vitest';
import { counterRate, criticalRetained, FleetState, METRIC, monthlySaving, reduction, rolloutSummary, visibleRows, type View } from './state';
import type { Agent, HostStatus, MetricBucket } from './types';

const sync = (f: () => void) => f();

function host(h: string, status: string, extra: Partial<HostStatus> = {}): HostStatus {
  return { host: h, status, connected: true, agent_uid: 'u-' + h, ...extra } as HostStatus;
}
function agent(h: string, extra: Partial<Agent> = {}): Agent {
  return { instance_uid: 'u-' + h, host_name: h, connected: true, ...extra } as Agent;
}
function bucket(h: string, name: string, stage: string, last: number, start = '2026-01-01T00:01:00Z', variant?: string): MetricBucket {
  return { agent: 'u-' + h, name, stage, variant, last, start, step_seconds: 60, min: last, max: last, sum: last, count: 1 };
}
const view = (v: Partial<View> = {}): View => ({ sort: 'host', desc: false, filter: '', status: '', price: 0.05, ...v });

describe('figures', () => {
  it('reduction, critical retention and saving', () => {
    const f = { inputSeries: 700, outputSeries: 157, criticalIn: 4, criticalOut: 4 };
    expect(reduction(f)).toBeCloseTo(0.7757, 3);
    expect(criticalRetained(f)).toBe(1);
    expect(criticalRetained({ criticalIn: 4, criticalOut: 3 })).toBe(0.75);
    expect(criticalRetained({ criticalIn: 0, criticalOut: 0 })).toBe(1);
    expect(monthlySaving(f, 0.05)).toBeCloseTo(27.15, 2);
    expect(reduction({ inputSeries: 0, outputSeries: 0 })).toBeUndefined();
    expect(monthlySaving({}, 1)).toBeUndefined();
  });
  it('counter rate over the last two buckets, none after a reset', () => {
    const a = bucket('h', METRIC.cpu, '', 10, '2026-01-01T00:00:00Z');
    const b = bucket('h', METRIC.cpu, '', 16, '2026-01-01T00:01:00Z');
    expect(counterRate([a, b])).toBeCloseTo(0.1);
    expect(counterRate([b])).toBeUndefined();
    expect(counterRate([b, { ...a, start: '2026-01-01T00:02:00Z' }])).toBeUndefined();
  });
});

describe('FleetState', () => {
  it('loads a snapshot and applies agent and status events', () => {
    const s = new FleetState(sync);
    let n = 0;
    s.subscribe(() => n++);
    s.load([host('a', 'applied'), host('b', 'pending')], [agent('a'), agent('b')]);
    expect(n).toBe(1);
    const before = s.rows.get('a');
    s.apply({ type: 'agent.updated', time: '', data: agent('a', { status: host('a', 'failed', { error: 'boom: bad config' }) }) });
    const after = s.rows.get('a')!;
    expect(after).not.toBe(before); // replaced, so memoised rows re-render
    expect(after.status.status).toBe('failed');
    expect(s.rows.get('b')).toBe(s.rows.get('b'));
    s.apply({ type: 'deployment.status', time: '', deployment: 'web', data: { hosts: [host('b', 'applied', { deployment: 'web', version: 2 })] } });
    expect(s.rows.get('b')!.status).toMatchObject({ status: 'applied', version: 2 });
    expect(n).toBe(3);
    // The same status again changes no row.
    const same = s.rows.get('b');
    expect(s.apply({ type: 'deployment.status', time: '', deployment: 'web', data: { hosts: [host('b', 'applied', { deployment: 'web', version: 2 })] } })).toBe(false);
    expect(s.rows.get('b')).toBe(same);
    // A new host appears from the stream alone.
    s.apply({ type: 'agent.updated', time: '', data: agent('c', { status: host('c', 'applying') }) });
    expect(s.rows.size).toBe(3);
  });
  it('ignores malformed events', () => {
    const s = new FleetState(sync);
    expect(s.apply({ type: 'agent.updated', time: '', data: { nope: 1 } })).toBe(false);
    expect(s.apply({ type: 'deployment.status', time: '', data: { hosts: [null, 5] } })).toBe(false);
    expect(s.apply({ type: 'something.new', time: '' })).toBe(false);
    expect(s.rows.size).toBe(0);
  });
  it('moves a renamed agent to its new host name', () => {
    const s = new FleetState(sync);
    s.load([host('old', 'applied')], [agent('old')]);
    s.apply({ type: 'agent.updated', time: '', data: { ...agent('old'), host_name: 'new' } });
    expect([...s.rows.keys()]).toEqual(['new']);
  });
  it('marks hosts of a deleted deployment', () => {
    const s = new FleetState(sync);
    s.load([host('a', 'applied', { deployment: 'web' }), host('b', 'applied', { deployment: 'db' })], []);
    s.apply({ type: 'deployment.deleted', time: '', deployment: 'web' });
    expect(s.rows.get('a')!.status.status).toBe('pending');
    expect(s.rows.get('b')!.status.status).toBe('applied');
  });
  it('coalesces notifications until the scheduler runs', () => {
    const queue: (() => void)[] = [];
    const s = new FleetState((f) => queue.push(f));
    let n = 0;
    s.subscribe(() => n++);
    for (let i = 0; i < 100; i++) s.apply({ type: 'agent.updated', time: '', data: agent('h' + i) });
    expect(queue.length).toBe(1);
    queue.shift()!();
    expect(n).toBe(1);
  });
  it('folds metrics into figures per host, baseline variant only', () => {
    const s = new FleetState(sync);
    s.load([host('a', 'applied')], [agent('a')]);
    s.applyMetrics([
      bucket('a', METRIC.series, 'input', 690, '2026-01-01T00:00:00Z'),
      bucket('a', METRIC.series, 'input', 700),
      bucket('a', METRIC.series, 'output', 157),
      bucket('a', METRIC.processes, 'input', 100),
      bucket('a', METRIC.memory, '', 100 << 20),
      bucket('a', METRIC.series, 'output', 5, undefined, 'candidate'),
      bucket('a', METRIC.critical, 'input', 5, undefined, 'baseline'),
      bucket('zzz', METRIC.series, 'output', 1), // unknown agent: ignored
    ]);
    expect(s.rows.get('a')!.figures).toEqual({ inputSeries: 700, outputSeries: 157, inputProcesses: 100, memory: 100 << 20, criticalIn: 5 });
    expect(s.rows.size).toBe(1);
  });
  it('keeps rows whose figures did not change (no re-render, no notification)', () => {
    const s = new FleetState(sync);
    let n = 0;
    s.subscribe(() => n++);
    s.load([host('a', 'applied'), host('b', 'applied')], [agent('a'), agent('b')]);
    const ms = [bucket('a', METRIC.series, 'input', 700), bucket('b', METRIC.series, 'input', 50)];
    s.applyMetrics(ms);
    const a = s.rows.get('a');
    const rev = s.rev;
    expect(n).toBe(2);
    s.applyMetrics(ms);
    expect(s.rows.get('a')).toBe(a);
    expect(s.rev).toBe(rev);
    expect(n).toBe(2);
    s.applyMetrics([bucket('a', METRIC.series, 'input', 701), bucket('b', METRIC.series, 'input', 50)]);
    expect(s.rows.get('a')).not.toBe(a);
    expect(s.rows.get('a')!.figures.inputSeries).toBe(701);
    expect(n).toBe(3);
  });
});

describe('visibleRows', () => {
  const s = new FleetState(sync);
  s.load(
    [host('web-2', 'applied', { deployment: 'web' }), host('web-1', 'failed', { deployment: 'web', error: 'exporter refused' }), host('db-1', 'offline')],
    [agent('web-2', { labels: { env: 'prod' } }), agent('web-1'), agent('db-1')],
  );
  it('sorts by status (failed first), then by host', () => {
    expect(visibleRows(s.rows.values(), view({ sort: 'status' })).map((r) => r.host)).toEqual(['web-1', 'db-1', 'web-2']);
    expect(visibleRows(s.rows.values(), view({ sort: 'host', desc: true })).map((r) => r.host)).toEqual(['web-2', 'web-1', 'db-1']);
  });
  it('filters by text over host, error and labels, and by status', () => {
    expect(visibleRows(s.rows.values(), view({ filter: 'refused' })).map((r) => r.host)).toEqual(['web-1']);
    expect(visibleRows(s.rows.values(), view({ filter: 'ENV=PROD' })).map((r) => r.host)).toEqual(['web-2']);
    expect(visibleRows(s.rows.values(), view({ status: 'offline' })).map((r) => r.host)).toEqual(['db-1']);
    // The pipeline as the table shows it ("web v?": no version in this snapshot).
    expect(visibleRows(s.rows.values(), view({ filter: 'web v?' })).map((r) => r.host)).toEqual(['web-1', 'web-2']);
  });
});

describe('rolloutSummary', () => {
  it('counts hosts by pipeline version and status, in status order', () => {
    const s = new FleetState(sync);
    s.load(
      [
        host('a', 'applied', { deployment: 'web', version: 2 }), host('b', 'applying', { deployment: 'web', version: 2 }),
        host('c', 'applied', { deployment: 'web', version: 2 }), host('d', 'failed', { deployment: 'web', version: 2 }),
        host('e', 'applied', { deployment: 'web', version: 1 }), host('f', 'pending'),
      ],
      [],
    );
    expect(rolloutSummary(s.rows.values())).toEqual([
      { pipeline: 'none', status: 'pending', hosts: 1 },
      { pipeline: 'web v1', status: 'applied', hosts: 1 },
      { pipeline: 'web v2', status: 'failed', hosts: 1 },
      { pipeline: 'web v2', status: 'applying', hosts: 1 },
      { pipeline: 'web v2', status: 'applied', hosts: 2 },
    ]);
    expect(rolloutSummary([])).toEqual([]);
  });
});
