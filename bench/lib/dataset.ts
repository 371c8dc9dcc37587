/**
 * Fast loading of a stored history, generated inside PostgreSQL (generate_series, no client round
 * trips): raw predictions, the actuals table, and every rollup tier computed from the rows
 * exactly as the service's write path would have maintained it (same columns, same Chan moments),
 * so the service reads a state it could have written itself. Secondary indexes are dropped during
 * large loads and rebuilt from their own definitions afterwards.
 */
import type postgres from 'postgres';

/** Rollup tables a commit may have, with their bucket width in seconds. */
const ROLLUP_TABLES = [['ml_rollup_minute', 60], ['ml_rollup_10min', 600], ['ml_rollup_hour', 3600], ['ml_rollup_day', 86400]] as const;

type Sql = postgres.Sql;

export interface DatasetOptions {
  rows: number;
  /**
   * The history spans (anchor - spanDays, anchor], uniformly, stored in the order it was created
   * (row i at the i-th slot of the span, jittered within it), as a live service appends it: a
   * window's edge rows then share heap pages, as they do in production.
   */
  spanDays: number;
  /** Share of predictions (older than 1 h) that have an actual. */
  labelledShare?: number;
  /** The anomaly threshold of the service under test (MLMON_ANOMALY_THRESHOLD_MINUTES). */
  anomalyThresholdMinutes?: number;
  accuracyToleranceMinutes?: number;
  log?: (line: string) => void;
}

export interface LoadTimings {
  rows: number;
  /** `vacuum`: VACUUM (ANALYZE) of every table, then a CHECKPOINT. */
  seconds: { predictions: number; indexes: number; actuals: number; rollup: number; vacuum: number; total: number };
  rowsPerSecond: number;
  rollupRows: number;
  tableMb: number;
}

const CHUNK = 500_000;
/** Chunks inserted at once, on as many connections (the database does the work: use its cores). */
const PARALLEL = 2;
/**
 * Contributing factors as clients send them; a fixed set, so that generating them costs nothing.
 * They travel as text[] and are cast per row: as jsonb[], postgres.js would send each as a JSON
 * string, and /anomalies could not answer with rows that no client can store.
 */
