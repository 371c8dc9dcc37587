/**
 * mlmon on a packaged PostgreSQL (Debian's, with LLVM JIT), as users run it through DATABASE_URL.
 * The windowed read is planned once per session with an estimate that, at ten million rows,
 * passes jit_above_cost: such a server then JIT-compiled every read (1.3 s instead of 2 ms,
 * BENCHMARKS.md). Here JIT is forced on for every query, and auto_explain shows which ones
 * compile: the read must not, while a plain query on the same session must (the control).
 */
import postgres from 'postgres';
import { trailingWindows } from '../../src/aggregate/reports.js';
import { readReport } from '../../src/store/read-window.js';
import { DAY_US, HOUR_US, MINUTE_US } from '../../src/aggregate/window.js';
import { storePredictions } from '../../src/store/predictions.js';
import { FLEET } from '../../src/validate/limits.js';
import {
  findPackagedPostgres, PACKAGED_POSTGRES_HINT, PACKAGED_POSTGRES_WANTED, startPackagedPostgres, type RunningPackagedPostgres,
} from '../support/packaged-postgres.js';
import { describeWhenInstalled } from '../support/required-tools.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const packaged = await findPackagedPostgres();
const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
const STORED = 120;

describeWhenInstalled('on a packaged PostgreSQL with JIT', packaged ? [] : [PACKAGED_POSTGRES_WANTED], PACKAGED_POSTGRES_HINT, () => {
  let server: RunningPackagedPostgres;
  let db: TestDatabase;
  const nowUs = Date.now() * 1000;

  beforeAll(async () => {
    server = await startPackagedPostgres(packaged!);
    db = await createTestDatabase(server.url);
    // Nine days back, off the minute: the read touches raw edge rows and every rollup tier.
    const predictions = Array.from({ length: STORED }, (_, i) => ({
      booking_id: 5_000 + i,
      predicted_delay_minutes: 3 + (i % 7),
      confidence: 0.8,
      risk_level: 'low',
      model_version: i % 2 ? 'a' : 'b',
      created_at: new Date((nowUs - 2 * MINUTE_US - i * 1_733 * 3_700_000) / 1000).toISOString(),
    }));
    await storePredictions(db.sql, predictions, rules);
  }, 60_000);
  afterAll(async () => {
    try {
      await db?.drop();
    } finally {
      await server?.stop(); // its folder goes with it, even when the drop failed
    }
  });

  it('applies the migrations, stores, and reads windows that count every stored row', async () => {
    const [week] = await readReport(db.sql, trailingWindows(rules, nowUs, [7 * DAY_US]));
    const [{ count } = { count: -1 }] = await db.sql<{ count: number }[]>`
      select count(*)::int as count from ml_prediction where created_at > now() - interval '7 days'`;
    expect(week!.get(FLEET)!.predictions).toBe(count);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(STORED);
  });

  it('never JIT-compiles a windowed read, even with JIT forced on for every query', async () => {
    const notices: string[] = [];
    const session = postgres(db.url, { max: 1, onnotice: (notice) => notices.push(String(notice.message)), connection: { TimeZone: 'UTC' } });
    try {
      const [{ available } = { available: false }] = await session<{ available: boolean }[]>`select pg_jit_available() as available`;
      expect(available).toBe(true);
      await session.unsafe(`load 'auto_explain'`);
      await session.unsafe(`set jit_above_cost = 0; set auto_explain.log_min_duration = 0;
        set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice`);

      await session`select count(*) from ml_prediction`;
      expect(notices.some((plan) => plan.includes('JIT:'))).toBe(true); // the control: JIT is on

      notices.length = 0;
      await readReport(session, trailingWindows(rules, nowUs, [HOUR_US, DAY_US, 7 * DAY_US]));
      const windowRead = notices.filter((plan) => plan.includes('with r as materialized'));
      expect(windowRead.length).toBeGreaterThan(0);
      expect(windowRead.filter((plan) => plan.includes('JIT:'))).toEqual([]);
    } finally {
      await session.end({ timeout: 5 });
    }
  });
});
