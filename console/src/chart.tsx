// A time-series chart drawn by uPlot.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  points: [number, number][]; // [unix seconds, value]
}

const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/**
 * The time axis: the data's span with a 2% margin, at least a minute (so
 * one or two samples do not stretch the axis over years, and a 30-second
 * experiment fills its chart); the last 15 minutes without data.
 */
export function xRange(min: number | null, max: number | null, now: number): [number, number] {
  if (min == null || max == null) return [now - 900, now];
  const span = Math.max(60, max - min);
  const pad = span * 0.02;
  return [max - span - pad, max + pad];
}

/** Aligns several series on the union of their timestamps (uPlot's data shape). */
export function align(series: Series[]): uPlot.AlignedData {
  const ts = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const cols = series.map((s) => {
    const m = new Map(s.points);
    return ts.map((t) => (m.has(t) ? (m.get(t) as number) : null));
  });
  return [ts, ...cols] as uPlot.AlignedData;
}

export function Chart({ title, series, unit, height = 180 }: { title: string; series: Series[]; unit?: (v: number) => string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = series.map((s) => s.label).join('|');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth || 400);
    const opts: uPlot.Options = {
      width,
      height,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2, spanGaps: true }))],
      axes: [{}, { values: (_u, vals) => vals.map((v) => (unit ? unit(v) : String(v))), size: 70 }],
      legend: { show: true },
      // From the data's own timestamps: for a single point uPlot passes a
      // max 1,000 days later, which stretched the axis over years.
      scales: {
        x: {
          time: true,
          range: (u) => {
            const ts = u.data[0] ?? [];
            return xRange(ts.length ? ts[0] : null, ts.length ? ts[ts.length - 1] : null, Date.now() / 1000);
          },
        },
      },
    };
    plot.current = new uPlot(opts, align(series), el);
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height })) : undefined;
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [shape]);
  useEffect(() => {
    plot.current?.setData(align(series));
  }, [series]);
  const empty = series.every((s) => s.points.length === 0);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={title} />
      {empty && <p class="muted">No figures yet.</p>}
    </figure>
  );
}
