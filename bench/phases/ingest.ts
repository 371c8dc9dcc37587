/**
 * Goal 1: single-prediction POSTs at concurrency 64, acknowledged after commit, against the
 * no-op route with the same schema, in the same run, round by round (targets rotated each round).
 * mlmon runs twice: as `npm start` runs it (LOG_LEVEL=info: two log lines per request) and with
 * LOG_LEVEL=warn, to show what request logging costs. After each mlmon round, the rows in the
 * database are counted: every acknowledged prediction must be there (ack after commit).
 */
import path from 'node:path';
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { cannon, type CannonResult } from '../lib/load.js';
import { startNoop, type Server } from '../lib/processes.js';
import type { ProfileSummary } from '../lib/profile.js';
import { profileMlmon } from '../lib/profiling.js';
import { predictionJson } from '../lib/rows.js';
import { tableState, writesBetween, type WriteStats } from '../lib/db-stats.js';
import { backendCpu, backendCpuBetween, idleShareBetween, machineCpu, processCpuMs } from '../lib/cpu.js';
import { spread, type Spread } from '../lib/stats.js';
import { sampleWaits, type WaitProfile } from '../lib/waits.js';

const PATH = '/api/ml-monitoring/predictions';
type Target = 'noop' | 'mlmon' | 'mlmon_log_warn';
const TARGETS: Target[] = ['noop', 'mlmon', 'mlmon_log_warn'];

export interface IngestRound {
  round: number;
  results: Record<Target, CannonResult>;
  /** Rows found in the database after the round minus before, and the write transactions that stored them. */
  committed: Partial<Record<Target, WriteStats>>;
  ratio: number;
  ratioLogWarn: number;
  /** CPU per answered request, µs: the server process, and the database backends it used. */
  cpuUsPerRequest: Record<Target, { service: number; database: number }>;
  /** Share of the machine's CPU (every process, every core) left idle during each target's run. */
  machineIdle: Record<Target, number>;
}

export interface IngestResult {
  connections: number;
  secondsPerRun: number;
  rounds: IngestRound[];
  ratio: Spread;
  ratioLogWarn: Spread;
  rate: Record<Target, Spread>;
  p99Ms: Record<Target, Spread>;
  p50Ms: Record<Target, Spread>;
  /** Rows per write transaction (the group commit's group size), per mlmon target. */
  rowsPerTransaction: Record<'mlmon' | 'mlmon_log_warn', Spread>;
  /** CPU per request (server + database) of mlmon over that of the no-op (lower is better). */
  cpuRatio: Spread;
  machineIdle: Record<Target, Spread>;
  /** Every 201 was for a committed row (rows counted >= acknowledged, for each mlmon round). */
  ackAfterCommit: boolean;
  waits: WaitProfile | null;
  profile: ProfileSummary | null;
}

