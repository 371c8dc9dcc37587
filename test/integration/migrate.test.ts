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

  it('is safe when several replicas migrate at once', async () => {
    await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    const applied = await db.sql`select migration_id from migrations order by migration_id`;
    expect(applied.map((m) => m.migration_id)).toEqual([1]);
  });

  it('has the seed\'s indexes and a partial unique index on request_id (idempotency)', async () => {
    const indexes = await db.sql<{ indexdef: string }[]>`select indexdef from pg_indexes where tablename = 'ml_prediction'`;
    const defs = indexes.map((i) => i.indexdef.replace(/\s+/g, ' '));
    expect(defs).toEqual(expect.arrayContaining([expect.stringMatching(/\(booking_id\)/), expect.stringMatching(/\(created_at, actual_delay_minutes\)/)]));
    expect(defs.some((d) => /^CREATE UNIQUE INDEX .*\(request_id\) WHERE \(request_id IS NOT NULL\)/.test(d))).toBe(true);
    expect(defs.some((d) => /\(created_at( DESC)?[,)]/.test(d))).toBe(true);
  });

  it('enforces the seed\'s limits in the database too', async () => {
    const insert = (extra: string) =>
      db.sql.unsafe(`insert into ml_prediction (booking_id, predicted_delay_minutes, confidence, risk_level${extra ? ', ' + extra.split('=')[0] : ''})
        values (1, 1, 0.5, 'low'${extra ? ', ' + extra.split('=')[1] : ''})`);
    await expect(insert('confidence=1.5')).rejects.toThrow();
    await expect(insert("risk_level='" + 'x'.repeat(21) + "'")).rejects.toThrow();
    await expect(insert('traffic_percentage=101')).rejects.toThrow();
    await expect(insert("model_version='" + 'v'.repeat(51) + "'")).rejects.toThrow();
    await expect(insert('prediction_time_ms=-1')).rejects.toThrow();
    await db.sql`insert into ml_prediction (booking_id, predicted_delay_minutes, confidence, risk_level) values (1, 1, 0.5, 'low')`;
    const [row] = await db.sql`select model_version from ml_prediction`;
    expect(row!.model_version).toBe('unknown');
    await db.sql`delete from ml_prediction`;
  });

  it('a second run on an up-to-date database changes nothing', async () => {
    const before = await db.sql`select migration_id, name from migrations order by migration_id`;
    await migrate(db.url);
    expect(await db.sql`select migration_id, name from migrations order by migration_id`).toEqual(before);
  });
});
