import { describe, expect, it } from 'vitest';
import { xRange } from './chart';

describe('xRange', () => {
  it('spans the data with a margin, at least a minute', () => {
    // A 30-second experiment fills a one-minute axis ending at its last sample.
    const [a, b] = xRange(1000, 1030, 5000);
    expect(b).toBeCloseTo(1031.2);
    expect(a).toBeCloseTo(1030 - 60 - 1.2);
    // An hour of samples: the hour with a 2% margin each side.
    expect(xRange(0, 3600, 9999)).toEqual([-72, 3672]);
    // No data: the last 15 minutes.
    expect(xRange(null, null, 5000)).toEqual([4100, 5000]);
  });
});
