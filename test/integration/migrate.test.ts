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
});
