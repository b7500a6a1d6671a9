// Formatting of figures for tables and charts. Pure functions: unit-tested.

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** An integer with thousands separators; a dash for a missing figure. */
export function fmtInt(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  return intFmt.format(Math.round(n));
}

/** A fraction (0..1) as a percentage with one decimal. */
export function fmtPct(f: number | undefined | null, digits = 1): string {
  if (f === undefined || f === null || !Number.isFinite(f)) return '–';
  return (f * 100).toFixed(digits) + '%';
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units (KiB, MiB, ...). */
export function fmtBytes(b: number | undefined | null): string {
  if (b === undefined || b === null || !Number.isFinite(b) || b < 0) return '–';
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return (i === 0 ? b.toFixed(0) : b < 10 ? b.toFixed(1) : b.toFixed(0)) + ' ' + units[i];
}

/** CPU as cores used (0.125 -> "12.5%" of one core). */
export function fmtCPU(cores: number | undefined | null): string {
  return fmtPct(cores, 1);
}

/** An amount of US dollars: $1,234 or $12.34 below $100. */
export function fmtMoney(usd: number | undefined | null): string {
  if (usd === undefined || usd === null || !Number.isFinite(usd)) return '–';
  const sign = usd < 0 ? '-' : '';
  const a = Math.abs(usd);
  return sign + '$' + (a < 100 ? a.toFixed(2) : intFmt.format(Math.round(a)));
}

/** How long ago an RFC 3339 time was, relative to now (ms since epoch). */
export function fmtAgo(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t) || t <= 0) return 'never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return s + 's ago';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ago';
  const h = Math.floor(m / 60);
  if (h < 48) return h + 'h ago';
  return Math.floor(h / 24) + 'd ago';
}

/** A parameter's default and bounds, as the catalog form shows them. */
export function fmtBounds(p: { min?: number; max?: number; enum?: string[] }): string {
  if (p.enum && p.enum.length) return 'one of ' + p.enum.join(', ');
  if (p.min !== undefined && p.max !== undefined) return `${p.min} to ${p.max}`;
  if (p.min !== undefined) return `≥ ${p.min}`;
  if (p.max !== undefined) return `≤ ${p.max}`;
  return '';
}

/** Quote a value for a POSIX shell if it needs it (for the equivalent CLI command). */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_./:=,@%+-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, `'\\''`) + "'";
}

/** A value as `phoenix --param` writes it: lists comma-separated. */
export function paramText(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(',');
  if (v === undefined || v === null) return '';
  return String(v);
}

/** What a version or variant runs: its template, or the user's own config
 * (a raw config has no template), as the CLI's tables say it. */
export function sourceText(s: { template?: string; config?: string }): string {
  if (s.template) return s.template;
  if (s.config) return `raw config (${new TextEncoder().encode(s.config).length} bytes)`;
  return '';
}
