// Experiments: the list with each one's state and a create form; an
// experiment's page with side-by-side charts of its variants over time,
// the verdict table, promote and stop, and the JSON and HTML exports.
import { useRef, useState } from 'preact/hooks';
import { get, post, seg } from '../api';
import { Chart, type Series } from '../chart';
import { fmtAgo, sourceText } from '../format';
import { download, fmtNum, htmlReport } from '../report';
import type { Catalog, Comparison, Experiment } from '../types';
import { Badge, ConfirmButton, ErrorText, errorText, useEvents, useLoad } from '../ui';

/** Reloads at most every 2 s on experiment events (they come per sample). */
function useExperimentEvents(reload: () => void, name?: string) {
  const last = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEvents((e) => {
    if (e.type !== 'experiment.updated') return;
    const n = (e.data as { name?: string } | undefined)?.name;
    if (name && n !== name) return;
    if (pending.current) return;
    const wait = Math.max(0, 2000 - (Date.now() - last.current));
    pending.current = setTimeout(() => {
      pending.current = undefined;
      last.current = Date.now();
      reload();
    }, wait);
  });
}

export function Experiments() {
  const list = useLoad(() => get<{ experiments: Experiment[] }>('/api/v1/experiments'), []);
  useExperimentEvents(list.reload);
  return (
    <section aria-labelledby="h-exp">
      <h1 id="h-exp">Experiments</h1>
      <ErrorText text={list.error} />
      <div class="table-wrap">
        <table class="data" data-testid="experiments-table">
          <thead>
            <tr>
              <th scope="col">Experiment</th>
              <th scope="col">State</th>
              <th scope="col">Variants</th>
              <th scope="col">Hosts</th>
              <th scope="col">Samples</th>
              <th scope="col">Verdicts</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.experiments ?? []).map((x) => (
              <tr data-experiment={x.name}>
                <th scope="row">
                  <a href={'#/experiments/' + seg(x.name)}>{x.name}</a>
                </th>
                <td>
                  <Badge status={x.status} />
                  {x.reason && <div class="muted small">{x.reason}</div>}
                </td>
                <td>{(x.variants ?? []).map((v) => `${v.name}: ${sourceText(v)}`).join(', ')}</td>
                <td>{(x.hosts ?? []).map((h) => h.host).join(', ') || '–'}</td>
                <td>{x.samples}</td>
                <td>{(x.verdicts ?? []).map((r) => `${r.variant}: ${r.verdict}`).join(', ') || '–'}</td>
                <td>{fmtAgo(x.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.experiments.length === 0 && <p class="muted">No experiment yet.</p>}
      <CreateExperiment done={list.reload} />
    </section>
  );
}

/** Parses "k=v, k2=v2" into params: numbers and booleans typed, lists as "a|b". */
export function parseParams(s: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`parameter ${part}: write name=value`);
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (/^-?\d+(\.\d+)?$/.test(v)) out[k] = Number(v);
    else if (v === 'true' || v === 'false') out[k] = v === 'true';
    else if (v.includes('|')) out[k] = v.split('|').map((x) => x.trim());
    else out[k] = v;
  }
  return out;
}

