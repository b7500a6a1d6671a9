// One host: its status and error, its agent, the config the collector
// really runs, the deployment's version history, and recent figures.
import { useState } from 'preact/hooks';
import { get, post, seg } from '../api';
import { Chart, type Series } from '../chart';
import { fmtAgo, fmtBytes, fmtCPU, fmtInt, sourceText } from '../format';
import { live } from '../live';
import { METRIC, rowError } from '../state';
import type { HostConfig, MetricBucket, Version } from '../types';
import { Badge, ConfirmButton, ErrorText, useEvents, useFleet, useLoad } from '../ui';
import { RowActions } from './pipelines';

/** Groups buckets into chart series by stage/variant, for one metric name. */
export function seriesOf(buckets: MetricBucket[], name: string, rate = false): Series[] {
  const groups = new Map<string, [number, number][]>();
  for (const b of buckets) {
    if (b.name !== name) continue;
    const label = [b.variant && 'variant ' + b.variant, b.stage].filter(Boolean).join(' ') || name;
    const l = groups.get(label) ?? [];
    l.push([Math.floor(Date.parse(b.start) / 1000), b.last]);
    groups.set(label, l);
  }
  return [...groups.entries()].map(([label, pts]) => {
    pts.sort((a, b) => a[0] - b[0]);
    if (rate) {
      const r: [number, number][] = [];
      for (let i = 1; i < pts.length; i++) {
        const dt = pts[i][0] - pts[i - 1][0];
        if (dt > 0 && pts[i][1] >= pts[i - 1][1]) r.push([pts[i][0], (pts[i][1] - pts[i - 1][1]) / dt]);
      }
      return { label, points: r };
    }
    return { label, points: pts };
  });
}

export function HostPage({ host }: { host: string }) {
  useFleet();
  const row = live.fleet.rows.get(host);
  const dep = row?.status.deployment;
  const cfg = useLoad(() => get<HostConfig>(`/api/v1/hosts/${seg(host)}/config`), [host, row?.status.reported_hash, row?.status.status]);
  const versions = useLoad(
    () => (dep ? get<{ versions: Version[]; current: number }>(`/api/v1/deployments/${seg(dep)}/versions`) : Promise.resolve({ versions: [], current: 0 })),
    [dep, row?.status.version],
  );
  const [tick, setTick] = useState(0);
  useEvents((e) => {
    if (e.type === 'metrics.updated' && row?.agent && e.agent_uid === row.agent.instance_uid) setTick((t) => t + 1);
  });
  const metrics = useLoad(() => get<{ buckets: MetricBucket[] }>(`/api/v1/metrics/series?host=${seg(host)}&since=1h&limit=5000`), [host, Math.floor(tick / 3)]);
  if (!row) {
    return (
      <section>
        <h1>Host {host}</h1>
        <p class="muted">No agent has reported this host name.</p>
      </section>
    );
  }
  const a = row.agent;
  const b = metrics.data?.buckets ?? [];
  const err = rowError(row);
  return (
    <section aria-labelledby="h-host">
      <p>
        <a href="#/">← Deployed pipelines</a>
      </p>
      <h1 id="h-host">
        Host <span data-testid="host-name">{host}</span> <Badge status={row.status.status} />
      </h1>
      {err && (
        <p class="error" role="alert" data-testid="host-page-error">
          Collector error: {err}
        </p>
      )}
      <dl class="facts">
        <dt>Pipeline</dt>
        <dd>{dep ? `${dep} version ${row.status.version}` : 'none'}</dd>
        <dt>Detail</dt>
        <dd>{row.status.detail || '–'}</dd>
        <dt>Agent</dt>
        <dd>{a ? `${a.instance_uid} (${a.agent_version ?? '?'}, collector ${a.collector_version ?? '?'}, ${a.transport ?? '?'})` : '–'}</dd>
        <dt>Last seen</dt>
        <dd>{fmtAgo(row.status.last_seen ?? a?.last_seen)}</dd>
        <dt>Labels</dt>
        <dd>{a?.labels && Object.keys(a.labels).length ? Object.entries(a.labels).map(([k, v]) => <code class="label">{k}={v}</code>) : '–'}</dd>
      </dl>
      <RowActions r={row} />
      <h2>Recent figures</h2>
      <ErrorText text={metrics.error} />
      <div class="charts">
        <Chart title="Series (input and output)" series={seriesOf(b, METRIC.series)} unit={fmtInt} />
        <Chart title="Processes" series={seriesOf(b, METRIC.processes)} unit={fmtInt} />
        <Chart title="Collector CPU" series={seriesOf(b, METRIC.cpu, true)} unit={fmtCPU} />
        <Chart title="Collector memory (RSS)" series={seriesOf(b, METRIC.memory)} unit={fmtBytes} />
      </div>
      <h2>Version history</h2>
      <ErrorText text={versions.error} />
      {dep && versions.data && (
        <div class="table-wrap">
          <table class="data" data-testid="versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Template</th>
                <th scope="col">Parameters</th>
                <th scope="col">Created</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {[...versions.data.versions].reverse().map((v) => (
                <tr>
                  <th scope="row">
                    {v.version}
                    {v.current ? ' (current)' : ''}
                    {v.rollback_of ? ` = rollback to ${v.rollback_of}` : ''}
                  </th>
                  <td>{sourceText(v)}</td>
                  <td>
                    <code>{JSON.stringify(v.params ?? {})}</code>
                  </td>
                  <td>{fmtAgo(v.created_at)}</td>
                  <td>
                    {!v.current && (
                      <ConfirmButton
                        label={`Rollback to ${v.version}`}
                        question={<>Make a new version of {dep} equal to version {v.version}?</>}
                        action={() => post(`/api/v1/deployments/${seg(dep)}/rollback`, { to_version: v.version })}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Active config</h2>
      <p class="muted">What the collector really runs, as the agent reported it{cfg.data?.effective?.sha256 ? ` (sha256 ${cfg.data.effective.sha256.slice(0, 12)})` : ''}.</p>
      <ErrorText text={cfg.error || cfg.data?.desired?.error} />
      <pre class="yaml" data-testid="active-config" tabIndex={0}>
        {cfg.data?.effective?.yaml || 'The agent has reported no effective config.'}
      </pre>
    </section>
  );
}
