import { ROLLUP_TIERS } from '../../src/store/rollup.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';

interface TierRow {
  tier: string;
  bucket: Date;
  model_version: string;
  predictions: number;
  labelled: number;
  accurate: number;
  error_sq_sum: number;
  actual_mean: number;
  actual_m2: number;
}

/** Every coarser tier must always equal the minute tier summed per its bucket: the same deltas feed all. */
describe('rollup tiers agree', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('after predictions over several hours, actuals in any order and corrections', async () => {
    // At most 3 h after UTC midnight, so that the rows (up to ~6.6 h before it) cross a day
    // boundary whatever the time of day: the day tier then has several buckets per version.
    const startOfDay = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const now = Math.min(Date.now(), startOfDay + 3 * 3_600_000);
    const predictions = Array.from({ length: 300 }, (_, i) => ({
      booking_id: 50_000 + i,
      predicted_delay_minutes: 5 + (i % 13) / 3,
      confidence: 0.5 + (i % 5) / 10,
      risk_level: 'medium',
      model_version: i % 3 === 0 ? 'tier-a' : 'tier-b',
      prediction_time_ms: 40 + (i % 50),
      created_at: new Date(now - (i % 7) * 3_600_000 - (i % 3) * 86_400_000 - i * 7_000).toISOString(),
    }));
    await t.post(`${API}/actuals`, predictions.slice(0, 40).map((p, i) => ({ booking_id: p.booking_id, actual_delay_minutes: 500 + i / 100 })));
    expect((await t.post(`${API}/predictions`, predictions)).statusCode).toBe(201);
    await t.post(`${API}/actuals`, predictions.map((p, i) => ({ booking_id: p.booking_id, actual_delay_minutes: 500 + (i % 17) / 10 })));
    await t.post(`${API}/actuals`, predictions.slice(100, 160).map((p) => ({ booking_id: p.booking_id, actual_delay_minutes: 499.5 })));

    const [minute, ...coarser] = ROLLUP_TIERS;
    let compared = 0;
    for (const tier of coarser) {
      const rows = await t.db.sql<TierRow[]>`
        with minutes as (
          select date_bin(${`${tier.stepUs / 1_000_000} seconds`}::interval, bucket, timestamptz '1970-01-01 00:00:00+00') as bucket_of_tier, m.*
          from ${t.db.sql(minute.table)} m
        ),
        centre as (select bucket_of_tier, model_version, sum(labelled * actual_mean) / nullif(sum(labelled), 0) as mean from minutes group by 1, 2)
        select 'minute' as tier, m.bucket_of_tier as bucket, m.model_version, sum(predictions)::float8 as predictions, sum(labelled)::float8 as labelled,
               sum(accurate)::float8 as accurate, sum(error_sq_sum) as error_sq_sum, coalesce(c.mean, 0) as actual_mean,
               sum(actual_m2 + labelled * (actual_mean - coalesce(c.mean, 0)) ^ 2) as actual_m2
        from minutes m join centre c using (bucket_of_tier, model_version) group by m.bucket_of_tier, m.model_version, c.mean
        union all
        select 'coarse', bucket, model_version, predictions::float8, labelled::float8, accurate::float8, error_sq_sum, actual_mean, actual_m2
        from ${t.db.sql(tier.table)}
        order by bucket, model_version, tier`;
      const byKey = new Map<string, TierRow[]>();
      for (const row of rows) {
        const key = `${tier.table} ${row.bucket.toISOString()} ${row.model_version}`;
        byKey.set(key, [...(byKey.get(key) ?? []), row]);
      }
      expect(byKey.size).toBeGreaterThan(tier.stepUs >= 86_400_000_000 ? 4 : 7);
      for (const [key, pair] of byKey) {
        expect({ key, tiers: pair.map((r) => r.tier) }).toEqual({ key, tiers: ['coarse', 'minute'] });
        const [coarse, summed] = pair as [TierRow, TierRow];
        expect({ key, predictions: coarse.predictions, labelled: coarse.labelled, accurate: coarse.accurate }).toEqual({
          key,
          predictions: summed.predictions,
          labelled: summed.labelled,
          accurate: summed.accurate,
        });
        expect(coarse.error_sq_sum).toBeCloseTo(summed.error_sq_sum, 6);
        expect(coarse.actual_mean).toBeCloseTo(summed.actual_mean, 9);
        expect(Math.abs(coarse.actual_m2 - summed.actual_m2)).toBeLessThanOrEqual(1e-9 * Math.max(1, summed.actual_m2));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });
});
