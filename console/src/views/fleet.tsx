// Fleet and load: the agents with their health, versions, labels and config
// status; load simulations (start, stop, status); a live feed of events.
import { useMemo, useRef, useState } from 'preact/hooks';
import { get, post, seg } from '../api';
import { fmtAgo } from '../format';
import { live } from '../live';
import type { LoadJob, LoadProfile, StreamEvent } from '../types';
import { Badge, ConfirmButton, ErrorText, errorText, useEvents, useFleet, useLiveState, useLoad, useWindow } from '../ui';
import { spacers } from '../windowing';

export function Fleet() {
  useFleet();
  const rev = live.fleet.rev;
  const rows = useMemo(() => [...live.fleet.rows.values()].sort((a, b) => collator.compare(a.host, b.host)), [rev]);
  const hosts = useMemo(() => rows.map((r) => r.host), [rows]);
  // Like the deployed pipelines, only the rows near the viewport are rendered.
  const body = useRef<HTMLTableSectionElement>(null);
  const { range, rowHeight } = useWindow(rows.length, body);
  const pad = spacers(rows.length, range, rowHeight);
  return (
    <section aria-labelledby="h-fleet">
      <h1 id="h-fleet">Fleet and load</h1>
      <h2>Agents</h2>
      <div class="table-wrap">
        <table class="data" data-testid="agents-table">
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Health</th>
              <th scope="col">Agent version</th>
              <th scope="col">Collector version</th>
              <th scope="col">Labels</th>
              <th scope="col">Last seen</th>
              <th scope="col">Config status</th>
              <th scope="col">Connection</th>
            </tr>
          </thead>
          <tbody ref={body}>
            {pad.above > 0 && <Spacer px={pad.above} />}
            {rows.slice(range.start, range.end).map((r) => {
              const a = r.agent;
              const h = a?.health;
              return (
                <tr data-host={r.host} data-row="">
                  <th scope="row">
                    <a href={'#/hosts/' + seg(r.host)}>{r.host}</a>
                  </th>
                  <td>
                    {h ? <Badge status={h.healthy ? 'healthy' : 'unhealthy'} /> : '–'}
                    {h && !h.healthy && h.last_error && <div class="err-text">{h.last_error}</div>}
                  </td>
                  <td>{a?.agent_version ?? '–'}</td>
                  <td>{a?.collector_version ?? '–'}</td>
                  <td>{a?.labels ? Object.entries(a.labels).map(([k, v]) => <code class="label">{k}={v}</code>) : '–'}</td>
                  <td>{fmtAgo(a?.last_seen ?? r.status.last_seen)}</td>
                  <td>
                    <Badge status={r.status.status} />
                    {a?.remote_config_status && <div class="muted small">agent reports {a.remote_config_status}</div>}
                  </td>
                  <td>{a ? `${a.online ?? a.connected ? 'online' : 'offline'} (${a.transport ?? '?'})` : '–'}</td>
                </tr>
              );
            })}
            {pad.below > 0 && <Spacer px={pad.below} />}
          </tbody>
        </table>
      </div>
      <LoadSims hosts={hosts} />
      <EventFeed />
    </section>
  );
}

const collator = new Intl.Collator();

function Spacer({ px }: { px: number }) {
  return (
    <tr class="spacer" aria-hidden="true">
      <td colSpan={8} style={{ height: px + 'px' }} />
    </tr>
  );
}

