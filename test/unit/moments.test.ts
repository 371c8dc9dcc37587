import fc from 'fast-check';
import { EMPTY_AGGREGATE, merge, mergeAll, negate, type Aggregate } from '../../src/aggregate/moments.js';
import { metricsOf } from '../../src/aggregate/metrics.js';
import { closeTo, exactSum, relError, seededRandom } from '../support/reference.js';

/** A single labelled (or unlabelled) prediction as an aggregate, built by hand (not by the service). */
function leaf(predicted: number, actual: number | null, confidence = 0.5, latencyMs: number | null = 100): Aggregate {
  const error = actual === null ? 0 : Math.abs(predicted - actual);
  return {
    predictions: 1,
    confidenceSum: confidence,
    latencyCount: latencyMs === null ? 0 : 1,
    latencySumMs: latencyMs ?? 0,
    labelled: actual === null ? 0 : 1,
    accurate: actual !== null && error < 3 ? 1 : 0,
    anomalies: actual !== null && error > 5 ? 1 : 0,
    errorAbsSum: error,
    errorSqSum: error * error,
    actualMean: actual ?? 0,
    actualM2: 0,
    errorSum: actual === null ? 0 : predicted - actual,
  };
}

/** Mean and M2 of the actuals the slow way. */
function twoPassMoments(actuals: number[]): { n: number; mean: number; m2: number } {
  const n = actuals.length;
  if (n === 0) return { n: 0, mean: 0, m2: 0 };
  const mean = exactSum(actuals) / n;
  return { n, mean, m2: exactSum(actuals.map((a) => (a - mean) ** 2)) };
}

function twoPassR2(pairs: [number, number][]): number | null {
  if (pairs.length < 2) return null;
  const { m2 } = twoPassMoments(pairs.map(([, a]) => a));
  if (m2 === 0) return null;
  return 1 - exactSum(pairs.map(([p, a]) => (p - a) ** 2)) / m2;
}

/** Merges the leaves in a random tree shape (random split points, random order of halves). */
function mergeInRandomTree(leaves: Aggregate[], random: () => number): Aggregate {
  if (leaves.length === 0) return EMPTY_AGGREGATE;
  if (leaves.length === 1) return leaves[0]!;
  const cut = 1 + Math.floor(random() * (leaves.length - 1));
  const left = mergeInRandomTree(leaves.slice(0, cut), random);
  const right = mergeInRandomTree(leaves.slice(cut), random);
  return random() < 0.5 ? merge(left, right) : merge(right, left);
}

const delay = fc.double({ min: -120, max: 600, noNaN: true, noDefaultInfinity: true });
const pair = fc.tuple(delay, fc.option(delay, { nil: null }));

