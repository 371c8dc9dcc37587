/**
 * /anomalies finds rare rows among many: with a threshold of 5 minutes or more it must read the
 * partial index of migration 00010, not walk the window's rows. Only a plan made with the
 * threshold's value can use that index, so the test reads the plans of the service's own calls
 * (auto_explain) after enough calls that a prepared statement would have gone generic.
 */
import postgres from 'postgres';
import { HOUR_US, MINUTE_US, openClosed } from '../../src/aggregate/window.js';
import { storeActuals } from '../../src/store/actuals.js';
import { storePredictions } from '../../src/store/predictions.js';
import { anomalies, decodeCursor } from '../../src/store/read-predictions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
const STORED = 6_000;
/** One prediction in 301 (of either version) is off by 6, 7, 8 or 9 minutes, the rest by less than half a minute. */
const isAnomaly = (i: number) => i % 301 === 0;
const errorOf = (i: number) => (isAnomaly(i) ? 6 + ((i / 301) % 4) : (i % 10) / 20);

describe('GET /anomalies reads the anomaly index', () => {
  let db: TestDatabase;
  const nowUs = Date.now() * 1000;
  const range = openClosed(nowUs - 24 * HOUR_US, nowUs);

  beforeAll(async () => {
    db = await createTestDatabase();
    const bookings = Array.from({ length: STORED }, (_, i) => 900_000 + i);
    // Actuals first: each prediction is labelled as it is stored.
    await storeActuals(db.sql, bookings.map((booking_id, i) => ({ booking_id, actual_delay_minutes: 4 + errorOf(i) })), rules);
    await storePredictions(
      db.sql,
      bookings.map((booking_id, i) => ({
        booking_id,
        predicted_delay_minutes: 4,
        confidence: 0.8,
        risk_level: 'low',
        model_version: i % 2 ? 'a' : 'b',
        created_at: new Date((nowUs - MINUTE_US - i * 13_000_000) / 1000).toISOString(),
      })),
      rules,
    );
    await db.sql`analyze ml_prediction`;
  }, 60_000);
  afterAll(() => db.drop());

  async function plansOf(read: (session: postgres.Sql) => Promise<unknown>): Promise<string[]> {
    const plans: string[] = [];
    const session = postgres(db.url, { max: 1, onnotice: (notice) => plans.push(String(notice.message)), connection: { TimeZone: 'UTC' } });
    try {
      await session.unsafe(`load 'auto_explain'`);
      await session.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_level = notice`);
      for (let i = 0; i < 8; i++) await read(session); // past the 5 custom plans of a prepared statement
      return plans.filter((plan) => plan.includes('prediction_error >'));
    } finally {
      await session.end({ timeout: 5 });
    }
  }

  it('finds them through the index for thresholds of 5 minutes and more, for the fleet and per version', async () => {
    const indexes = (await db.sql<{ name: string }[]>`
      select indexname as name from pg_indexes where indexdef like '%WHERE (prediction_error > %'`).map((row) => row.name);
    expect(indexes.length).toBeGreaterThan(1); // the parent's and each partition's
    const usesIndex = (plan: string) => indexes.some((name) => plan.includes(`using ${name} `));

    for (const [thresholdMinutes, modelVersion] of [[5, undefined], [7.5, undefined], [5, 'a']] as const) {
      const found = await anomalies(db.sql, { range, thresholdMinutes, limit: 1000, modelVersion });
      const expected = Array.from({ length: STORED }, (_, i) => i).filter((i) => isAnomaly(i) && errorOf(i) > thresholdMinutes && (!modelVersion || (i % 2 ? 'a' : 'b') === modelVersion));
      expect(expected.length).toBeGreaterThan(2);
      expect(found.predictions.map((p) => p.booking_id)).toEqual(expected.map((i) => 900_000 + i));
      expect(found.nextCursor).toBeNull();

      // the same, in a first page of 2 and the rest after its cursor
      const first = await anomalies(db.sql, { range, thresholdMinutes, limit: 2, modelVersion });
      const after = decodeCursor(first.nextCursor!)!;
      const rest = await anomalies(db.sql, { range, thresholdMinutes, limit: 1000, after, modelVersion });
      expect([...first.predictions, ...rest.predictions].map((p) => p.booking_id)).toEqual(expected.map((i) => 900_000 + i));

      for (const page of [undefined, after]) {
        const plans = await plansOf((session) => anomalies(session, { range, thresholdMinutes, limit: 1000, after: page, modelVersion }));
        expect(plans).toHaveLength(8);
        expect(plans.filter((plan) => !usesIndex(plan))).toEqual([]);
      }
    }
  });

  it('answers exactly for a threshold under the index\'s, which it cannot use', async () => {
    // Errors are 0, 0.05, ..., 0.45 minutes, or 6 to 9 for the anomalies.
    const found = await anomalies(db.sql, { range, thresholdMinutes: 0.42, limit: 10_000 });
    const expected = Array.from({ length: STORED }, (_, i) => i).filter((i) => isAnomaly(i) || i % 10 === 9);
    expect(found.predictions.map((p) => p.booking_id)).toEqual(expected.map((i) => 900_000 + i));
  });
});
