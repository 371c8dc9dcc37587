import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { migrate } from '../../src/db/migrate.js';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('creates the seed table with every column', async () => {
    const columns = await db.sql<{ column_name: string }[]>`
      select column_name from information_schema.columns where table_name = 'ml_prediction'`;
    expect(columns.map((c) => c.column_name).sort()).toEqual(
      [
        'id', 'booking_id', 'driver_id', 'request_id', 'predicted_delay_minutes', 'confidence', 'risk_level',
        'contributing_factors', 'model_version', 'prediction_time_ms', 'feature_flag_enabled', 'traffic_percentage',
        'actual_delay_minutes', 'actual_pickup_at', 'actual_dropoff_at', 'prediction_error', 'is_accurate',
        'created_at', 'updated_at',
      ].sort(),
    );
  });

  it('is safe when several replicas migrate an empty database at once', async () => {
    // An empty database: on a migrated one every run would have nothing to do, lock or no lock.
    const empty = await createTestDatabase(undefined, { migrated: false });
    try {
      await Promise.all([migrate(empty.url), migrate(empty.url), migrate(empty.url)]);
      const applied = await empty.sql`select migration_id from migrations order by migration_id`;
      // every migration folder applied exactly once, in order
      const folders = readdirSync(fileURLToPath(new URL('../../migrations', import.meta.url))).filter((f) => /^\d+_/.test(f)).sort();
      expect(applied.map((m) => m.migration_id)).toEqual(folders.map((f) => Number(f.split('_')[0])));
    } finally {
      await empty.drop();
    }
  });

  // (request_id uniqueness is tested by behaviour in ingest-semantics.test.ts, not by index shape)
  it('has the seed\'s indexes: booking_id, created_at, (created_at, actual_delay_minutes)', async () => {
    const indexes = await db.sql<{ indexdef: string }[]>`select indexdef from pg_indexes where tablename = 'ml_prediction'`;
    const defs = indexes.map((i) => i.indexdef.replace(/\s+/g, ' '));
    expect(defs).toEqual(expect.arrayContaining([expect.stringMatching(/\(booking_id\)/), expect.stringMatching(/\(created_at, actual_delay_minutes\)/)]));
    expect(defs.some((d) => /\(created_at( DESC)?[,)]/.test(d))).toBe(true);
  });

  it('a second run on an up-to-date database changes nothing', async () => {
    const before = await db.sql`select migration_id, name from migrations order by migration_id`;
    await migrate(db.url);
    expect(await db.sql`select migration_id, name from migrations order by migration_id`).toEqual(before);
  });
});
