// Deployed pipelines: one row per host, sortable and filterable, live.
import { memo } from 'preact/compat';
import { useMemo, useRef, useState } from 'preact/hooks';
import { del, get, post, seg } from '../api';
import { fmtBytes, fmtCPU, fmtInt, fmtMoney, fmtPct } from '../format';
import { live } from '../live';
import { criticalRetained, monthlySaving, pipelineLabel, reduction, rolloutSummary, rowError, visibleRows, type Row, type SortKey, type View } from '../state';
import type { Version } from '../types';
import { Badge, ConfirmButton, useFleet, useWindow } from '../ui';
import { spacers } from '../windowing';

const PRICE_KEY = 'phoenix.pricePerSeries';
export const STATUSES = ['pending', 'applying', 'applied', 'degraded', 'failed', 'offline', 'stale', 'none'];

const columns: { key: SortKey; label: string; num?: boolean }[] = [
  { key: 'host', label: 'Host' },
  { key: 'deployment', label: 'Pipeline' },
  { key: 'status', label: 'Status' },
  { key: 'inputProcesses', label: 'Input processes', num: true },
  { key: 'outputSeries', label: 'Output series', num: true },
  { key: 'reduction', label: 'Reduction', num: true },
  { key: 'critical', label: 'Critical retained', num: true },
  { key: 'cpu', label: 'Collector CPU', num: true },
  { key: 'memory', label: 'Collector memory', num: true },
  { key: 'saving', label: 'Est. monthly saving', num: true },
];

function storedPrice(): number {
  const v = Number(localStorage.getItem(PRICE_KEY));
  return Number.isFinite(v) && v > 0 ? v : 0.05;
}

