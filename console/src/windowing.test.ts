import { describe, expect, it } from 'vitest';
import { spacers, windowRange } from './windowing';

describe('windowRange', () => {
  const w = { total: 1000, rowHeight: 40, height: 800 };
  it('renders short lists whole', () => {
    expect(windowRange({ ...w, total: 100, top: 2000 })).toEqual({ start: 0, end: 100 });
    expect(windowRange({ ...w, total: 0, top: 0 })).toEqual({ start: 0, end: 0 });
  });
  it('renders the viewport plus overscan, in steps', () => {
    // The list starts 300 px below the viewport's top: rows 0..13 are visible.
    expect(windowRange({ ...w, top: -300 })).toEqual({ start: 0, end: 40 });
    // Scrolled to row 500 (20,000 px): rows 500..520 visible, 20 overscan each side.
    expect(windowRange({ ...w, top: 20000 })).toEqual({ start: 480, end: 540 });
    // The start moves in steps of 10 rows.
    expect(windowRange({ ...w, top: 20000 + 3 * 40 })).toEqual({ start: 480, end: 550 });
    expect(windowRange({ ...w, top: 20000 + 9 * 40 }).start).toBe(480);
    expect(windowRange({ ...w, top: 20000 + 10 * 40 }).start).toBe(490);
  });
  it('clamps at the end, and past it', () => {
    expect(windowRange({ ...w, top: 39200 })).toEqual({ start: 960, end: 1000 });
    expect(windowRange({ ...w, top: 1e6 })).toEqual({ start: 990, end: 1000 });
  });
  it('never renders more than the viewport needs', () => {
    for (let top = -500; top < 41000; top += 137) {
      const r = windowRange({ ...w, top });
      expect(r.end - r.start).toBeLessThanOrEqual(800 / 40 + 2 * 20 + 2 * 10 + 1);
      expect(r.start).toBeGreaterThanOrEqual(0);
      expect(r.end).toBeLessThanOrEqual(1000);
      // The visible rows are inside the range.
      const first = Math.max(0, Math.floor(top / 40));
      if (first < 1000) expect(r.start <= first && r.end > Math.min(999, first)).toBe(true);
    }
  });
  it('spacers stand for the rows left out', () => {
    expect(spacers(1000, { start: 480, end: 540 }, 40)).toEqual({ above: 19200, below: 18400 });
    expect(spacers(10, { start: 0, end: 10 }, 40)).toEqual({ above: 0, below: 0 });
  });
});
