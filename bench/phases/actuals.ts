/**
 * Not a goal of issue 6: single actuals, as rides report them (POST /actuals, one booking each),
 * at a fixed concurrency, against the same labelling done by SQL with postgres.js at the same
 * concurrency: one update of the booking's prediction (actual, error, accuracy), with no rollups,
 * no stored actual, no locks and no HTTP (the baseline is favoured). Every actual is the first
 * one of a prediction stored before the phase; mlmon and SQL label disjoint bookings and take
 * turns going first. After each mlmon run, the labelled predictions are counted: every
 * acknowledged actual must have labelled its prediction.
 */
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { loadDataset } from '../lib/dataset.js';
import { cannon, msSince, nowNs, type CannonResult } from '../lib/load.js';
import type { Server } from '../lib/processes.js';
import { spread, type Spread } from '../lib/stats.js';
import { sampleWaits, type WaitProfile } from '../lib/waits.js';
import postgres from 'postgres';

const PATH = '/api/ml-monitoring/actuals';

export interface ActualsRound {
  round: number;
  mlmon: CannonResult;
  sqlPerSecond: number;
  ratio: number;
  /** Predictions labelled during the mlmon run, against the actuals it acknowledged. */
  labelled: number;
  acknowledged: number;
}

export interface ActualsResult {
  connections: number;
  secondsPerRun: number;
  predictions: number;
  rounds: ActualsRound[];
  ratio: Spread;
  mlmonPerSecond: Spread;
  sqlPerSecond: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** Every acknowledged actual had labelled its prediction when the run ended. */
  ackAfterCommit: boolean;
  /** What the service's sessions waited on during the first mlmon run. */
  waits: WaitProfile;
}

/** Hands out unlabelled bookings, each once; running out is an error, not a silent correction. */
function bookingQueue(ids: number[]): () => number {
  let next = 0;
  return () => {
    if (next >= ids.length) throw new Error(`the phase labelled all ${ids.length} stored predictions: raise options.actuals.predictions`);
    return ids[next++]!;
  };
}

const actualOf = (n: number) => 2 + (n % 17);
/** The service's default accuracy tolerance, so that both sides label alike. */
const ACCURACY_TOLERANCE_MINUTES = 3;

async function labelledCount(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(actual_delay_minutes)::int as n from ml_prediction`;
  return row!.n;
}

/**
 * The baseline: `connections` workers updating one booking's prediction per statement until the
 * deadline, over a pool of as many connections.
 */
async function labelBySql(sql: postgres.Sql, next: () => number, connections: number, seconds: number): Promise<number> {
  const started = nowNs();
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const booking = next();
      const actual = actualOf(booking);
      await sql`
        update ml_prediction set actual_delay_minutes = ${actual}, prediction_error = abs(predicted_delay_minutes - ${actual}),
               is_accurate = abs(predicted_delay_minutes - ${actual}) < ${ACCURACY_TOLERANCE_MINUTES}, updated_at = now()
        where booking_id = ${booking}`;
      done++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return done / (msSince(started) / 1000);
}

export async function actuals(ctx: Context): Promise<ActualsResult> {
  const { connections, seconds, predictions } = ctx.options.actuals;
  const db = await ctx.cluster.createDatabase('actuals');
  const servers: Server[] = [];
  // The bench database's own pool holds 10 connections: the baseline gets as many as mlmon's clients.
  const baseline = postgres(db.url, { max: connections, onnotice: () => {} });
  try {
    await loadDataset(db.sql, { rows: predictions, spanDays: 7, labelledShare: 0, log: ctx.log });
    const ids = (await db.sql<{ booking_id: string }[]>`select booking_id::text from ml_prediction order by random()`).map((r) => Number(r.booking_id));
    const next = bookingQueue(ids);
    const mlmon = await mlmonOn(ctx, db.url, { name: 'mlmon-actuals' });
    servers.push(mlmon);
    const sql = db.sql;
    const runMlmon = (duration: number) =>
      cannon({
        url: mlmon.baseUrl,
        path: PATH,
        connections,
        durationSeconds: duration,
        headers: authHeader(ctx.tokens.ingest),
        body: () => {
          const booking = next();
          return JSON.stringify({ booking_id: booking, actual_delay_minutes: actualOf(booking) });
        },
      });
    await runMlmon(1);
    await labelBySql(baseline, next, connections, 1);

    const rounds: ActualsRound[] = [];
    let waits: WaitProfile | undefined;
    for (let round = 1; round <= ctx.options.rounds; round++) {
      let mlmonResult: CannonResult | undefined;
      let sqlPerSecond = 0;
      let labelled = 0;
      const timeMlmon = async () => {
        const before = await labelledCount(sql);
        const sampler = round === 1 ? sampleWaits(sql, db.name, 100, seconds + 5) : null;
        mlmonResult = await runMlmon(seconds);
        if (sampler) waits = await sampler.stop();
        await new Promise((resolve) => setTimeout(resolve, 200)); // answers cut off at the deadline may still commit
        labelled = (await labelledCount(sql)) - before;
      };
      const timeSql = async () => {
        sqlPerSecond = await labelBySql(baseline, next, connections, seconds);
      };
      for (const part of round % 2 === 1 ? [timeMlmon, timeSql] : [timeSql, timeMlmon]) await part();
      const r = mlmonResult!;
      rounds.push({ round, mlmon: r, sqlPerSecond, ratio: r.rate / sqlPerSecond, labelled, acknowledged: r.ok });
      ctx.log(`  round ${round}: mlmon ${Math.round(r.rate)} actuals/s (p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}), SQL ${Math.round(sqlPerSecond)}/s, ratio ${(r.rate / sqlPerSecond).toFixed(3)}`);
    }
    return {
      connections,
      secondsPerRun: seconds,
      predictions,
      rounds,
      ratio: spread(rounds.map((r) => r.ratio)),
      mlmonPerSecond: spread(rounds.map((r) => r.mlmon.rate)),
      sqlPerSecond: spread(rounds.map((r) => r.sqlPerSecond)),
      p50Ms: spread(rounds.map((r) => r.mlmon.latencyMs.p50)),
      p99Ms: spread(rounds.map((r) => r.mlmon.latencyMs.p99)),
      ackAfterCommit: rounds.every((r) => r.labelled >= r.acknowledged),
      waits: waits!,
    };
  } finally {
    await baseline.end({ timeout: 5 });
    for (const server of servers) await server.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
