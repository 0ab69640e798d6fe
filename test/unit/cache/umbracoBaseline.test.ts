import { describe, expect, it } from 'vitest';
import { simulateUmbracoBaseline, summarise, sweepSvg, type StepResult } from '../../../bench/cache';

/** Rows published at `rate` per second for `seconds`, each visible 10 ms after its publish started. */
const rows = (rate: number, seconds: number) => Array.from({ length: rate * seconds }, (_, i) => ({ start: (i * 1000) / rate, inserted: (i * 1000) / rate + 10 }));

describe("the bench's Umbraco-style baseline (virtual time)", () => {
  it('keeps up below 20 rows/s: latency is the wait for the next 5 s poll', () => {
    const r = simulateUmbracoBaseline(rows(10, 10), 1, 0, 10, () => 0.5); // polls at 2.5 s, 7.5 s, 12.5 s
    expect(r.sustained).toBe(10);
    expect(r.latency.samples).toBe(100);
    expect(r.latency.max).toBeLessThanOrEqual(5_000);
    expect(r.requestsPerEnvelopePerServer).toBe(0.02); // 2 polls per 100 rows
  });

  it('cannot take more than 100 rows per 5 s: at 100 rows/s it sustains 20 and its latency grows with the run', () => {
    const r = simulateUmbracoBaseline(rows(100, 10), 3, 0, 10, () => 0);
    expect(r.sustained).toBeGreaterThan(19);
    expect(r.sustained).toBeLessThanOrEqual(20.5);
    expect(r.latency.samples).toBe(3_000);
    expect(r.latency.max).toBeGreaterThan(35_000); // the last row waits for the 10th poll
  });
});

describe('the sweep summary and picture', () => {
  const step = (offered: number, rep: number, p99: number, sustained: number): StepResult => ({
    frontEnds: 10,
    offered,
    rep,
    seconds: 8,
    published: offered * 8,
    sustained,
    complete: true,
    push: { p50: p99 / 2, p95: p99 * 0.9, p99, max: p99, samples: 100 },
    requestsPerEnvelope: { publish: 0.1 * rep, fanOut: 0.2, perFrontEnd: 0.05 },
    umbracoBaseline: { latency: { p50: 2500, p95: 4800, p99: 4950, max: 5000, samples: 100 }, sustained: 20, requestsPerEnvelopePerServer: 0.01 },
    errors: 0,
  });

  it('reports min, median and max of the runs and whether the rate was carried', () => {
    const row = summarise([step(100, 1, 300, 99), step(100, 2, 200, 70), step(100, 3, 250, 98)]);
    expect(row.p99).toEqual({ min: 200, median: 250, max: 300 });
    expect(row.sustained).toEqual({ min: 70, median: 98, max: 99 });
    expect(row.carried).toBe(true);
    expect(row.requestsPerEnvelope.publish).toBe(0.2);
    expect(summarise([step(100, 1, 300, 80)]).carried).toBe(false);
  });

  it('draws one line per front-end count and the baseline', () => {
    const svg = sweepSvg([summarise([step(25, 1, 100, 25)]), summarise([step(100, 1, 200, 100)]), { ...summarise([step(25, 1, 300, 25)]), frontEnds: 50 }]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('10 front-ends');
    expect(svg).toContain('50 front-ends');
  });
});