function CreateExperiment({ done }: { done: () => void }) {
  const cat = useLoad(() => get<Catalog>('/api/v1/catalog'), []);
  const [f, setF] = useState({ name: '', hosts: '', selector: '', baseline: '', baselineParams: '', candidate: 'process-topk-v1', candidateParams: 'k=10', duration: '30m', warmup: '1m', interval: '1m', minReduction: '', maxCPU: '', alpha: '', minSamples: '', pricePoints: '', priceSeries: '', loadProfile: '', loadCount: '', loadSeed: '', start: true });
  const [msg, setMsg] = useState<{ ok?: string; error?: string }>({});
  const set = (k: keyof typeof f) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setF({ ...f, [k]: el.type === 'checkbox' ? el.checked : el.value });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setMsg({});
    try {
      const hosts = f.hosts.split(',').map((h) => h.trim()).filter(Boolean);
      const selector: Record<string, string> = {};
      for (const s of f.selector.split(',').map((x) => x.trim()).filter(Boolean)) {
        const i = s.indexOf('=');
        if (i <= 0) throw new Error(`selector ${s}: write key=value`);
        selector[s.slice(0, i)] = s.slice(i + 1);
      }
      const body: Record<string, unknown> = {
        name: f.name,
        target: { ...(hosts.length ? { hosts } : {}), ...(Object.keys(selector).length ? { selector } : {}) },
        candidate: { template: f.candidate, params: parseParams(f.candidateParams) },
        duration: f.duration || undefined,
        warmup: f.warmup || undefined,
        interval: f.interval || undefined,
        start: f.start,
      };
      if (f.baseline) body.baseline = { template: f.baseline, params: parseParams(f.baselineParams) };
      const num = (v: string) => (v === '' ? undefined : Number(v));
      const criteria = { min_reduction_pct: num(f.minReduction), max_cpu_increase_pct: num(f.maxCPU), alpha: num(f.alpha), min_samples: num(f.minSamples) };
      if (Object.values(criteria).some((v) => v !== undefined)) body.criteria = criteria;
      const prices = { per_million_datapoints: num(f.pricePoints), per_active_series: num(f.priceSeries) };
      if (Object.values(prices).some((v) => v !== undefined)) body.prices = prices;
      if (f.loadProfile) body.load_sim = { profile: f.loadProfile, process_count: num(f.loadCount), seed: num(f.loadSeed) };
      const x = await post<Experiment>('/api/v1/experiments', body);
      setMsg({ ok: `Experiment ${x.name} created (${x.status}).` });
      done();
    } catch (x) {
      setMsg({ error: errorText(x) });
    }
  };
  const templates = cat.data?.templates ?? [];
  return (
    <>
      <h2>New experiment</h2>
      <form class="stack" onSubmit={submit} data-testid="experiment-form">
        <label>
          Name <input name="name" required value={f.name} onInput={set('name')} />
        </label>
        <label>
          Hosts (comma-separated) <input name="hosts" value={f.hosts} onInput={set('hosts')} />
        </label>
        <label>
          Label selector (key=value, comma-separated) <input name="selector" value={f.selector} onInput={set('selector')} />
        </label>
        <label>
          Baseline template (empty: each host's current deployment){' '}
          <select name="baseline" value={f.baseline} onChange={set('baseline')}>
            <option value="">current deployment</option>
            {templates.map((t) => (
              <option value={t.name}>{t.name}</option>
            ))}
          </select>
        </label>
        <label>
          Baseline parameters (name=value, comma-separated) <input name="baselineParams" value={f.baselineParams} onInput={set('baselineParams')} />
        </label>
        <label>
          Candidate template{' '}
          <select name="candidate" value={f.candidate} onChange={set('candidate')}>
            {templates.map((t) => (
              <option value={t.name}>{t.name}</option>
            ))}
          </select>
        </label>
        <label>
          Candidate parameters <input name="candidateParams" value={f.candidateParams} onInput={set('candidateParams')} />
        </label>
        <label>
          Duration <input name="duration" value={f.duration} onInput={set('duration')} />
        </label>
        <label>
          Warm-up <input name="warmup" value={f.warmup} onInput={set('warmup')} />
        </label>
        <label>
          Sample interval <input name="interval" value={f.interval} onInput={set('interval')} />
        </label>
        <label>
          Least reduction to promote (%) <input name="minReduction" type="number" min="0" max="100" value={f.minReduction} onInput={set('minReduction')} placeholder="20" />
        </label>
        <label>
          Largest collector CPU increase (%) <input name="maxCPU" type="number" min="0" value={f.maxCPU} onInput={set('maxCPU')} placeholder="50" />
        </label>
        <label>
          Significance level (after Holm) <input name="alpha" type="number" min="0" max="1" step="any" value={f.alpha} onInput={set('alpha')} placeholder="0.05" />
        </label>
        <label>
          Paired intervals needed for a verdict <input name="minSamples" type="number" min="1" value={f.minSamples} onInput={set('minSamples')} placeholder="10" />
        </label>
        <label>
          Price of a million data points <input name="pricePoints" type="number" min="0" step="any" value={f.pricePoints} onInput={set('pricePoints')} placeholder="0.10" />
        </label>
        <label>
          Monthly price of an active series <input name="priceSeries" type="number" min="0" step="any" value={f.priceSeries} onInput={set('priceSeries')} placeholder="0.002" />
        </label>
        <label>
          Synthetic load while it runs{' '}
          <select name="loadProfile" value={f.loadProfile} onChange={set('loadProfile')}>
            <option value="">none</option>
            <option value="realistic">realistic</option>
            <option value="high-cardinality">high-cardinality</option>
            <option value="process-churn">process-churn</option>
          </select>
        </label>
        <label>
          Load processes <input name="loadCount" type="number" min="1" value={f.loadCount} onInput={set('loadCount')} placeholder="profile default" />
        </label>
        <label>
          Load seed <input name="loadSeed" type="number" value={f.loadSeed} onInput={set('loadSeed')} />
        </label>
        <label>
          <span>
            <input type="checkbox" name="start" checked={f.start} onChange={set('start')} /> start at once
          </span>
        </label>
        <button type="submit" class="primary">
          Create
        </button>
        {msg.ok && <p class="ok" role="status">{msg.ok}</p>}
        <ErrorText text={msg.error} />
      </form>
    </>
  );
}

