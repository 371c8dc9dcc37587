import fc from 'fast-check';
import { DAY_US, HOUR_US, MINUTE_US, planPieces, planTiers, type Range } from '../../src/aggregate/window.js';

const length = (ranges: Range[]) => ranges.reduce((sum, r) => sum + (r.end - r.start), 0);

describe('planTiers', () => {
  it('covers the window exactly once with hours, edge minutes and raw edges, each aligned to its tier', () => {
    let cases = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 24 * HOUR_US }), fc.integer({ min: 1, max: 40 * 24 * HOUR_US }), (start, span) => {
        cases++;
        const range = { start, end: start + span };
        const { tiers, raw } = planTiers(range, [HOUR_US, MINUTE_US]);
        const [hours, minutes] = tiers;
        const pieces = [...hours!.ranges, ...minutes!.ranges, ...raw].sort((a, b) => a.start - b.start);
        // contiguous, no overlap, exactly the window
        expect(pieces[0]!.start).toBe(range.start);
        expect(pieces[pieces.length - 1]!.end).toBe(range.end);
        pieces.slice(1).forEach((p, i) => expect(p.start).toBe(pieces[i]!.end));
        for (const r of hours!.ranges) expect([r.start % HOUR_US, r.end % HOUR_US]).toEqual([0, 0]);
        for (const r of minutes!.ranges) expect([r.start % MINUTE_US, r.end % MINUTE_US]).toEqual([0, 0]);
        // at most one run of hours, two of minutes and two of raw rows, each shorter than its tier
        expect(hours!.ranges.length).toBeLessThanOrEqual(1);
        expect(minutes!.ranges.length).toBeLessThanOrEqual(2);
        expect(raw.length).toBeLessThanOrEqual(2);
        for (const r of raw) expect(r.end - r.start).toBeLessThan(MINUTE_US);
        if (hours!.ranges.length > 0) expect(length(minutes!.ranges)).toBeLessThan(2 * HOUR_US);
      }),
      { numRuns: 300 },
    );
    console.log(`planTiers partition property: ${cases} cases`);
  });

  it('a 30-day window reads whole hours, not minutes', () => {
    const start = Date.UTC(2026, 10, 1, 0, 0, 30) * 1000 + 7;
    const { tiers, raw } = planTiers({ start, end: start + 30 * 24 * HOUR_US }, [HOUR_US, MINUTE_US]);
    expect(length(tiers[0]!.ranges) / HOUR_US).toBe(30 * 24 - 1);
    expect(length(tiers[1]!.ranges) / MINUTE_US).toBe(59); // 00:01–01:00 on the first day; the last day ends on a whole hour
    expect(raw.map((r) => r.end - r.start)).toEqual([MINUTE_US - 30_000_007, 30_000_007]);
  });
});

describe('planPieces', () => {
  it('covers the pieces exactly once, no bucket straddles a boundary, touching ranges are joined', () => {
    let cases = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 * DAY_US }),
        fc.array(fc.integer({ min: 1, max: 10 * DAY_US }), { minLength: 1, maxLength: 8 }),
        (start, lengths) => {
          cases++;
          const boundaries = lengths.reduce((all, length) => [...all, all[all.length - 1]! + length], [start]);
          const { tiers, raw } = planPieces(boundaries, [HOUR_US, MINUTE_US]);
          const [hours, minutes] = tiers;
          const all = [...hours!.ranges, ...minutes!.ranges, ...raw].sort((a, b) => a.start - b.start);
          expect(all[0]!.start).toBe(start);
          expect(all[all.length - 1]!.end).toBe(boundaries[boundaries.length - 1]);
          all.slice(1).forEach((r, i) => expect(r.start).toBe(all[i]!.end));
          for (const [ranges, step] of [[hours!.ranges, HOUR_US], [minutes!.ranges, MINUTE_US]] as const) {
            ranges.slice(1).forEach((r, i) => expect(r.start).toBeGreaterThan(ranges[i]!.end));
            for (const r of ranges) {
              expect([r.start % step, r.end % step]).toEqual([0, 0]);
              // each bucket of the range lies inside one piece
              for (const b of boundaries) if (b > r.start && b < r.end) expect(b % step).toBe(0);
            }
          }
          raw.slice(1).forEach((r, i) => expect(r.start).toBeGreaterThan(raw[i]!.end));
        },
      ),
      { numRuns: 300 },
    );
    console.log(`planPieces partition property: ${cases} cases`);
  });

  it('empty pieces read nothing', () => {
    const t = Date.UTC(2026, 10, 28, 13, 42, 30) * 1000 + 7;
    expect(planPieces([t, t], [HOUR_US, MINUTE_US])).toEqual({ tiers: [{ stepUs: HOUR_US, ranges: [] }, { stepUs: MINUTE_US, ranges: [] }], raw: [] });
    expect(planPieces([t, t, t + 5], [HOUR_US, MINUTE_US]).raw).toEqual([{ start: t, end: t + 5 }]);
  });

  it('30 days ending now read as one run of hours, the edge minutes and one partial minute', () => {
    const now = Date.UTC(2026, 10, 28, 13, 42, 30) * 1000 + 7;
    const days = Array.from({ length: 30 }, (_, i) => Date.UTC(2026, 10, 28) * 1000 - (29 - i) * DAY_US);
    const { tiers, raw } = planPieces([...days, now + 1], [HOUR_US, MINUTE_US]);
    expect(tiers[0]!.ranges).toEqual([{ start: days[0], end: Date.UTC(2026, 10, 28, 13) * 1000 }]);
    expect(tiers[1]!.ranges).toEqual([{ start: Date.UTC(2026, 10, 28, 13) * 1000, end: Date.UTC(2026, 10, 28, 13, 42) * 1000 }]);
    expect(raw).toEqual([{ start: Date.UTC(2026, 10, 28, 13, 42) * 1000, end: now + 1 }]);
  });

  it('before the epoch too: 30 days of 1969 read as one run of hours, the edge minutes and one partial minute', () => {
    const now = Date.UTC(1969, 11, 28, 13, 42, 30) * 1000 + 7;
    const days = Array.from({ length: 30 }, (_, i) => Date.UTC(1969, 11, 28) * 1000 - (29 - i) * DAY_US);
    const { tiers, raw } = planPieces([...days, now + 1], [HOUR_US, MINUTE_US]);
    expect(tiers[0]!.ranges).toEqual([{ start: days[0], end: Date.UTC(1969, 11, 28, 13) * 1000 }]);
    expect(tiers[1]!.ranges).toEqual([{ start: Date.UTC(1969, 11, 28, 13) * 1000, end: Date.UTC(1969, 11, 28, 13, 42) * 1000 }]);
    expect(raw).toEqual([{ start: Date.UTC(1969, 11, 28, 13, 42) * 1000, end: now + 1 }]);
  });
});
