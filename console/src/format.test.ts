import { describe, expect, it } from 'vitest';
import { fmtAgo, fmtBounds, fmtBytes, fmtInt, fmtMoney, fmtPct, paramText, shellQuote, sourceText } from './format';

describe('format', () => {
  it('names a raw config by its size, as the CLI does', () => {
    expect(sourceText({ template: 'process-topk-v1' })).toBe('process-topk-v1');
    expect(sourceText({ template: '', config: 'receivers: {}\n# é\n' })).toBe('raw config (19 bytes)');
    expect(sourceText({ template: '' })).toBe('');
  });
  it('integers and missing figures', () => {
    expect(fmtInt(1234567)).toBe('1,234,567');
    expect(fmtInt(undefined)).toBe('–');
    expect(fmtInt(NaN)).toBe('–');
  });
  it('percentages', () => {
    expect(fmtPct(0.776)).toBe('77.6%');
    expect(fmtPct(1, 0)).toBe('100%');
    expect(fmtPct(undefined)).toBe('–');
  });
  it('bytes in binary units', () => {
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(150 * 1024 * 1024)).toBe('150 MiB');
    expect(fmtBytes(-1)).toBe('–');
  });
  it('money', () => {
    expect(fmtMoney(12.345)).toBe('$12.35');
    expect(fmtMoney(12345.6)).toBe('$12,346');
    expect(fmtMoney(-5)).toBe('-$5.00');
  });
  it('relative time', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(fmtAgo('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(fmtAgo('2026-01-01T11:59:30Z', now)).toBe('30s ago');
    expect(fmtAgo('2026-01-01T11:00:00Z', now)).toBe('1h ago');
    expect(fmtAgo('2025-12-25T12:00:00Z', now)).toBe('7d ago');
    expect(fmtAgo(undefined, now)).toBe('never');
    expect(fmtAgo('0001-01-01T00:00:00Z', now)).toBe('never');
  });
  it('bounds', () => {
    expect(fmtBounds({ min: 1, max: 10000 })).toBe('1 to 10000');
    expect(fmtBounds({ min: 0 })).toBe('≥ 0');
    expect(fmtBounds({ enum: ['a', 'b'] })).toBe('one of a, b');
    expect(fmtBounds({})).toBe('');
  });
  it('shell quoting for the equivalent command', () => {
    expect(shellQuote('k=10')).toBe('k=10');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
    expect(shellQuote('')).toBe("''");
    expect(paramText(['a', 'b'])).toBe('a,b');
  });
});