const FACTORS = Array.from({ length: 16 }, (_, k) =>
  JSON.stringify({ distance_x_weather: Math.round(((k * 37) % 100) * 10) / 1000, traffic_density: Math.round(((k * 53) % 100) * 10) / 1000 }),
);
const DROP_INDEXES_ABOVE = 100_000;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export async function loadDataset(sql: Sql, options: DatasetOptions): Promise<LoadTimings> {
  const { rows, spanDays, labelledShare = 0.7, anomalyThresholdMinutes = 5, accuracyToleranceMinutes = 3, log = () => {} } = options;
  const [{ existing } = { existing: 0 }] = await sql<{ existing: number }[]>`select count(*)::int as existing from ml_prediction`;
  if (existing > 0) throw new Error('loadDataset needs an empty ml_prediction (a fresh database)');
  const [{ anchor } = { anchor: '' }] = await sql<{ anchor: string }[]>`select now()::text as anchor`;
  const started = process.hrtime.bigint();

  return sql.reserve().then(async (db) => {
    try {
      await db`set synchronous_commit = off`;
      await db`set maintenance_work_mem = '512MB'`;
      await db`set work_mem = '256MB'`;
      const indexes =
        rows > DROP_INDEXES_ABOVE
          ? await db<{ name: string; definition: string }[]>`
              select i.indexname as name, i.indexdef as definition from pg_indexes i
              where i.tablename = 'ml_prediction' and i.indexname not in (
                select conname from pg_constraint where conrelid = 'ml_prediction'::regclass and contype = 'p')`
          : [];
      for (const index of indexes) await db.unsafe(`drop index ${index.name}`);
      // From migration 00002 on, raw predictions are partitioned by month: create the months the history covers.
      const [{ partitioned } = { partitioned: false }] = await db<{ partitioned: boolean }[]>`
        select to_regproc('mlmon_ensure_month_partition') is not null as partitioned`;
      if (partitioned) {
        await db`
          select mlmon_ensure_month_partition(m)
          from generate_series(date_trunc('month', (${anchor}::timestamptz - ${spanDays}::float8 * interval '1 day') at time zone 'UTC') at time zone 'UTC',
                               ${anchor}::timestamptz, interval '1 month') as m`;
      }
      const [{ requestIds } = { requestIds: false }] = await db<{ requestIds: boolean }[]>`
        select to_regclass('ml_request_id') is not null as "requestIds"`;

      const t = process.hrtime.bigint();
      const chunks: [number, number][] = [];
      for (let first = 1; first <= rows; first += CHUNK) chunks.push([first, Math.min(rows, first + CHUNK - 1)]);
      let loaded = 0;
      const worker = async () => {
        const conn = await sql.reserve();
        try {
          await conn`set synchronous_commit = off`;
          for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
            const [first, last] = chunk;
            await conn`
              insert into ml_prediction (
                booking_id, driver_id, request_id, predicted_delay_minutes, confidence, risk_level,
                contributing_factors, model_version, prediction_time_ms, feature_flag_enabled, traffic_percentage,
                actual_delay_minutes, actual_pickup_at, actual_dropoff_at, prediction_error, is_accurate,
                created_at, updated_at)
              select 1000000000 + i, i % 5000, 'load-' || i, pred, conf,
                     case when pred >= 8 then 'high' when pred >= 4 then 'medium' else 'low' end,
                     ((${FACTORS}::text[])[1 + (i % ${FACTORS.length})])::jsonb,
                     case when r5 < 0.6 then 'v3' when r5 < 0.9 then 'v2' else 'v1' end,
                     case when r6 < 0.95 then 50 + 150 * r6 end,
                     true, 25,
                     act,
                     created + (10 + act) * interval '1 minute',
                     created + (30 + act) * interval '1 minute',
                     abs(pred - act), abs(pred - act) < ${accuracyToleranceMinutes}::float8,
                     created, coalesce(created + (40 + act) * interval '1 minute', created)
              from (
                select i, created, pred, conf, r5, r6,
                       case when created < ${anchor}::timestamptz - interval '1 hour' and r7 < ${labelledShare}::float8
                            then pred + (r8 + r9 + r10 - 1.5) * 4 end as act
                from (
                  select i, ${anchor}::timestamptz - ${spanDays}::float8 * interval '1 day' * ((${rows}::float8 - i + random()) / ${rows}::float8) as created,
                         2 + 10 * random() as pred, 0.5 + 0.5 * random() as conf,
                         random() as r5, random() as r6, random() as r7,
                         random() as r8, random() as r9, random() as r10
                  from generate_series(${first}::bigint, ${last}::bigint) as i
                ) g
              ) s`;
            loaded += last - first + 1;
            if (rows > CHUNK) log(`  loaded ${loaded.toLocaleString('en')} / ${rows.toLocaleString('en')} predictions`);
          }
        } finally {
          conn.release();
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, chunks.length) }, worker));
      const predictionsSeconds = seconds(t);

      // The rest reads the loaded rows; independent steps run side by side, each on its own connection.
      const timed = async (fn: (tx: postgres.TransactionSql) => Promise<unknown>) => {
        const t0 = process.hrtime.bigint();
        await sql.begin(async (tx) => {
          await tx`set local synchronous_commit = off`;
          await tx`set local maintenance_work_mem = '256MB'`;
          await tx`set local work_mem = '256MB'`;
          await fn(tx);
        });
        return seconds(t0);
      };
      const indexStart = process.hrtime.bigint();
      // pg_indexes shows an index of a partitioned table as "ON ONLY" (the parent alone): build it on every partition.
      await Promise.all(indexes.map((index) => timed((tx) => tx.unsafe(index.definition.replace(' ON ONLY ', ' ON ')))));
      const indexSeconds = seconds(indexStart);
      const [{ invalid } = { invalid: 0 }] = await db<{ invalid: number }[]>`
        select count(*)::int as invalid from pg_index i join pg_class c on c.oid = i.indrelid
        where c.relname like 'ml\_prediction%' and not i.indisvalid`;
      if (invalid > 0) throw new Error(`${invalid} invalid indexes on ml_prediction after loading`);
      const partialIndexes = await db<{ name: string }[]>`
        select c.relname as name from pg_inherits h join pg_class c on c.oid = h.inhrelid
        where h.inhparent = 'ml_prediction'::regclass
          and (select count(*) from pg_index where indrelid = c.oid) <> (select count(*) from pg_index where indrelid = 'ml_prediction'::regclass)`;
      if (partialIndexes.length > 0) throw new Error(`partitions without every index of ml_prediction: ${partialIndexes.map((p) => p.name).join(', ')}`);

      const [rollupSeconds, actualsSeconds] = (await Promise.all([
        // The idempotency keys, in their own table from migration 00002 on.
        ...(requestIds
          ? [timed((tx) => tx`insert into ml_request_id (request_id, created_at) select request_id, created_at from ml_prediction where request_id is not null`)]
          : []),
        timed(
          (tx) => tx`
            insert into ml_actual (booking_id, actual_delay_minutes, actual_pickup_at, actual_dropoff_at, received_at, updated_at)
            select booking_id, actual_delay_minutes, actual_pickup_at, actual_dropoff_at, actual_dropoff_at, actual_dropoff_at
            from ml_prediction where actual_delay_minutes is not null`,
        ),
        // Every rollup tier the commit under test has (hour from migration 00003 on, 10-minute and
        // day from 00006 on; the signed error sum from 00011 on): the same aggregates per
        // epoch-aligned bucket.
        timed(async (tx) => {
          const [{ signed }] = await tx<[{ signed: boolean }]>`
            select exists (select 1 from information_schema.columns where table_name = 'ml_rollup_minute' and column_name = 'error_sum') as signed`;
          for (const [table, seconds] of ROLLUP_TABLES) {
            const [{ present }] = await tx<[{ present: boolean }]>`select to_regclass(${table}) is not null as present`;
            if (!present) continue;
            await tx`
              insert into ${tx(table)} (
                bucket, model_version, predictions, confidence_sum, latency_count, latency_sum_ms, labelled,
                accurate, anomalies, error_abs_sum, error_sq_sum, actual_mean, actual_m2 ${signed ? tx`, error_sum` : tx``})
              select date_bin(make_interval(secs => ${seconds}), created_at, timestamptz '1970-01-01 00:00:00+00'), model_version, count(*), sum(confidence),
                     count(prediction_time_ms), coalesce(sum(prediction_time_ms), 0), count(actual_delay_minutes),
                     count(*) filter (where is_accurate), count(*) filter (where prediction_error > ${anomalyThresholdMinutes}::float8),
                     coalesce(sum(prediction_error), 0), coalesce(sum(prediction_error ^ 2), 0),
                     coalesce(avg(actual_delay_minutes), 0),
                     coalesce(var_pop(actual_delay_minutes) * count(actual_delay_minutes), 0)
                     ${signed ? tx`, coalesce(sum(predicted_delay_minutes - actual_delay_minutes), 0)` : tx``}
              from ml_prediction group by 1, 2`;
          }
        }),
      ])).reverse() as [number, number];

      const vacuumStart = process.hrtime.bigint();
      const tiers = await db<{ name: string }[]>`select t as name from unnest(${ROLLUP_TABLES.map(([table]) => table)}::text[]) as t where to_regclass(t) is not null`;
      const tables = ['ml_prediction', 'ml_actual', ...tiers.map((t) => t.name), ...(requestIds ? ['ml_request_id'] : [])];
      await Promise.all(tables.map((table) => sql.unsafe(`vacuum (analyze) ${table}`)));
      // The reads are timed on a settled database: without this, the checkpoint that the load's
      // WAL triggers writes the loaded pages out while the first reads are timed.
      await sql`checkpoint`.catch((error: { code?: string }) => {
        if (error.code !== '42501') throw error;
        log('  (no CHECKPOINT: the bench role may not run it; the load may still be written out during the reads)');
      });
      const vacuumSeconds = seconds(vacuumStart);

      const [stats] = await db<{ rollup_rows: number; table_mb: number }[]>`
        select (select count(*)::int from ml_rollup_minute) as rollup_rows,
               round((pg_total_relation_size('ml_prediction') + coalesce((
                 select sum(pg_total_relation_size(inhrelid)) from pg_inherits where inhparent = 'ml_prediction'::regclass), 0)) / 1048576.0)::int as table_mb`;
      const total = seconds(started);
      return {
        rows,
        seconds: { predictions: predictionsSeconds, indexes: indexSeconds, actuals: actualsSeconds, rollup: rollupSeconds, vacuum: vacuumSeconds, total },
        rowsPerSecond: rows / total,
        rollupRows: stats?.rollup_rows ?? 0,
        tableMb: stats?.table_mb ?? 0,
      };
    } finally {
      db.release();
    }
  });
}

/**
 * The old service's table (created by its SQLAlchemy model) filled with the very same rows as
 * ml_prediction, as naive UTC timestamps and JSON text, the way it stored them.
 */
export async function copyToSeedTable(sql: Sql): Promise<void> {
  await sql`
    insert into ml_prediction_seed (
      booking_id, driver_id, request_id, predicted_delay_minutes, confidence, risk_level, contributing_factors,
      model_version, prediction_time_ms, feature_flag_enabled, traffic_percentage, actual_delay_minutes,
      actual_pickup_at, actual_dropoff_at, prediction_error, is_accurate, created_at, updated_at)
    select booking_id, driver_id, request_id, predicted_delay_minutes, confidence, risk_level, contributing_factors::text,
           model_version, prediction_time_ms, feature_flag_enabled, traffic_percentage, actual_delay_minutes,
           actual_pickup_at at time zone 'UTC', actual_dropoff_at at time zone 'UTC', prediction_error, is_accurate,
           created_at at time zone 'UTC', updated_at at time zone 'UTC'
    from ml_prediction order by id`;
  await sql`vacuum (analyze) ml_prediction_seed`;
}