const kpiTitles: Record<string, string> = {
  input_processes: 'Input processes',
  output_series: 'Output series',
  reduction_pct: 'Reduction %',
  critical_retention_pct: 'Critical retention %',
  datapoints_per_minute: 'Data points per minute',
  cost_month: 'Estimated monthly cost',
  collector_cpu: 'Collector CPU',
  // The KPI names of opamp-server/experiment (run.go).
  input_series: 'Input series',
  output_datapoints: 'Output data points per interval',
  critical_in: 'Critical processes at the input',
  critical_out: 'Critical processes kept',
  collector_memory_rss: 'Collector memory (RSS)',
  processing_cpu: "CPU of the variant's processors",
};

/** One chart per KPI, one line per variant (the series the server computed). */
export function kpiCharts(c: Comparison): { kpi: string; series: Series[] }[] {
  const by = new Map<string, Series[]>();
  for (const s of c.series ?? []) {
    const l = by.get(s.kpi) ?? [];
    l.push({ label: s.variant, points: (s.points ?? []).map((p) => [Math.floor(Date.parse(p.time) / 1000), p.value]) });
    by.set(s.kpi, l);
  }
  return [...by.entries()].map(([kpi, series]) => ({ kpi, series }));
}

export function ExperimentPage({ id }: { id: string }) {
  const cmp = useLoad(() => get<Comparison>(`/api/v1/experiments/${seg(id)}/compare`), [id]);
  useExperimentEvents(cmp.reload, id);
  const [force, setForce] = useState(false);
  const c = cmp.data;
  const x = c?.experiment;
  return (
    <section aria-labelledby="h-experiment">
      <p>
        <a href="#/experiments">← Experiments</a>
      </p>
      <h1 id="h-experiment">
        Experiment {id} {x && <Badge status={x.status} />}
      </h1>
      <ErrorText text={cmp.error} />
      {x && (
        <>
          <p>
            {x.reason && <>{x.reason}. </>}
            {x.samples} sample intervals of {x.interval} (duration {x.duration}, warm-up {x.warmup}); hosts {(x.hosts ?? []).map((h) => h.host).join(', ') || '–'}.
            {x.promoted && (
              <b data-testid="promoted">
                {' '}
                Promoted {x.promoted.variant} into {x.promoted.deployment} version {x.promoted.version}.
              </b>
            )}
          </p>
          <div class="row-actions">
            {(c.results ?? []).map((r) => (
              <ConfirmButton
                label={`Promote ${r.variant}`}
                testid={'promote-' + r.variant}
                question={<>Promote {r.variant} ({r.verdict}: {r.criterion}) into the hosts' deployment?</>}
                action={async () => {
                  await post(`/api/v1/experiments/${seg(id)}/promote`, { variant: r.variant, ...(force ? { force: true } : {}) });
                  cmp.reload();
                }}
              >
                <label>
                  <input type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> force (promote against the verdict)
                </label>
              </ConfirmButton>
            ))}
            {['pending', 'deploying', 'warming_up', 'running'].includes(x.status) && (
              <ConfirmButton label="Stop" danger testid="stop" question={<>Stop experiment {id}? Its hosts return to the config they ran before.</>} action={async () => { await post(`/api/v1/experiments/${seg(id)}/stop`); cmp.reload(); }} />
            )}
            <button type="button" class="small" onClick={() => download(`experiment-${id}.json`, 'application/json', JSON.stringify(c, null, 2))}>
              Export JSON
            </button>
            <button type="button" class="small" onClick={() => download(`experiment-${id}.html`, 'text/html', htmlReport(c))}>
              Export HTML
            </button>
          </div>
          <h2>Verdicts</h2>
          {(c.results ?? []).map((r) => (
            <div data-testid={'verdict-' + r.variant}>
              <p>
                <Badge status={r.verdict} /> <b>{r.variant}</b>: {r.criterion}. {r.detail} Reduction {fmtNum(r.reduction_pct, 1)}%, critical retention {fmtNum(r.critical_retention_pct, 1)}%, {r.input_identical_intervals} of {r.intervals} intervals with identical input; cost {fmtNum(r.baseline_cost_month, 2)} → {fmtNum(r.candidate_cost_month, 2)} per month.
              </p>
              <div class="table-wrap">
                <table class="data">
                  <caption class="sr-only">KPIs of {r.variant} against the baseline</caption>
                  <thead>
                    <tr>
                      <th scope="col">KPI</th>
                      <th scope="col" class="num">Baseline mean</th>
                      <th scope="col" class="num">Candidate mean</th>
                      <th scope="col" class="num">Difference [95% CI]</th>
                      <th scope="col" class="num">p (Welch)</th>
                      <th scope="col" class="num">p (paired)</th>
                      <th scope="col" class="num">p (rank)</th>
                      <th scope="col" class="num">p (used, adjusted)</th>
                      <th scope="col">Test</th>
                      <th scope="col" class="num">n</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(r.kpis ?? []).map((k) => (
                      <tr>
                        <th scope="row">{kpiTitles[k.kpi] ?? k.kpi}{k.unit ? ` (${k.unit})` : ''}</th>
                        <td class="num">{fmtNum(k.baseline_mean)}</td>
                        <td class="num">{fmtNum(k.candidate_mean)}</td>
                        <td class="num">
                          {fmtNum(k.diff)} [{fmtNum(k.ci_low)}, {fmtNum(k.ci_high)}]
                        </td>
                        <td class="num">{fmtNum(k.p_welch)}</td>
                        <td class="num">{fmtNum(k.p_paired)}</td>
                        <td class="num">{fmtNum(k.p_rank)}</td>
                        <td class="num">{fmtNum(k.p_adjusted)}</td>
                        <td>{k.method}</td>
                        <td class="num">{k.n}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          ))}
          {(c.results ?? []).length === 0 && <p class="muted">No verdict yet: the experiment has too few samples.</p>}
          <h2>Variants over time</h2>
          <div class="charts">
            {kpiCharts(c).map((k) => (
              <Chart title={kpiTitles[k.kpi] ?? k.kpi} series={k.series} unit={(v) => fmtNum(v, 2)} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
