import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import shift from 'postgres-shift';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { migrate } from '../../src/db/migrate.js';
import { ensurePartitions } from '../../src/store/partitions.js';
import { storePredictions } from '../../src/store/predictions.js';
import { storeActuals } from '../../src/store/actuals.js';
import { readPieces } from '../../src/store/read-window.js';
import { ROLLUP_TIERS } from '../../src/store/rollup.js';
import { mergeAll } from '../../src/aggregate/moments.js';
import { metricsOf } from '../../src/aggregate/metrics.js';
import { tierMismatches } from '../support/rollup-reference.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));
const BEFORE_SIGNED_SUM = 10;

/** Applies the migrations up to `last` only, from a folder of links to them. */
async function migrateUpTo(db: TestDatabase, last: number): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'mlmon-migrations-'));
  try {
    for (const name of readdirSync(MIGRATIONS).filter((f) => /^\d+_/.test(f) && Number(f.split('_')[0]) <= last)) {
      symlinkSync(join(MIGRATIONS, name), join(folder, name));
    }
    await shift({ sql: db.sql, path: folder });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const us = (iso: string) => Date.parse(iso) * 1000;

/**
 * Migration 00011 on a database that already holds predictions: buckets whose raw rows are all
 * there get their signed sum from them; buckets whose raw rows retention dropped cannot, and read
 * as an unknown bias instead of a wrong one.
 */
describe('migration 00011: the signed error sum of existing rollups', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(undefined, { migrated: false });
    await migrateUpTo(db, BEFORE_SIGNED_SUM);
    const kept = ['2026-03-10T10:00:10Z', '2026-03-10T10:00:50Z', '2026-03-10T11:30:00Z', '2026-03-10T11:31:00Z'];
    const dropped = ['2025-01-05T08:00:00Z', '2025-01-05T09:00:00Z'];
    await ensurePartitions(db.sql, [...kept, ...dropped]);
    // v1: kept, labelled (over, under, over the actual) and one unlabelled. v2: dropped, labelled.
    // v3: dropped, never labelled. v4: kept, but one of the two labelled rows of its first minute
    // deleted by hand; its second minute (same hour) intact.
    await db.sql`
      insert into ml_prediction (booking_id, predicted_delay_minutes, confidence, risk_level, model_version,
                                 actual_delay_minutes, prediction_error, is_accurate, created_at)
      select booking, predicted, 0.5, 'low', version, actual, abs(predicted - actual), abs(predicted - actual) < 3, created_at::timestamptz
      from (values (1, 10.0, 8.0, 'v1', ${kept[0]!}), (2, 6.5, 8.0, 'v1', ${kept[1]!}), (3, 9.0, 8.0, 'v1', ${kept[2]!}),
                   (4, 7.0, null, 'v1', ${kept[3]!}), (5, 4.0, 9.0, 'v2', ${dropped[0]!}), (6, 3.0, null, 'v3', ${dropped[1]!}),
                   (7, 5.0, 6.0, 'v4', ${kept[0]!}), (8, 5.0, 7.0, 'v4', ${kept[0]!}), (9, 4.0, 3.0, 'v4', '2026-03-10T10:05:00Z'))
        as v(booking, predicted, actual, version, created_at)`;
    for (const { table, stepUs } of ROLLUP_TIERS) {
      await db.sql.unsafe(`
        insert into ${table} (bucket, model_version, predictions, confidence_sum, latency_count, latency_sum_ms, labelled,
                              accurate, anomalies, error_abs_sum, error_sq_sum, actual_mean, actual_m2)
        select date_bin('${stepUs / 1e6} seconds', created_at, timestamptz '1970-01-01 00:00:00+00'), model_version, count(*), sum(confidence),
               0, 0, count(actual_delay_minutes), count(*) filter (where is_accurate), count(*) filter (where prediction_error > 5),
               coalesce(sum(prediction_error), 0), coalesce(sum(prediction_error ^ 2), 0), coalesce(avg(actual_delay_minutes), 0),
               coalesce(var_pop(actual_delay_minutes) * count(actual_delay_minutes), 0)
        from ml_prediction group by 1, 2`);
    }
    // What MLMON_RETENTION_DAYS does to a month: its raw rows go, its rollups stay.
    await db.sql`delete from ml_prediction where created_at < '2026-01-01' or booking_id = 8`;
    await migrate(db.url);
  });
  afterAll(() => db.drop());

  it('sums predicted - actual of the raw rows still stored, in every tier', async () => {
    for (const tier of ROLLUP_TIERS) expect(await tierMismatches(db, tier, 'v1')).toEqual([]);
    const [day] = await db.sql<{ error_sum: number }[]>`select error_sum from ml_rollup_day where model_version = 'v1'`;
    expect(day!.error_sum).toBeCloseTo(2 - 1.5 + 1, 12);
  });

  it('leaves the sum unknown where labelled raw rows are gone, and 0 where none was labelled', async () => {
    for (const { table } of ROLLUP_TIERS) {
      const rows = await db.sql.unsafe<{ model_version: string; error_sum: number | null }[]>(
        `select model_version, error_sum from ${table} where model_version in ('v2', 'v3', 'v4') order by model_version, bucket`,
      );
      expect(rows).toEqual([
        { model_version: 'v2', error_sum: null },
        { model_version: 'v3', error_sum: 0 },
        { model_version: 'v4', error_sum: null },
        // v4's second minute is known; every coarser bucket holds both minutes.
        ...(table === 'ml_rollup_minute' ? [{ model_version: 'v4', error_sum: 1 }] : []),
      ]);
    }
  });

  it('reads a bias where every part is known, and none for a window that reaches the unknown part', async () => {
    const biasOf = async (from: string, to: string) => {
      const pieces = await readPieces(db.sql, { boundaries: [us(from), us(to)], modelVersions: ['v1', 'v2'], anomalyThresholdMinutes: 5, combineVersionsAs: 'all' });
      return metricsOf(mergeAll(pieces.map((p) => p.aggregate)));
    };
    const recent = await biasOf('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(recent.bias).toBeCloseTo(1.5 / 3, 12);
    const both = await biasOf('2024-12-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(both.count).toBe(4);
    expect(both.bias).toBeNull();
    expect(both.mae).toBeCloseTo((2 + 1.5 + 1 + 5) / 4, 12);
  });

  it('keeps an unknown sum unknown through later writes, labels and corrections into its bucket', async () => {
    const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
    const at = '2026-03-10T10:00:30Z';
    const expectUnknown = async (step: string, labelled: number) => {
      for (const { table } of ROLLUP_TIERS) {
        const rows = await db.sql.unsafe<{ labelled: number; error_sum: number | null }[]>(
          `select labelled::int, error_sum from ${table} where model_version = 'v4' and bucket <= $1 order by bucket desc limit 1`,
          [at],
        );
        // The minute was 2 labelled rows, one of them deleted; the coarser buckets hold 10:05's too.
        expect([step, table, rows]).toEqual([step, table, [{ labelled: labelled + (table === 'ml_rollup_minute' ? 0 : 1), error_sum: null }]]);
      }
    };
    await storePredictions(db.sql, [{ booking_id: 10, predicted_delay_minutes: 6, confidence: 0.5, risk_level: 'low', model_version: 'v4', created_at: at }], rules);
    await expectUnknown('prediction', 2);
    await storeActuals(db.sql, [{ booking_id: 10, actual_delay_minutes: 5 }], rules);
    await expectUnknown('actual', 3);
    // A correction recomputes the bucket from its raw rows, which lack the deleted one.
    await storeActuals(db.sql, [{ booking_id: 10, actual_delay_minutes: 4 }], rules);
    await expectUnknown('correction', 3);
  });
});
