import { fileURLToPath } from 'node:url';
import shift from 'postgres-shift';
import postgres from 'postgres';

// The same relative path from src/db (tests) and dist/db (service): the top-level folder.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Arbitrary but fixed: every replica contends for the same session-level advisory lock. */
const MIGRATION_LOCK_ID = 727_100_001;

/**
 * Applies pending forward-only migrations (postgres-shift, one transaction for the batch).
 * Two replicas starting at once serialise on an advisory lock held by a dedicated single
 * connection, so the second one finds the work done.
 */
export async function migrate(url: string, log: (message: string) => void = () => {}): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
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
