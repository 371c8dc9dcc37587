/**
 * What the service's database sessions are doing while under load, sampled from
 * pg_stat_activity: running (CPU), waiting (on a lock, on WAL flush at commit, ...), or idle in a
 * transaction (waiting for the service's next statement). Tells where a write spends its time.
 */
import type postgres from 'postgres';

export interface WaitProfile {
  samples: number;
  /** Average number of mlmon sessions in each state per sample. */
  sessions: { state: string; average: number; share: number }[];
}

export function sampleWaits(sql: postgres.Sql, database: string, intervalMs = 100, maxSeconds = 120): { stop(): Promise<WaitProfile> } {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const deadline = Date.now() + maxSeconds * 1000;
  const loop = (async () => {
    while (running && Date.now() < deadline) {
      const rows = await sql<{ label: string; n: number }[]>`
        select case
                 when state = 'active' and wait_event is null then 'active: on CPU'
                 when state = 'active' then 'active: waiting ' || wait_event_type || '/' || wait_event
                 else state end as label,
               count(*)::int as n
        from pg_stat_activity
        where datname = ${database} and application_name = 'mlmon' and state <> 'idle' and pid <> pg_backend_pid()
        group by 1`.catch(() => []);
      samples++;
      for (const { label, n } of rows) counts.set(label, (counts.get(label) ?? 0) + n);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      return {
        samples,
        sessions: [...counts]
          .map(([state, n]) => ({ state, average: n / Math.max(1, samples), share: total > 0 ? n / total : 0 }))
          .sort((a, b) => b.average - a.average),
      };
    },
  };
}
