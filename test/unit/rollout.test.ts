import fc from 'fast-check';
import { rolloutSlot, usesMl } from '../../src/flags/rollout.js';

const bookingId = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const percentage = fc.integer({ min: 0, max: 100 });

describe('rollout decision (src/flags/rollout.ts)', () => {
  it('is deterministic: the same booking gets the same slot and answer every time (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(bookingId, percentage, (id, pct) => {
        runs++;
        const slot = rolloutSlot(id);
        expect(Number.isInteger(slot) && slot >= 0 && slot < 100).toBe(true);
        expect(rolloutSlot(id)).toBe(slot);
        const flags = { ml_enabled: true, ml_traffic_percentage: pct };
        expect(usesMl(id, flags)).toBe(usesMl(id, { ...flags }));
      }),
      { numRuns: 300 },
    );
    console.log(`rollout determinism property: ${runs} cases`);
  });

  it('is monotonic: raising the percentage never takes a booking off ML (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(bookingId, percentage, percentage, (id, a, b) => {
        runs++;
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (usesMl(id, { ml_enabled: true, ml_traffic_percentage: low })) {
          expect(usesMl(id, { ml_enabled: true, ml_traffic_percentage: high })).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    console.log(`rollout monotonicity property: ${runs} cases`);
  });

  it('0 % serves nobody, 100 % everybody, disabled nobody', () => {
    for (let id = 0; id < 500; id++) {
      expect(usesMl(id, { ml_enabled: true, ml_traffic_percentage: 0 })).toBe(false);
      expect(usesMl(id, { ml_enabled: true, ml_traffic_percentage: 100 })).toBe(true);
      expect(usesMl(id, { ml_enabled: false, ml_traffic_percentage: 100 })).toBe(false);
    }
  });

  it('serves about the configured share of bookings (25 % of 20,000 within ±1.5 points)', () => {
    let on = 0;
    for (let id = 1; id <= 20_000; id++) if (usesMl(id, { ml_enabled: true, ml_traffic_percentage: 25 })) on++;
    expect(on / 20_000).toBeGreaterThan(0.235);
    expect(on / 20_000).toBeLessThan(0.265);
  });

  it('spreads consecutive booking ids over all 100 slots', () => {
    const slots = new Set<number>();
    for (let id = 0; id < 2000; id++) slots.add(rolloutSlot(id));
    expect(slots.size).toBe(100);
  });
});