export async function singleIngest(ctx: Context): Promise<IngestResult> {
  const { connections, seconds, warmupSeconds, profileSeconds } = ctx.options.ingest;
  const db = await ctx.cluster.createDatabase('ingest');
  const servers: Server[] = [];
  try {
    const noop = await startNoop(path.join(ctx.scratch, 'noop.log'));
    servers.push(noop);
    const mlmon = await mlmonOn(ctx, db.url, { name: 'mlmon' });
    servers.push(mlmon);
    const quiet = await mlmonOn(ctx, db.url, { name: 'mlmon-warn', logLevel: 'warn' });
    servers.push(quiet);
    const urls: Record<Target, string> = { noop: noop.baseUrl, mlmon: mlmon.baseUrl, mlmon_log_warn: quiet.baseUrl };
    const pids: Record<Target, number> = { noop: noop.pid, mlmon: mlmon.pid, mlmon_log_warn: quiet.pid };
    const runAt = (url: string, prefix: string, duration: number) =>
      cannon({
        url,
        path: PATH,
        connections,
        durationSeconds: duration,
        headers: authHeader(ctx.tokens.ingest),
        body: (n) => predictionJson(prefix, n),
      });
    const run = (target: Target, prefix: string, duration: number) => runAt(urls[target], prefix, duration);

    for (const target of TARGETS) await run(target, `warm-${target}`, warmupSeconds);
    const rounds: IngestRound[] = [];
    let waits: WaitProfile | null = null;
    for (let round = 1; round <= ctx.options.rounds; round++) {
      const order = TARGETS.map((_, i) => TARGETS[(i + round - 1) % TARGETS.length]!);
      const results = {} as Record<Target, CannonResult>;
      const committed: Partial<Record<Target, WriteStats>> = {};
      const cpu = {} as IngestRound['cpuUsPerRequest'];
      const machineIdle = {} as IngestRound['machineIdle'];
      for (const target of order) {
        const before = target === 'noop' ? null : await tableState(db.sql);
        const sampler = target === 'mlmon' && round === 1 ? sampleWaits(db.sql, db.name, 100, seconds + 5) : null;
        const [serviceBefore, backendsBefore] = [await processCpuMs(pids[target]), await backendCpu(db.sql, db.name, 'service')];
        const machineBefore = await machineCpu();
        results[target] = await run(target, `r${round}-${target}`, seconds);
        machineIdle[target] = idleShareBetween(machineBefore, await machineCpu());
        const [serviceAfter, backendsAfter] = [await processCpuMs(pids[target]), await backendCpu(db.sql, db.name, 'service')];
        const answered = results[target].ok;
        cpu[target] = {
          service: ((serviceAfter ?? Number.NaN) - (serviceBefore ?? Number.NaN)) * 1000 / answered,
          database: target === 'noop' ? 0 : (backendCpuBetween(backendsBefore, backendsAfter) * 1000) / answered,
        };
        if (sampler) waits = await sampler.stop();
        if (target !== 'noop') {
          await new Promise((resolve) => setTimeout(resolve, 200)); // requests cut off at the deadline may still commit
          committed[target] = writesBetween(before!, await tableState(db.sql));
        }
        const r = results[target];
        const w = committed[target];
        ctx.log(`  round ${round} ${target}: ${Math.round(r.rate)} req/s, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}` +
          (w ? `, ${w.rows} rows in ${w.transactions} transactions` : ''));
      }
      rounds.push({
        round,
        results,
        committed,
        ratio: results.mlmon.rate / results.noop.rate,
        ratioLogWarn: results.mlmon_log_warn.rate / results.noop.rate,
        cpuUsPerRequest: cpu,
        machineIdle,
      });
    }

    const profile =
      profileSeconds > 0
        ? await profileMlmon(
            ctx,
            db.url,
            (baseUrl) => runAt(baseUrl, 'profile-warm', 1),
            (baseUrl) => runAt(baseUrl, 'profile', profileSeconds),
          )
        : null;

    const perTarget = (pick: (round: IngestRound, target: Target) => number) =>
      Object.fromEntries(TARGETS.map((t) => [t, spread(rounds.map((r) => pick(r, t)))])) as Record<Target, Spread>;
    const by = (pick: (r: CannonResult) => number) => perTarget((round, target) => pick(round.results[target]));
    return {
      connections,
      secondsPerRun: seconds,
      rounds,
      ratio: spread(rounds.map((r) => r.ratio)),
      ratioLogWarn: spread(rounds.map((r) => r.ratioLogWarn)),
      cpuRatio: spread(rounds.map(({ cpuUsPerRequest: c }) => (c.mlmon.service + c.mlmon.database) / c.noop.service)),
      machineIdle: perTarget((round, target) => round.machineIdle[target]),
      rate: by((r) => r.rate),
      p99Ms: by((r) => r.latencyMs.p99),
      p50Ms: by((r) => r.latencyMs.p50),
      rowsPerTransaction: {
        mlmon: spread(rounds.map((r) => r.committed.mlmon?.rowsPerTransaction ?? Number.NaN)),
        mlmon_log_warn: spread(rounds.map((r) => r.committed.mlmon_log_warn?.rowsPerTransaction ?? Number.NaN)),
      },
      ackAfterCommit: rounds.every((r) =>
        (['mlmon', 'mlmon_log_warn'] as const).every((t) => (r.committed[t]?.rows ?? 0) >= r.results[t].ok),
      ),
      waits,
      profile,
    };
  } finally {
    for (const server of servers) await server.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