describe('Chan merge of aggregates (src/aggregate/moments.ts)', () => {
  it('EMPTY_AGGREGATE is a neutral element', () => {
    const a = mergeAll([leaf(1, 2), leaf(3, 7), leaf(4, null)]);
    expect(merge(a, EMPTY_AGGREGATE)).toEqual(a);
    expect(merge(EMPTY_AGGREGATE, a)).toEqual(a);
  });

  it('merging in any grouping and order equals the two-pass moments (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(pair, { minLength: 0, maxLength: 60 }), fc.integer(), (pairs, seed) => {
        runs++;
        const leaves = pairs.map(([p, a]) => leaf(p, a));
        const tree = mergeInRandomTree(leaves, seededRandom(seed));
        const labelledActuals = pairs.flatMap(([, a]) => (a === null ? [] : [a]));
        const expected = twoPassMoments(labelledActuals);
        expect(tree.predictions).toBe(pairs.length);
        expect(tree.labelled).toBe(expected.n);
        if (expected.n > 0) {
          expect(closeTo(tree.actualMean, expected.mean, 1e-9)).toBe(true);
          // M2 is a sum of squares of spreads up to ~720: compare to the scale of the data.
          expect(Math.abs(tree.actualM2 - expected.m2)).toBeLessThanOrEqual(1e-9 * Math.max(1, expected.m2, expected.n * expected.mean ** 2 * 1e-6));
        }
        const errors = pairs.flatMap(([p, a]) => (a === null ? [] : [Math.abs(p - a)]));
        expect(closeTo(tree.errorAbsSum, exactSum(errors), 1e-9)).toBe(true);
        expect(closeTo(tree.errorSqSum, exactSum(errors.map((e) => e * e)), 1e-9)).toBe(true);
        const signed = pairs.flatMap(([p, a]) => (a === null ? [] : [p - a]));
        expect(closeTo(tree.errorSum!, exactSum(signed), 1e-9)).toBe(true);
      }),
      { numRuns: 300 },
    );
    console.log(`merge grouping property: ${runs} cases`);
    expect(runs).toBeGreaterThanOrEqual(300);
  });

  it('negate is the inverse of merge: (a ⊕ b) ⊕ -b = a (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 30 }), fc.array(pair, { minLength: 1, maxLength: 30 }), (as, bs) => {
        runs++;
        const a = mergeAll(as.map(([p, x]) => leaf(p, x)));
        const b = mergeAll(bs.map(([p, x]) => leaf(p, x)));
        const back = merge(merge(a, b), negate(b));
        expect(back.predictions).toBe(a.predictions);
        expect(back.labelled).toBe(a.labelled);
        expect(back.accurate).toBe(a.accurate);
        expect(back.anomalies).toBe(a.anomalies);
        expect(back.latencyCount).toBe(a.latencyCount);
        const scale = 1 + Math.abs(a.errorSqSum) + Math.abs(b.errorSqSum);
        expect(Math.abs(back.errorSqSum - a.errorSqSum)).toBeLessThanOrEqual(1e-9 * scale);
        if (a.labelled > 0) {
          expect(Math.abs(back.actualMean - a.actualMean)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(a.actualMean) + Math.abs(b.actualMean)));
          const m2Scale = 1 + a.actualM2 + b.actualM2 + a.labelled * (a.actualMean - b.actualMean) ** 2;
          expect(Math.abs(back.actualM2 - a.actualM2)).toBeLessThanOrEqual(1e-9 * m2Scale);
        } else {
          expect(back.actualM2).toBeCloseTo(0, 9);
        }
      }),
      { numRuns: 300 },
    );
    console.log(`merge/negate inverse property: ${runs} cases`);
  });

  it('merging an aggregate with its own negation gives the empty aggregate', () => {
    const a = mergeAll([leaf(1, 2), leaf(3, 9), leaf(4, null, 0.9, null)]);
    const zero = merge(a, negate(a));
    expect(zero.predictions).toBe(0);
    expect(zero.labelled).toBe(0);
    expect(zero.actualMean).toBe(0);
    expect(zero.actualM2).toBe(0);
    expect(Math.abs(zero.errorSqSum)).toBeLessThan(1e-12);
  });

  it('negate takes every sum out, not only the counts: confidence, latency and errors of b are gone', () => {
    const a = mergeAll([leaf(1, 2, 0.2, 100), leaf(3, null, 0.4, 300)]);
    const b = mergeAll([leaf(10, 2, 0.9, 5000), leaf(4, 4, 1, null)]);
    const back = merge(merge(a, b), negate(b));
    expect(back.confidenceSum).toBeCloseTo(a.confidenceSum, 12);
    expect(back.latencySumMs).toBeCloseTo(a.latencySumMs, 9);
    expect(back.errorAbsSum).toBeCloseTo(a.errorAbsSum, 12);
    expect(back.errorSum).toBeCloseTo(a.errorSum!, 12);
    expect(metricsOf(back)).toEqual(metricsOf(a));
  });

  it('an unknown signed sum (null) stays unknown through merge and negate, whichever side has it', () => {
    const known = mergeAll([leaf(10, 8), leaf(5, 8)]);
    const unknown: Aggregate = { ...leaf(9, 8), errorSum: null };
    expect(merge(known, unknown).errorSum).toBeNull();
    expect(merge(unknown, known).errorSum).toBeNull();
    expect(negate(unknown).errorSum).toBeNull();
    expect(merge(merge(known, unknown), negate(known)).errorSum).toBeNull();
    expect(negate(known).errorSum).toBe(1);
  });
});

describe('R² stays exact for large actuals with a small spread (500 ± 0.5)', () => {
  const random = seededRandom(20240501);
  const pairs: [number, number][] = Array.from({ length: 2000 }, () => {
    const actual = 500 + (random() - 0.5);
    return [actual + (random() - 0.5) * 0.4, actual];
  });

  it('matches the two-pass R² to 1e-9 relative, merged in any grouping', () => {
    const expected = twoPassR2(pairs)!;
    expect(expected).toBeGreaterThan(0.3); // a meaningful R², not a degenerate one
    const leaves = pairs.map(([p, a]) => leaf(p, a));
    for (const seed of [1, 2, 3, 4, 5]) {
      const r2 = metricsOf(mergeInRandomTree(leaves, seededRandom(seed))).r2!;
      expect(relError(r2, expected)).toBeLessThan(1e-9);
    }
  });

  it('stays exact after corrections applied as remove (negate) + add', () => {
    const leaves = pairs.map(([p, a]) => leaf(p, a));
    let total = mergeAll(leaves);
    const corrected = pairs.map((x) => [...x] as [number, number]);
    for (let i = 0; i < 400; i++) {
      const k = Math.floor(random() * corrected.length);
      const [p, old] = corrected[k]!;
      const next = 500 + (random() - 0.5);
      total = merge(merge(total, negate(leaf(p, old))), leaf(p, next));
      corrected[k] = [p, next];
    }
    // And some removed outright (e.g. a bucket losing a prediction), some added.
    for (let i = 0; i < 100; i++) {
      const [p, a] = corrected.pop()!;
      total = merge(total, negate(leaf(p, a)));
    }
    const expected = twoPassR2(corrected)!;
    expect(total.labelled).toBe(corrected.length);
    expect(relError(metricsOf(total).r2!, expected)).toBeLessThan(1e-9);
  });
});
