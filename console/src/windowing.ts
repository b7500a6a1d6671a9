// Windowed rendering of a long table: only the rows within the viewport,
// plus some overscan, are in the DOM; two spacer rows stand for the rest.
// The page keeps its own scroll (no inner scroller), so keyboard, find and
// scroll behave as on any page. Pure math here; the hook is in ui.tsx.

/** The rows [start, end) of a list to render. */
export interface Range {
  start: number;
  end: number;
}

export interface WindowInput {
  total: number; // rows in the list
  rowHeight: number; // px, measured (average of the rendered rows)
  top: number; // px from the first row's top to the viewport's top (negative: the list starts below)
  height: number; // viewport height, px
  overscan?: number; // rows rendered beyond each edge (default 20)
  quantum?: number; // the range moves in steps of this many rows (default 10), so small scrolls render nothing
  threshold?: number; // lists up to this long are rendered whole (default 100)
}

/** The range of rows to render for a viewport over a list. */
export function windowRange(w: WindowInput): Range {
  const { total } = w;
  const overscan = w.overscan ?? 20;
  const q = Math.max(1, w.quantum ?? 10);
  if (total <= (w.threshold ?? 100) || !(w.rowHeight > 0)) return { start: 0, end: total };
  const first = Math.floor(Math.max(0, w.top) / w.rowHeight);
  const last = Math.ceil(Math.max(0, w.top + w.height) / w.rowHeight);
  const start = Math.max(0, Math.floor((first - overscan) / q) * q);
  const end = Math.min(total, Math.ceil((last + overscan) / q) * q);
  return start < end ? { start, end } : { start: Math.max(0, Math.min(start, total - q)), end: total };
}

/** Heights of the spacers above and below a rendered range. */
export function spacers(total: number, r: Range, rowHeight: number): { above: number; below: number } {
  return { above: r.start * rowHeight, below: Math.max(0, total - r.end) * rowHeight };
}
