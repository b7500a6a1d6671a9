import { describe, expect, it } from 'vitest';
import { escapeHTML, fmtNum, htmlReport } from './report';
import type { Comparison } from './types';

const evil = '<img src=x onerror=alert(1)>';

function comparison(): Comparison {
  return {
    experiment: { name: 'exp-1', status: 'completed', reason: evil, target: { hosts: [evil] }, variants: [{ name: 'baseline', template: 't' }, { name: evil, template: 'u' }], duration: '30m', warmup: '1m', interval: '1m', transitions: [], created_at: '', samples: 12 } as unknown as Comparison['experiment'],
    results: [{ variant: evil, verdict: 'promote', criterion: 'reduction 80% ≥ 20%', detail: evil, kpis: [{ kpi: 'output_series', baseline_mean: 700, candidate_mean: 157, n: 12, diff: -543, ci_low: -550, ci_high: -536, p_welch: 1e-9, p_paired: 1e-12, p_rank: 0.0002, method: 'paired t', p_adjusted: 2e-12 }], reduction_pct: 77.6, cpu_measured: false, cpu_increase_pct: 0, p_cpu_above_bound: 1, critical_retention_pct: 100, input_identical_intervals: 12, intervals: 12, baseline_cost_month: 10, candidate_cost_month: 2 }],
    series: [],
    collector: null,
  };
}

describe('report', () => {
  it('escapes everything users and agents wrote', () => {
    const h = htmlReport(comparison());
    expect(h).not.toContain('<img');
    expect(h).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(h).toContain('<td>700</td><td>157</td><td>-543 [-550, -536]</td><td>2.00e-12</td>');
    expect(escapeHTML(`"'&`)).toBe('&quot;&#39;&amp;');
  });
  it('numbers', () => {
    expect(fmtNum(0.1234567)).toBe('0.123');
    expect(fmtNum(0.00001)).toBe('1.00e-5');
    expect(fmtNum(0)).toBe('0');
    expect(fmtNum(NaN)).toBe('–');
  });
});