export function Pipelines() {
  useFleet();
  const [view, setView] = useState<View>({ sort: 'status', desc: false, filter: '', status: '', price: storedPrice() });
  // Sorted and counted again only when the fleet or the view changed; the
  // table renders only the rows near the viewport (useWindow).
  const rev = live.fleet.rev;
  const rows = useMemo(() => visibleRows(live.fleet.rows.values(), view), [rev, view]);
  const summary = useMemo(() => rolloutSummary(rows), [rows]);
  const total = live.fleet.rows.size;
  const body = useRef<HTMLTableSectionElement>(null);
  const { range, rowHeight } = useWindow(rows.length, body);
  const pad = spacers(rows.length, range, rowHeight);
  const sortBy = (k: SortKey) => setView((v) => ({ ...v, sort: k, desc: v.sort === k ? !v.desc : false }));
  return (
    <section aria-labelledby="h-pipelines">
      <h1 id="h-pipelines">Deployed pipelines</h1>
      <form class="toolbar" onSubmit={(e) => e.preventDefault()} role="search">
        <label>
          Filter <input type="search" value={view.filter} placeholder="host, pipeline, label, error" onInput={(e) => setView({ ...view, filter: e.currentTarget.value })} data-testid="filter" />
        </label>
        <label>
          Status{' '}
          <select value={view.status} onChange={(e) => setView({ ...view, status: e.currentTarget.value })} data-testid="status-filter">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Price per series per month (USD){' '}
          <input
            type="number" min="0" step="0.001" value={view.price}
            onInput={(e) => {
              const p = Number(e.currentTarget.value);
              if (Number.isFinite(p) && p >= 0) {
                localStorage.setItem(PRICE_KEY, String(p));
                setView({ ...view, price: p });
              }
            }}
          />
        </label>
        <output data-testid="row-count">
          {rows.length} of {total} hosts
        </output>
      </form>
      {summary.length > 0 && (
        <ul class="summary" data-testid="rollout-summary" aria-label="Hosts shown, by pipeline and status">
          {summary.map((e) => (
            <li data-pipeline={e.pipeline} data-status={e.status} data-hosts={e.hosts}>
              {e.pipeline} <Badge status={e.status} /> {fmtInt(e.hosts)}
            </li>
          ))}
        </ul>
      )}
      <div class="table-wrap">
        <table class="data" data-testid="pipelines-table" aria-rowcount={rows.length + 1}>
          <caption class="sr-only">One row per host: its pipeline, status and figures</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th scope="col" class={c.num ? 'num' : ''} aria-sort={view.sort === c.key ? (view.desc ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" class="sort" onClick={() => sortBy(c.key)}>
                    {c.label}
                    <span aria-hidden="true">{view.sort === c.key ? (view.desc ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                </th>
              ))}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody ref={body}>
            {pad.above > 0 && <Spacer px={pad.above} />}
            {rows.slice(range.start, range.end).map((r, i) => (
              <HostRow key={r.host} row={r} price={view.price} index={range.start + i} />
            ))}
            {pad.below > 0 && <Spacer px={pad.below} />}
          </tbody>
        </table>
      </div>
      {total === 0 && <p class="muted">No host has connected yet. Start a phoenix-agent pointed at this server.</p>}
    </section>
  );
}

// Stands for the rows outside the window (the style is set through the
// CSSOM, which the Content-Security-Policy allows).
function Spacer({ px }: { px: number }) {
  return (
    <tr class="spacer" aria-hidden="true">
      <td colSpan={columns.length + 1} style={{ height: px + 'px' }} />
    </tr>
  );
}

const HostRow = memo(function HostRow({ row: r, price, index }: { row: Row; price: number; index: number }) {
  const err = rowError(r);
  const dep = r.status.deployment;
  return (
    <tr data-host={r.host} data-row="" aria-rowindex={index + 2}>
      <th scope="row">
        <a href={'#/hosts/' + seg(r.host)}>{r.host}</a>
      </th>
      <td>{dep ? pipelineLabel(r.status) : <span class="muted">none</span>}</td>
      <td class="status-cell">
        <Badge status={r.status.status} />
        {err && <div class="err-text" data-testid="host-error">{err}</div>}
        {!err && r.status.detail && <div class="muted small">{r.status.detail}</div>}
      </td>
      <td class="num">{fmtInt(r.figures.inputProcesses)}</td>
      <td class="num">{fmtInt(r.figures.outputSeries)}</td>
      <td class="num">{fmtPct(reduction(r.figures))}</td>
      <td class="num">{fmtPct(criticalRetained(r.figures), 0)}</td>
      <td class="num">{fmtCPU(r.figures.cpu)}</td>
      <td class="num">{fmtBytes(r.figures.memory)}</td>
      <td class="num">{fmtMoney(monthlySaving(r.figures, price))}</td>
      <td class="actions-cell">
        <RowActions r={r} />
      </td>
    </tr>
  );
});

export function RowActions({ r }: { r: Row }) {
  const dep = r.status.deployment;
  return (
    <div class="row-actions">
      {r.status.status === 'failed' && (
        <ConfirmButton label="Retry" question={<>Forget the failed configs of host <b>{r.host}</b> and push its desired config again?</>} action={() => post(`/api/v1/hosts/${seg(r.host)}/retry`)} />
      )}
      {dep && <RollbackButton deployment={dep} version={r.status.version ?? 0} />}
      {dep && (
        <ConfirmButton
          label="Delete"
          danger
          question={<>Delete deployment <b>{dep}</b>? Its hosts get the minimal safe config (no data pipelines).</>}
          action={() => del(`/api/v1/deployments/${seg(dep)}`)}
        />
      )}
    </div>
  );
}

export function RollbackButton({ deployment, version }: { deployment: string; version: number }) {
  const [to, setTo] = useState(Math.max(1, version - 1));
  const id = useMemo(() => 'rb-' + Math.random().toString(36).slice(2), []);
  if (version <= 1) return null;
  return (
    <ConfirmButton
      label="Rollback"
      question={<>Roll deployment <b>{deployment}</b> (now version {version}) back? This makes a new version equal to the one you choose.</>}
      action={async () => {
        await get<Version>(`/api/v1/deployments/${seg(deployment)}/versions/${to}`);
        return post(`/api/v1/deployments/${seg(deployment)}/rollback`, { to_version: to });
      }}
    >
      <label for={id}>To version </label>
      <input id={id} type="number" min="1" max={version - 1} value={to} onInput={(e) => setTo(Number(e.currentTarget.value))} required />
    </ConfirmButton>
  );
}
