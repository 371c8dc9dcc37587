/**
 * Generated prediction data for the metric tests, and helpers to send it. Every value the tests
 * expect is computed from these raw records by test/support/reference.ts.
 */
import { isoFromMicros, type RawPrediction } from './reference.js';
import type { Reply } from './app-harness.js';

export const MINUTE_US = 60_000_000;
export const HOUR_US = 60 * MINUTE_US;
export const DAY_US = 24 * HOUR_US;

export interface PredictionBody {
  booking_id: number;
  predicted_delay_minutes: number;
  confidence: number;
  risk_level: string;
  model_version: string;
  created_at: string;
  prediction_time_ms?: number;
  request_id?: string;
}

export function bodyOf(p: RawPrediction, extra: Partial<PredictionBody> = {}): PredictionBody {
  return {
    booking_id: p.bookingId,
    predicted_delay_minutes: p.predicted,
    confidence: p.confidence,
    risk_level: p.predicted > 10 ? 'high' : p.predicted > 5 ? 'medium' : 'low',
    model_version: p.modelVersion,
    created_at: isoFromMicros(p.createdUs),
    ...(p.latencyMs === null ? {} : { prediction_time_ms: p.latencyMs }),
    ...extra,
  };
}

/** Runs the tasks with at most `parallel` in flight; resolves with results in task order. */
export async function inParallel<T>(tasks: (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
  return results;
}

/** Splits a list into chunks of random sizes between 1 and `max`. */
export function randomChunks<T>(items: T[], max: number, random: () => number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + Math.floor(random() * max);
    chunks.push(items.slice(i, i + size));
    i += size;
  }
  return chunks;
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export function expectStatus(res: Reply, status: number, what: string): void {
  if (res.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${res.statusCode}: ${res.body.slice(0, 500)}`);
}
