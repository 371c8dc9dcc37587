import type { Sql } from '../db/connect.js';

/** Per database pool: months (UTC, "YYYY-MM") whose partition is known to exist. */
const knownMonthsOf = new WeakMap<Sql, Set<string>>();

function knownMonths(sql: Sql): Set<string> {
  let months = knownMonthsOf.get(sql);
  if (!months) knownMonthsOf.set(sql, (months = new Set()));
  return months;
}

const monthOf = (date: Date) => date.toISOString().slice(0, 7);

/** ml_prediction_pYYYYMM → the first instant of that month. */
function monthStartOf(partition: string): Date {
  return new Date(Date.UTC(Number(partition.slice(-6, -2)), Number(partition.slice(-2)) - 1, 1));
}

/** After a partition was dropped elsewhere (another replica's retention), check again. */
export function forgetKnownPartitions(sql: Sql): void {
  knownMonths(sql).clear();
}

function nextMonth(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
}

/**
 * Raw predictions live in one partition per month, created on first write (see migration 00002).
 * Rows stamped by the database (`now()`) may fall in this month or, at a month's edge, the next:
 * both are ensured. Known months cost nothing after the first write.
 */
export async function ensurePartitions(sql: Sql, createdAt: (string | null)[]): Promise<void> {
  const known = knownMonths(sql);
  const now = new Date();
  const months = new Set([monthOf(now), monthOf(nextMonth(now))]);
  for (const stamp of createdAt) if (stamp !== null) months.add(monthOf(new Date(stamp)));
  const missing = [...months].filter((month) => !known.has(month)).sort();
  if (missing.length === 0) return;
  await sql`select mlmon_ensure_month_partition((m || '-01T00:00:00Z')::timestamptz) from unnest(${missing}::text[]) as m`;
  for (const month of missing) known.add(month);
}

export interface RetentionResult {
  droppedPartitions: string[];
  forgottenRequestIds: number;
  forgottenActuals: number;
  /** Minutes of reported failures: only the last 24 h are read (/summary), so older ones go with their months. */
  forgottenFailureMinutes: number;
}

/**
 * Drops the monthly partitions that end before `now - retentionDays` (whole months only, so raw
 * rows are kept between retentionDays and retentionDays + one month), and forgets the request ids,
 * actuals and failure counts of that period. Rollups are kept: windows over dropped months stay exact to the
 * minute (a window edge inside a minute reads that minute's raw rows, which are gone).
 */
export async function applyRetention(sql: Sql, retentionDays: number, now = new Date()): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const partitions = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'ml_prediction'::regclass and c.relname ~ '^ml_prediction_p[0-9]{6}$'
    order by c.relname`;
  const dropped = partitions.map(({ name }) => name).filter((name) => nextMonth(monthStartOf(name)) <= cutoff);
  if (dropped.length === 0) return { droppedPartitions: [], forgottenRequestIds: 0, forgottenActuals: 0, forgottenFailureMinutes: 0 };
  const keptFrom = nextMonth(monthStartOf(dropped[dropped.length - 1]!));
  // Forget first, drop last, in two transactions. Dropping a partition locks ml_prediction ACCESS
  // EXCLUSIVE until the commit, which stops every write and window read, and deleting a month of
  // request ids takes long. The forgetting commits before the drop waits for that lock: a
  // transaction still holding the forgotten rows' locks while queued behind a prediction statement
  // deadlocks with an actual that updates one of them while that statement waits for the actual's
  // booking stripe. Writes older than the retention are refused, so nothing needs the forgotten
  // rows while their partitions wait to be dropped.
  const [forgottenRequestIds, forgottenActuals, forgottenFailureMinutes] = await sql.begin(async (tx) => {
    const requestIds = await tx`delete from ml_request_id where created_at < ${keptFrom}`;
    const actuals = await tx`delete from ml_actual where updated_at < ${keptFrom}`;
    const failures = await tx`delete from ml_request_failure_minute where bucket < ${keptFrom}`;
    return [requestIds.count, actuals.count, failures.count];
  });
  await sql.begin(async (tx) => {
    for (const name of dropped) await tx.unsafe(`drop table if exists ${name}`); // another replica may have dropped it
  });
  for (const name of dropped) knownMonths(sql).delete(monthOf(monthStartOf(name)));
  return { droppedPartitions: dropped, forgottenRequestIds, forgottenActuals, forgottenFailureMinutes };
}
