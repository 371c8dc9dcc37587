import { fileURLToPath } from 'node:url';
import shift from 'postgres-shift';
import postgres from 'postgres';

// The same relative path from src/db (tests) and dist/db (service): the top-level folder.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Arbitrary but fixed: every replica contends for the same session-level advisory lock. */
const MIGRATION_LOCK_ID = 727_100_001;
const CONNECT_TIMEOUT_SECONDS = 10;

/**
 * The first contact, bounded. postgres.js's connect_timeout is per attempt, and a server that
 * accepts the connection and closes it before answering (a proxy without a backend, a port that is
 * not PostgreSQL's) makes it retry at once, for ever: start-up would hang in silence.
 */
async function assertAnswers(sql: postgres.Sql): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from PostgreSQL within ${CONNECT_TIMEOUT_SECONDS} s (is it a PostgreSQL server's address and port?)`)),
      CONNECT_TIMEOUT_SECONDS * 1000,
    );
  });
  try {
    await Promise.race([sql`select 1`, deadline]);
  } catch (error) {
    await sql.end({ timeout: 0 }); // also stops the retries
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Applies pending forward-only migrations (postgres-shift, one transaction for the batch).
 * Two replicas starting at once serialise on an advisory lock held by a dedicated single
 * connection, so the second one finds the work done.
 */
export async function migrate(url: string, log: (message: string) => void = () => {}): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: CONNECT_TIMEOUT_SECONDS });
  try {
    await assertAnswers(sql);
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await shift({
      sql,
      path: MIGRATIONS_DIR,
      before: ({ migration_id, name }: { migration_id: number; name: string }) =>
        log(`applying migration ${migration_id} ${name}`),
    });
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
