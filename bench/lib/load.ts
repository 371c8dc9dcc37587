/**
 * Load generation and latency sampling, always against 127.0.0.1 and always bounded both in
 * count and in time.
 *  - Throughput under concurrency: autocannon, used programmatically (its latency histogram has
 *    1 ms resolution, fine for ingest under load).
 *  - Read latency: one keep-alive connection, requests one after the other, timed with hrtime
 *    (sub-millisecond resolution, which read latencies of a few ms need).
 */
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { latencySummary, type LatencySummary } from './stats.js';

export interface Bounds {
  /** Stop after this many samples... */
  maxSamples: number;
  /** ...or once this much time has passed (whichever first), */
  maxSeconds: number;
  /** ...but take at least this many (unless one sample alone exceeds maxSeconds). */
  minSamples: number;
}

export const nowNs = () => process.hrtime.bigint();
export const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** Times `fn` repeatedly within bounds; returns the samples in ms. */
async function collect(fn: () => Promise<unknown>, bounds: Bounds): Promise<number[]> {
  const samples: number[] = [];
  const started = nowNs();
  while (samples.length < bounds.maxSamples) {
    const elapsedS = msSince(started) / 1000;
    if (samples.length >= bounds.minSamples && elapsedS >= bounds.maxSeconds) break;
    if (samples.length > 0 && elapsedS >= bounds.maxSeconds * 3) break; // a pathological case: keep the time bound
    const t = nowNs();
    await fn();
    samples.push(msSince(t));
  }
  return samples;
}

/**
 * Two measurements side by side: `blocks` alternating slices of each (a, b, a, b, ...), so that
 * a burst of load from elsewhere on a shared machine falls on both rather than on one.
 */
export async function sampleSideBySide(
  a: () => Promise<unknown>,
  boundsA: Bounds,
  b: () => Promise<unknown>,
  boundsB: Bounds,
  blocks = 4,
): Promise<[LatencySummary, LatencySummary]> {
  const part = (x: Bounds): Bounds => ({
    maxSamples: Math.ceil(x.maxSamples / blocks),
    maxSeconds: x.maxSeconds / blocks,
    minSamples: Math.ceil(x.minSamples / blocks),
  });
  const samplesA: number[] = [];
  const samplesB: number[] = [];
  for (let i = 0; i < blocks; i++) {
    samplesA.push(...(await collect(a, part(boundsA))));
    samplesB.push(...(await collect(b, part(boundsB))));
  }
  return [latencySummary(samplesA), latencySummary(samplesB)];
}

/** A GET client over one keep-alive connection, checking the status. */
export function getter(baseUrl: string, headers: Record<string, string> = {}): { get(path: string): Promise<string>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(baseUrl);
  return {
    get(path: string) {
      return new Promise<string>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path, method: 'GET', headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const body = Buffer.concat(chunks).toString();
              if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}: ${body.slice(0, 300)}`));
              else resolve(body);
            });
            res.on('error', reject);
          },
        );
        req.setTimeout(120_000, () => req.destroy(new Error(`GET ${path} timed out`)));
        req.on('error', reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}

export interface CannonOptions {
  url: string;
  path: string;
  connections: number;
  /** Seconds (autocannon stops after this)... */
  durationSeconds?: number;
  /** ...or after this many requests. */
  amount?: number;
  headers: Record<string, string>;
  /** Body of the n-th request. */
  body: (n: number) => string;
}

export interface CannonResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  rate: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
}

/** POSTs JSON bodies with autocannon; `rate` counts 2xx answers per second. */
export async function cannon(options: CannonOptions): Promise<CannonResult> {
  let n = 0;
  // Timed here, up to the last answer: autocannon notices that a fixed amount of requests is done
  // only at its next one-second sample, so both its own duration and the time until it resolves
  // count whole seconds (a 4.3 s run reads 5.0 s), which quantized the batch rates by up to 20 %.
  const started = nowNs();
  let lastAnswer = started;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    ...(options.amount === undefined ? { duration: options.durationSeconds ?? 5 } : { amount: options.amount }),
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (req) => {
          req.body = options.body(n++);
          return req;
        },
        onResponse: () => {
          lastAnswer = nowNs();
        },
      },
    ],
  });
  const seconds = Number(lastAnswer - started) / 1e9;
  const ok = result['2xx'];
  return {
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    rate: ok / seconds,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean, max: result.latency.max },
  };
}
