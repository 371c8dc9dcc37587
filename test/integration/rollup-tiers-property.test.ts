/**
 * Every rollup tier against SQL over the raw rows, after random predictions at awkward instants
 * (before 1970, on minute/hour/day/month edges and 1 µs either side, in several months), actuals
 * before and after their predictions, and corrections; plus /metrics over random (from, to].
 */
import fc from 'fast-check';
import { ROLLUP_TIERS } from '../../src/store/rollup.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { isoFromMicros, metricsMismatches, twoPass, type RawPrediction } from '../support/reference.js';
import { tierMismatches } from '../support/rollup-reference.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const edges = [
  Date.UTC(1969, 11, 31, 23, 59), Date.UTC(1969, 11, 31), Date.UTC(1970, 0, 1), Date.UTC(1950, 5, 1),
  Date.UTC(2024, 1, 29, 23, 59), Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 31, 23), Date.UTC(2024, 3, 1),
].map((ms) => ms * 1000);
const instant = fc.tuple(fc.constantFrom(...edges), fc.constantFrom(-1, 0, 1, -60_000_000, 59_999_999, 3_600_000_000, 30_000_000)).map(([e, d]) => e + d);

it('tiers equal the raw rows; windows equal the reference', async () => {
  let version = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ at: instant, predicted: fc.integer({ min: -20, max: 40 }), booking: fc.integer({ min: 1, max: 12 }) }), { minLength: 1, maxLength: 15 }),
      fc.array(fc.record({ booking: fc.integer({ min: 1, max: 12 }), actual: fc.double({ min: -30, max: 60, noNaN: true }).map((x) => Math.round(x * 10) / 10), before: fc.boolean() }), { maxLength: 15 }),
      fc.tuple(fc.constantFrom(...edges), fc.constantFrom(-1, 0, 1, -3_600_000_001, 7_200_000_000)),
      async (preds, actuals, [edge, shift]) => {
        const v = `tv${version++}`;
        const offset = version * 100; // bookings of this case only
        const send = async (before: boolean) => {
          for (const a of actuals.filter((x) => x.before === before)) {
            const res = await t.post(`${API}/actuals`, { booking_id: a.booking + offset, actual_delay_minutes: a.actual });
            expect(res.statusCode).toBe(200);
          }
        };
        await send(true);
        const body = preds.map((p) => ({ booking_id: p.booking + offset, predicted_delay_minutes: p.predicted, confidence: 0.5, risk_level: 'low', model_version: v, created_at: isoFromMicros(p.at) }));
        expect((await t.post(`${API}/predictions`, body)).statusCode).toBe(201);
        await send(false);
        for (const tier of ROLLUP_TIERS) {
          const diff = await tierMismatches(t.db, tier, v);
          if (diff.length > 0) throw new Error(`${tier.table} ${v}: ${JSON.stringify(diff)}`);
        }
        // A window (from, to] around an edge.
        const from = edge + shift - 5_400_000_000;
        const to = edge + shift;
        const res = await t.get(`${API}/metrics?model_version=${v}&from=${isoFromMicros(from)}&to=${isoFromMicros(to)}`);
        expect(res.statusCode).toBe(200);
        // The booking's last actual in the order they were sent: those before the predictions first.
        const last = new Map<number, number>();
        for (const a of [...actuals.filter((x) => x.before), ...actuals.filter((x) => !x.before)]) last.set(a.booking, a.actual);
        const rows: RawPrediction[] = preds.map((p) => ({ bookingId: p.booking, createdUs: p.at, modelVersion: v, predicted: p.predicted, confidence: 0.5, latencyMs: null, actual: last.get(p.booking) ?? null }));
        const problems = metricsMismatches(res.json(), twoPass(rows.filter((r) => r.createdUs > from && r.createdUs <= to), t.rules), v, 1e-6);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      },
    ),
    { numRuns: 120 },
  );
}, 240_000);
