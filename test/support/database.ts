import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connect, type Sql } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabase {
  /** URL of this suite's own database. */
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.MLMON_TEST_DATABASE_URL;
  if (!url) throw new Error('MLMON_TEST_DATABASE_URL is not set: run the tests through jest (its global setup starts PostgreSQL)');
  return url;
}

/** A single superuser connection to the server, ended whatever `use` does. */
async function withAdmin<T>(serverUrl: string, use: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    return await use(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/**
 * Creates a fresh database for one suite and applies the migrations (unless `migrated` is false,
 * for a database of some other system): on the test cluster, or on the server of the superuser
 * URL given. When the migrations fail, the database is dropped again before the error is thrown.
 */
export async function createTestDatabase(serverUrl = adminUrl(), { migrated = true } = {}): Promise<TestDatabase> {
  const name = `mlmon_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await withAdmin(serverUrl, async (admin) => {
    await admin.unsafe(`create database ${name}`);
    try {
      if (migrated) await migrate(url.toString());
    } catch (error) {
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      throw error;
    }
  });
  const sql = connect(url.toString());
  return {
    url: url.toString(),
    sql,
    async drop() {
      try {
        await sql.end({ timeout: 5 });
      } finally {
        await withAdmin(serverUrl, (admin) => admin.unsafe(`drop database if exists ${name} with (force)`));
      }
    },
  };
}

/**
 * Waits until `count` sessions of the database wait for a lock: how the lock-order tests know the
 * interleaving they force is in place, without guessing a sleep long enough for a slow machine.
 */
export async function untilSessionsWaitForLocks(db: TestDatabase, count: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const [row] = await db.sql<{ waiting: number }[]>`
      select count(*)::int as waiting from pg_stat_activity
      where wait_event_type = 'Lock' and datname = current_database()`;
    if (row!.waiting >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`fewer than ${count} sessions ever waited for a lock`);
}
