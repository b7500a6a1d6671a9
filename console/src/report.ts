// The experiment's exports: the comparison as JSON, and a standalone HTML
// report. Every value is escaped: variant names, hosts and reasons come
// from users and agents.
import { sourceText } from './format';
import type { Comparison } from './types';

export function escapeHTML(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function fmtNum(v: number | undefined, digits = 3): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(2);
  return Number(v.toFixed(digits)).toString();
}

export function htmlReport(c: Comparison): string {
  const e = c.experiment;
  const rows = (c.results ?? [])
    .flatMap((r) =>
      (r.kpis ?? []).map(
        (k) =>
          `<tr><td>${escapeHTML(r.variant)}</td><td>${escapeHTML(k.kpi)}</td><td>${fmtNum(k.baseline_mean)}</td><td>${fmtNum(k.candidate_mean)}</td>` +
          `<td>${fmtNum(k.diff)} [${fmtNum(k.ci_low)}, ${fmtNum(k.ci_high)}]</td><td>${fmtNum(k.p_adjusted)}</td><td>${escapeHTML(k.method)}</td><td>${k.n}</td></tr>`,
      ),
    )
    .join('\n');
  const verdicts = (c.results ?? [])
    .map((r) => `<li><b>${escapeHTML(r.variant)}</b>: ${escapeHTML(r.verdict)} — ${escapeHTML(r.criterion)}. ${escapeHTML(r.detail)}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment ${escapeHTML(e.name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}</style></head>
<body><h1>Experiment ${escapeHTML(e.name)}</h1>
<p>Status ${escapeHTML(e.status)}${e.reason ? ' (' + escapeHTML(e.reason) + ')' : ''}; ${e.samples} sample intervals; variants ${(e.variants ?? []).map((v) => escapeHTML(v.name) + ' = ' + escapeHTML(sourceText(v))).join(', ')}.</p>
<h2>Verdicts</h2><ul>${verdicts}</ul>
<h2>KPIs (candidate against baseline, paired over intervals)</h2>
<table><thead><tr><th>Variant</th><th>KPI</th><th>Baseline mean</th><th>Candidate mean</th><th>Difference [95% CI]</th><th>p (adjusted)</th><th>Test</th><th>n</th></tr></thead>
<tbody>${rows}</tbody></table></body></html>
`;
}

/** Offers a document for download (a blob URL: no server round trip, no token in a URL). */
export function download(name: string, type: string, body: string) {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