function LoadSims({ hosts }: { hosts: string[] }) {
  const jobs = useLoad(() => get<LoadJob[]>('/api/v1/loadsim/jobs'), []);
  const profiles = useLoad(() => get<LoadProfile[]>('/api/v1/loadsim/profiles'), []);
  const [form, setForm] = useState({ target_host: '', profile: 'realistic', mode: 'synthetic', duration: '5m', process_count: '' });
  const [msg, setMsg] = useState<{ ok?: string; error?: string }>({});
  // Jobs change by loadsim.updated events (the job itself in data).
  const [live_, setLive] = useState<Record<string, LoadJob>>({});
  useEvents((e) => {
    const j = e.data as LoadJob | undefined;
    if (e.type === 'loadsim.updated' && j && typeof j.id === 'string') setLive((m) => ({ ...m, [j.id]: j }));
  });
  const known = new Set((jobs.data ?? []).map((j) => j.id));
  const list = [...Object.values(live_).filter((j) => !known.has(j.id)), ...(jobs.data ?? []).map((j) => live_[j.id] ?? j)];
  const start = async (e: Event) => {
    e.preventDefault();
    setMsg({});
    try {
      const body: Record<string, unknown> = { target_host: form.target_host || hosts[0], profile: form.profile, mode: form.mode };
      if (form.duration) body.duration = form.duration;
      if (form.process_count) body.process_count = Number(form.process_count);
      const j = await post<LoadJob>('/api/v1/loadsim/jobs', body);
      setMsg({ ok: `Load simulation ${j.id} ${j.status} on ${j.target_host}.` });
      jobs.reload();
    } catch (x) {
      setMsg({ error: errorText(x) });
    }
  };
  return (
    <>
      <h2>Load simulations</h2>
      <form class="toolbar" onSubmit={start} data-testid="loadsim-form">
        <label>
          Host{' '}
          <select value={form.target_host} onChange={(e) => setForm({ ...form, target_host: e.currentTarget.value })} name="target_host">
            {hosts.map((h) => (
              <option value={h}>{h}</option>
            ))}
          </select>
        </label>
        <label>
          Profile{' '}
          <select value={form.profile} onChange={(e) => setForm({ ...form, profile: e.currentTarget.value })} name="profile">
            {(profiles.data ?? []).filter((p) => p.name !== 'custom').map((p) => (
              <option value={p.name} title={p.description}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mode{' '}
          <select value={form.mode} onChange={(e) => setForm({ ...form, mode: e.currentTarget.value })} name="mode">
            <option value="synthetic">synthetic</option>
            <option value="process">process</option>
          </select>
        </label>
        <label>
          Duration <input value={form.duration} size={6} onInput={(e) => setForm({ ...form, duration: e.currentTarget.value })} name="duration" />
        </label>
        <label>
          Processes <input type="number" min="1" value={form.process_count} onInput={(e) => setForm({ ...form, process_count: e.currentTarget.value })} name="process_count" placeholder="default" />
        </label>
        <button type="submit" class="primary" disabled={hosts.length === 0}>
          Start
        </button>
      </form>
      {msg.ok && <p class="ok" role="status">{msg.ok}</p>}
      <ErrorText text={msg.error || jobs.error} />
      <div class="table-wrap">
        <table class="data" data-testid="loadsim-table">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Host</th>
              <th scope="col">Mode</th>
              <th scope="col">Profile</th>
              <th scope="col">Status</th>
              <th scope="col">Processes</th>
              <th scope="col">Since</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {list.map((j) => (
              <tr>
                <th scope="row">{j.id}</th>
                <td>{j.target_host}</td>
                <td>{j.mode ?? 'synthetic'}</td>
                <td>{j.profile}</td>
                <td>
                  <Badge status={j.status} />
                  {j.error && <div class="err-text">{j.error}</div>}
                </td>
                <td>{j.target_processes ? `${j.live_processes}/${j.target_processes}` : '–'}</td>
                <td>{fmtAgo(j.ended_at ?? j.started_at ?? j.created_at)}</td>
                <td>
                  {!['stopped', 'failed', 'completed', 'done'].includes(j.status) && (
                    <ConfirmButton label="Stop" danger question={<>Stop load simulation {j.id} on {j.target_host}?</>} action={async () => { await post(`/api/v1/loadsim/jobs/${seg(j.id)}/stop`); jobs.reload(); }} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function describe(e: StreamEvent): string {
  const d = e.data as Record<string, unknown> | undefined;
  switch (e.type) {
    case 'agent.updated': {
      const st = (d?.status as { status?: string } | undefined)?.status;
      return `agent ${e.host ?? ''} ${d?.connected ? 'connected' : 'disconnected'}${st ? ', ' + st : ''}`;
    }
    case 'deployment.status':
      return `deployment ${e.deployment} version ${d?.version}: ${d?.status}`;
    case 'deployment.created':
    case 'deployment.updated':
      return `deployment ${e.deployment} ${e.type.slice(11)} (version ${d?.version})`;
    case 'deployment.deleted':
      return `deployment ${e.deployment} deleted`;
    case 'metrics.updated':
      return `metrics from agent ${e.agent_uid ?? ''}`;
    default:
      return e.type + (e.deployment ? ' ' + e.deployment : '') + (e.host ? ' ' + e.host : '');
  }
}

function EventFeed() {
  useLiveState();
  const [showMetrics, setShowMetrics] = useState(false);
  const evs = live.events.filter((e) => showMetrics || e.type !== 'metrics.updated').slice(0, 50);
  return (
    <>
      <h2>Live events</h2>
      <label>
        <input type="checkbox" checked={showMetrics} onChange={(e) => setShowMetrics(e.currentTarget.checked)} /> show metrics updates
      </label>
      <ol class="feed" aria-live="polite" data-testid="event-feed">
        {evs.map((e) => (
          <li>
            <time dateTime={e.time}>{new Date(e.time).toLocaleTimeString()}</time> <code>{e.type}</code> {describe(e)}
          </li>
        ))}
      </ol>
    </>
  );
}
