import fc from 'fast-check';
import { floorTo, isoMicros, microsOf, microsOfIso, openClosed, planTiers, type Range } from '../../src/aggregate/window.js';

const MINUTE = 60_000_000;
const T0 = Date.UTC(2024, 0, 15, 10, 0, 0) * 1000; // a whole minute, in µs

/** planTiers over the minute tier alone: its whole minutes (one range or none) and the raw rest. */
function planWindow(range: Range): { buckets: Range | null; raw: Range[] } {
  const { tiers, raw } = planTiers(range, [MINUTE]);
  return { buckets: tiers[0]!.ranges[0] ?? null, raw };
}

describe('planTiers on the minute tier alone (src/aggregate/window.ts)', () => {
  it('plans nothing for an empty or inverted window', () => {
    expect(planWindow({ start: T0, end: T0 })).toEqual({ buckets: null, raw: [] });
    expect(planWindow({ start: T0 + 5, end: T0 })).toEqual({ buckets: null, raw: [] });
  });

  it('reads a window inside one minute from raw rows only', () => {
    expect(planWindow({ start: T0 + 1, end: T0 + 59_000_000 })).toEqual({ buckets: null, raw: [{ start: T0 + 1, end: T0 + 59_000_000 }] });
  });

  it('reads a window straddling one minute boundary (no whole minute) raw', () => {
    const range = { start: T0 - 10, end: T0 + 10 };
    expect(planWindow(range)).toEqual({ buckets: null, raw: [range] });
  });

  it('uses buckets only when both ends are whole minutes', () => {
    expect(planWindow({ start: T0, end: T0 + 3 * MINUTE })).toEqual({ buckets: { start: T0, end: T0 + 3 * MINUTE }, raw: [] });
  });

  it('exactly one whole minute', () => {
    expect(planWindow({ start: T0, end: T0 + MINUTE })).toEqual({ buckets: { start: T0, end: T0 + MINUTE }, raw: [] });
  });

  it('splits partial edge minutes to raw rows (1 µs on each side)', () => {
    expect(planWindow({ start: T0 - 1, end: T0 + 2 * MINUTE + 1 })).toEqual({
      buckets: { start: T0, end: T0 + 2 * MINUTE },
      raw: [
        { start: T0 - 1, end: T0 },
        { start: T0 + 2 * MINUTE, end: T0 + 2 * MINUTE + 1 },
      ],
    });
  });

  it('a left edge only', () => {
    expect(planWindow({ start: T0 + 1, end: T0 + 2 * MINUTE })).toEqual({
      buckets: { start: T0 + MINUTE, end: T0 + 2 * MINUTE },
      raw: [{ start: T0 + 1, end: T0 + MINUTE }],
    });
  });

  it('works before the epoch (negative times)', () => {
    const start = -3 * MINUTE - 7;
    const end = -MINUTE + 5;
    expect(planWindow({ start, end })).toEqual({
      buckets: { start: -3 * MINUTE, end: -MINUTE },
      raw: [
        { start, end: -3 * MINUTE },
        { start: -MINUTE, end },
      ],
    });
  });

  it('partitions every window exactly: buckets are whole minutes, raw parts are partial minutes (property)', () => {
    let runs = 0;
    const instant = fc.integer({ min: T0 - 1000 * MINUTE, max: T0 + 1000 * MINUTE });
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        runs++;
        const range: Range = { start: Math.min(a, b), end: Math.max(a, b) };
        const plan = planWindow(range);
        const parts = [...(plan.buckets ? [plan.buckets] : []), ...plan.raw].sort((x, y) => x.start - y.start);
        // Disjoint, contiguous, covering [start, end).
        let cursor = range.start;
        for (const part of parts) {
          expect(part.start).toBe(cursor);
          expect(part.end).toBeGreaterThan(part.start);
          cursor = part.end;
        }
        expect(cursor).toBe(parts.length === 0 ? range.start : range.end);
        if (range.end === range.start) expect(parts).toEqual([]);
        if (plan.buckets) {
          expect(plan.buckets.start % MINUTE).toBe(0);
          expect(plan.buckets.end % MINUTE).toBe(0);
          // raw pieces are partial minutes: each shorter than a minute, each within one minute
          for (const raw of plan.raw) {
            expect(raw.end - raw.start).toBeLessThan(MINUTE);
            expect(Math.floor(raw.start / MINUTE)).toBe(Math.floor((raw.end - 1) / MINUTE));
          }
        } else if (range.end > range.start) {
          // no whole minute inside: one raw range of less than two minutes
          expect(plan.raw).toEqual([range]);
          expect(range.end - range.start).toBeLessThan(2 * MINUTE);
        }
      }),
      { numRuns: 300 },
    );
    console.log(`planWindow partition property: ${runs} cases`);
  });
});

describe('openClosed', () => {
  it('turns (from, to] into [from + 1 µs, to + 1 µs)', () => {
    expect(openClosed(T0, T0 + MINUTE)).toEqual({ start: T0 + 1, end: T0 + MINUTE + 1 });
  });

  it('includes to and excludes from, for every instant (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: -5, max: 1e9 + 5 }), (from, length, offset) => {
        const to = from + length;
        const t = from + offset;
        const { start, end } = openClosed(from, to);
        expect(t >= start && t < end).toBe(t > from && t <= to);
      }),
      { numRuns: 200 },
    );
  });
});

describe('isoMicros / microsOf / floorTo', () => {
  it('formats microseconds exactly', () => {
    expect(isoMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(isoMicros(1)).toBe('1970-01-01T00:00:00.000001Z');
    expect(isoMicros(1_500_123)).toBe('1970-01-01T00:00:01.500123Z');
    expect(isoMicros(T0 + 999)).toBe('2024-01-15T10:00:00.000999Z');
    expect(isoMicros(-1)).toBe('1969-12-31T23:59:59.999999Z');
    expect(isoMicros(-1000)).toBe('1969-12-31T23:59:59.999000Z');
  });

  it('round-trips every instant of years 1900..2200 (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000_000, max: 7_258_118_400_000_000 }), (us) => {
        runs++;
        const text = isoMicros(us);
        const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z$/.exec(text);
        expect(m).not.toBeNull();
        const seconds = Date.parse(`${m![1]}Z`) * 1000;
        expect(seconds + Number(m![2])).toBe(us);
      }),
      { numRuns: 300 },
    );
    console.log(`isoMicros round-trip property: ${runs} cases`);
  });

  it('microsOfIso reads what isoMicros writes, and offsets and short fractions (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000_000, max: 7_258_118_400_000_000 }), (us) => {
        expect(microsOfIso(isoMicros(us))).toBe(us);
      }),
      { numRuns: 300 },
    );
    expect(microsOfIso('2024-01-15T12:30:00.5+02:30')).toBe(T0 + 500_000);
    expect(microsOfIso('2024-01-15t10:00:00z')).toBe(T0);
    expect(microsOfIso('1969-12-31T23:59:59.9995Z')).toBe(-500);
  });

  it('microsOf is milliseconds × 1000', () => {
    expect(microsOf(new Date(T0 / 1000 + 123))).toBe(T0 + 123_000);
  });

  it('floorTo floors towards minus infinity, also before the epoch', () => {
    expect(floorTo(T0 + 59_999_999, MINUTE)).toBe(T0);
    expect(floorTo(T0, MINUTE)).toBe(T0);
    expect(floorTo(-1, MINUTE)).toBe(-MINUTE);
  });
});
