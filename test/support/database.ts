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

/**
 * Creates a fresh database for one suite and applies the migrations (unless `migrated` is false,
 * for a database of some other system): on the test cluster, or on the server of the superuser
 * URL given.
 */
export async function createTestDatabase(serverUrl = adminUrl(), { migrated = true } = {}): Promise<TestDatabase> {
  const name = `mlmon_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  if (migrated) await migrate(url.toString());
  const sql = connect(url.toString());
  return {
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}
