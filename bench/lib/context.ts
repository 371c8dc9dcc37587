import path from 'node:path';
import type { Cluster } from './cluster.js';
import type { Bounds } from './load.js';
import { startMlmon, type Server } from './processes.js';

/** Everything a run is configured with (see bench/main.ts for the flags and their defaults). */
export interface BenchOptions {
  smoke: boolean;
  phases: Set<PhaseName>;
  /** Rounds of each side-by-side comparison (ratios are reported per round, then median/min/max). */
  rounds: number;
  ingest: { connections: number; seconds: number; warmupSeconds: number; profileSeconds: number };
  batch: { batchesPerRound: number; batchSize: number; connections: number; ndjsonPath: string };
  reads: { sizes: number[]; spanDays: number; mlmon: Bounds; raw: Bounds };
  flask: { rows: number; seed: string; mlmon: Bounds; flask: Bounds };
  memory: { seconds: number; connections: number };
  actuals: { connections: number; seconds: number; predictions: number };
}

export type PhaseName = 'ingest' | 'batch' | 'reads' | 'flask' | 'memory' | 'actuals';
export const PHASES: PhaseName[] = ['ingest', 'batch', 'reads', 'flask', 'memory', 'actuals'];

export interface Context {
  options: BenchOptions;
  cluster: Cluster;
  /** Scratch folder of this run (logs, data dirs, CPU profiles). */
  scratch: string;
  tokens: { ingest: string; read: string };
  log(line: string): void;
}

let serial = 0;

/** The service under test as a process on a bench database. */
export function mlmonOn(
  ctx: Context,
  databaseUrl: string,
  extra: { logLevel?: string; nodeArgs?: string[]; name?: string; metricsCacheSeconds?: number } = {},
): Promise<Server> {
  const id = `${extra.name ?? 'mlmon'}-${++serial}`;
  return startMlmon({
    databaseUrl,
    dataDir: path.join(ctx.scratch, id),
    ingestToken: ctx.tokens.ingest,
    readToken: ctx.tokens.read,
    logFile: path.join(ctx.scratch, `${id}.log`),
    metricsCacheSeconds: extra.metricsCacheSeconds,
    logLevel: extra.logLevel,
    nodeArgs: extra.nodeArgs,
    name: extra.name,
  });
}

export const authHeader = (token: string) => ({ authorization: `Bearer ${token}` });
