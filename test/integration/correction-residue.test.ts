/**
 * A correction that leaves a bucket's actuals constant must leave R² undefined (null), as the
 * two-pass reference over the rows says: the rollup's M2 residue of the correction is not spread.
 */
import { storeActuals } from '../../src/store/actuals.js';
import { storePredictions } from '../../src/store/predictions.js';
import { ROLLUP_TIERS } from '../../src/store/rollup.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { twoPass, type RawPrediction } from '../support/reference.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

it('R² is null when a correction leaves every actual of the window equal', async () => {
  // Two predictions inside one whole minute half an hour ago: the window reads that minute's rollup row.
  const minuteMs = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000;
  const created_at = new Date(minuteMs + 10_000).toISOString();
  const base = { predicted_delay_minutes: 10, confidence: 0.5, risk_level: 'low', model_version: 'r2-residue', created_at };
  expect((await t.post(`${API}/predictions`, [{ ...base, booking_id: 1 }, { ...base, booking_id: 2 }])).statusCode).toBe(201);
  expect((await t.post(`${API}/actuals`, [{ booking_id: 1, actual_delay_minutes: 7.3 }, { booking_id: 2, actual_delay_minutes: 1234.5 }])).statusCode).toBe(200);
  // A typo corrected: now both actuals are 7.3.
  expect((await t.post(`${API}/actuals`, { booking_id: 2, actual_delay_minutes: 7.3 })).statusCode).toBe(200);

  const rows: RawPrediction[] = [1, 2].map((bookingId) => ({
    bookingId, createdUs: (minuteMs + 10_000) * 1000, modelVersion: 'r2-residue', predicted: 10, confidence: 0.5, latencyMs: null, actual: 7.3,
  }));
  const expected = twoPass(rows, t.rules);
  const got = (await t.get(`${API}/metrics?hours=1&model_version=r2-residue`)).json();
  const [rollup] = await t.db.sql`select labelled::int, actual_mean, actual_m2 from ml_rollup_minute where model_version = 'r2-residue'`;
  expect(expected.r2).toBeNull();
  expect(got.r2).toBeNull();
  // the correction's subtraction left no residue: the row is what the two equal actuals give
  expect(rollup).toEqual({ labelled: 2, actual_mean: 7.3, actual_m2: 0 });
});

it('a correction after a tolerance change leaves the accurate count as the rows\' stored labels say', async () => {
  // Labelled under a 3-minute tolerance (error 2: accurate), corrected under a 1-minute one (error 0.5:
  // accurate). Taking the old label out by today's rule would not subtract its "accurate", counting 2.
  const minuteMs = Math.floor((Date.now() - 40 * 60_000) / 60_000) * 60_000;
  const created_at = new Date(minuteMs + 5_000).toISOString();
  await storePredictions(t.db.sql, [{ booking_id: 11, predicted_delay_minutes: 10, confidence: 0.5, risk_level: 'low', model_version: 'rules', created_at }], t.rules);
  await storeActuals(t.db.sql, [{ booking_id: 11, actual_delay_minutes: 12 }], { ...t.rules, accuracyToleranceMinutes: 3 });
  await storeActuals(t.db.sql, [{ booking_id: 11, actual_delay_minutes: 10.5 }], { ...t.rules, accuracyToleranceMinutes: 1 });
  for (const tier of ROLLUP_TIERS) {
    const [row] = await t.db.sql.unsafe(`select labelled::int, accurate::int from ${tier.table} where model_version = 'rules'`);
    expect([tier.table, row]).toEqual([tier.table, { labelled: 1, accurate: 1 }]);
  }
});
