// The pipeline catalog: every template, its parameters, a form that renders
// the YAML live through the server, the equivalent CLI command, and deploy.
import { useEffect, useState } from 'preact/hooks';
import { get, post, seg } from '../api';
import { fmtBounds, paramText, shellQuote } from '../format';
import type { Catalog, Deployment, Param, Rendered, Template } from '../types';
import { ErrorText, errorText, useDebounced, useLoad } from '../ui';

export function CatalogList() {
  const cat = useLoad(() => get<Catalog>('/api/v1/catalog'), []);
  return (
    <section aria-labelledby="h-catalog">
      <h1 id="h-catalog">Pipeline catalog</h1>
      <ErrorText text={cat.error} />
      <div class="table-wrap">
        <table class="data" data-testid="catalog-table">
          <thead>
            <tr>
              <th scope="col">Template</th>
              <th scope="col">What it does</th>
              <th scope="col">When to use it</th>
              <th scope="col">Expected reduction</th>
            </tr>
          </thead>
          <tbody>
            {(cat.data?.templates ?? []).map((t) => (
              <tr>
                <th scope="row">
                  <a href={'#/catalog/' + seg(t.name)}>{t.title || t.name}</a>
                  <div class="muted small">
                    <code>{t.name}</code>
                  </div>
                </th>
                <td>{t.description}</td>
                <td>{t.when_to_use}</td>
                <td>{t.expected_reduction}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

type Values = Record<string, string | boolean>;

function initial(p: Param): string | boolean {
  if (p.type === 'bool') return p.default === true;
  return paramText(p.default);
}

/** Converts form values into the API's typed params; empty means "default". */
export function toParams(t: Template, v: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of t.params ?? []) {
    const x = v[p.name];
    if (x === undefined || x === '') continue;
    if (p.type === 'bool') {
      if (x !== (p.default === true)) out[p.name] = x;
      continue;
    }
    const s = String(x);
    if (s === paramText(p.default)) continue;
    if (p.type === 'int' || p.type === 'float') out[p.name] = Number.isFinite(Number(s)) ? Number(s) : s;
    else if (p.type === 'string_list') out[p.name] = s.split(',').map((e) => e.trim()).filter(Boolean);
    else out[p.name] = s;
  }
  return out;
}

/** The equivalent `phoenix pipeline deploy` command. */
export function cliCommand(t: string, name: string, hosts: string[], selector: string[], params: Record<string, unknown>, dest: { type: string; endpoint: string }): string {
  const parts = ['phoenix', 'pipeline', 'deploy', t, '--name', shellQuote(name || '<name>')];
  for (const h of hosts) parts.push('--host', shellQuote(h));
  for (const s of selector) parts.push('--selector', shellQuote(s));
  for (const [k, v] of Object.entries(params)) parts.push('--param', shellQuote(`${k}=${paramText(v)}`));
  if (dest.type) parts.push('--destination', shellQuote(dest.endpoint ? `${dest.type}=${dest.endpoint}` : dest.type));
  parts.push('--watch');
  return parts.join(' ');
}

function ParamInput({ p, value, set }: { p: Param; value: string | boolean; set: (v: string | boolean) => void }) {
  const id = 'param-' + p.name;
  const common = { id, name: p.name, 'aria-describedby': id + '-help' };
  let input;
  if (p.type === 'bool') input = <input type="checkbox" {...common} checked={value === true} onChange={(e) => set(e.currentTarget.checked)} />;
  else if (p.enum?.length)
    input = (
      <select {...common} value={String(value)} onChange={(e) => set(e.currentTarget.value)}>
        {p.enum.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    );
  else if (p.type === 'int' || p.type === 'float')
    input = <input type="number" {...common} min={p.min} max={p.max} step={p.type === 'int' ? 1 : 'any'} value={String(value)} onInput={(e) => set(e.currentTarget.value)} />;
  else input = <input type="text" {...common} value={String(value)} onInput={(e) => set(e.currentTarget.value)} />;
  return (
    <tr>
      <th scope="row" class="param-name">
        <label for={id}>{p.name}</label>
        {p.required && <span title="required"> *</span>}
        <div id={id + '-help'} class="small muted">
          {p.description}
        </div>
      </th>
      <td>
        <code>{p.type}</code>
      </td>
      <td class="wrap">
        <code>{paramText(p.default) || '–'}</code>
      </td>
      <td>{fmtBounds(p) || '–'}</td>
      <td>{input}</td>
    </tr>
  );
}

export function TemplatePage({ name }: { name: string }) {
  const cat = useLoad(() => get<Catalog>('/api/v1/catalog'), []);
  const t = cat.data?.templates?.find((x) => x.name === name);
  if (cat.error) return <ErrorText text={cat.error} />;
  if (!cat.data) return <p class="muted">Loading…</p>;
  if (!t) return <p class="error">No template {name} in the catalog.</p>;
  return <TemplateForm t={t} destTypes={cat.data.destination_types ?? []} />;
}

function TemplateForm({ t, destTypes }: { t: Template; destTypes: string[] }) {
  const [values, setValues] = useState<Values>(() => Object.fromEntries((t.params ?? []).map((p) => [p.name, initial(p)])));
  const [depName, setDepName] = useState('');
  const [hosts, setHosts] = useState('');
  const [selector, setSelector] = useState('');
  const [dest, setDest] = useState({ type: destTypes.includes('debug') ? 'debug' : destTypes[0] ?? '', endpoint: '' });
  const [rendered, setRendered] = useState<{ yaml?: string; error?: string }>({});
  const [deployMsg, setDeployMsg] = useState<{ ok?: string; error?: string }>({});
  const params = toParams(t, values);
  const debounced = useDebounced({ params, dest }, 250);
  useEffect(() => {
    let alive = true;
    const body: Record<string, unknown> = { params: debounced.params };
    if (debounced.dest.type) body.destination = { type: debounced.dest.type, ...(debounced.dest.endpoint ? { endpoint: debounced.dest.endpoint } : {}) };
    post<Rendered>(`/api/v1/catalog/${seg(t.name)}/render`, body).then(
      (r) => alive && setRendered({ yaml: r.yaml }),
      (e) => alive && setRendered((s) => ({ yaml: s.yaml, error: errorText(e) })),
    );
    return () => {
      alive = false;
    };
  }, [JSON.stringify(debounced), t.name]);
  const hostList = hosts.split(',').map((h) => h.trim()).filter(Boolean);
  const selList = selector.split(',').map((h) => h.trim()).filter(Boolean);
  const deploy = async (e: Event) => {
    e.preventDefault();
    setDeployMsg({});
    const sel: Record<string, string> = {};
    for (const s of selList) {
      const i = s.indexOf('=');
      if (i <= 0) return setDeployMsg({ error: `selector ${s}: write key=value` });
      sel[s.slice(0, i)] = s.slice(i + 1);
    }
    try {
      const d = await post<Deployment>('/api/v1/deployments', {
        name: depName,
        template: t.name,
        params,
        destination: { type: dest.type, ...(dest.endpoint ? { endpoint: dest.endpoint } : {}) },
        target: { ...(hostList.length ? { hosts: hostList } : {}), ...(selList.length ? { selector: sel } : {}) },
      });
      setDeployMsg({ ok: `Deployment ${d.name} version ${d.version} created.` });
    } catch (x) {
      setDeployMsg({ error: errorText(x) });
    }
  };
  return (
    <section aria-labelledby="h-template">
      <p>
        <a href="#/catalog">← Catalog</a>
      </p>
      <h1 id="h-template">{t.title || t.name}</h1>
      <p>{t.description}</p>
      <p>
        <b>When to use it:</b> {t.when_to_use}
      </p>
      <p>
        <b>Expected reduction:</b> {t.expected_reduction}
      </p>
      <h2>Parameters</h2>
      <form onSubmit={(e) => e.preventDefault()} aria-label="Parameters">
        <div class="table-wrap">
          <table class="data" data-testid="params-table">
            <thead>
              <tr>
                <th scope="col">Parameter</th>
                <th scope="col">Type</th>
                <th scope="col">Default</th>
                <th scope="col">Bounds</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {(t.params ?? []).map((p) => (
                <ParamInput p={p} value={values[p.name]} set={(v) => setValues({ ...values, [p.name]: v })} />
              ))}
            </tbody>
          </table>
        </div>
      </form>
      <div class="split">
        <div>
          <h2>Deploy</h2>
          <form class="stack" onSubmit={deploy} data-testid="deploy-form">
            <label>
              Deployment name <input required pattern="[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?" value={depName} onInput={(e) => setDepName(e.currentTarget.value)} name="name" />
            </label>
            <label>
              Hosts (comma-separated) <input value={hosts} onInput={(e) => setHosts(e.currentTarget.value)} name="hosts" />
            </label>
            <label>
              Label selector (key=value, comma-separated) <input value={selector} onInput={(e) => setSelector(e.currentTarget.value)} name="selector" />
            </label>
            <label>
              Destination{' '}
              <select value={dest.type} onChange={(e) => setDest({ ...dest, type: e.currentTarget.value })} name="destination">
                {destTypes.map((d) => (
                  <option value={d}>{d}</option>
                ))}
              </select>
            </label>
            <label>
              Destination endpoint <input value={dest.endpoint} onInput={(e) => setDest({ ...dest, endpoint: e.currentTarget.value })} name="endpoint" placeholder="gateway:4317" />
            </label>
            <button type="submit" class="primary">
              Deploy
            </button>
            {deployMsg.ok && (
              <p class="ok" role="status">
                {deployMsg.ok}
              </p>
            )}
            <ErrorText text={deployMsg.error} />
          </form>
          <h2>Equivalent command</h2>
          <pre class="cmd" data-testid="cli-command" tabIndex={0}>
            {cliCommand(t.name, depName, hostList, selList, params, dest)}
          </pre>
        </div>
        <div>
          <h2>Rendered config</h2>
          <ErrorText text={rendered.error} />
          <pre class="yaml" data-testid="rendered-yaml" tabIndex={0}>
            {rendered.yaml ?? 'Rendering…'}
          </pre>
        </div>
      </div>
    </section>
  );
}
