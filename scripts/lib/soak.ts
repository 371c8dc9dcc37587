/**
 * The soak load: mixed ingest and reads against a running mlmon for a fixed duration, sampled at
 * a fixed interval: the service's RSS (from its own /metrics: process_resident_memory_bytes),
 * latency percentiles and error counts per interval. Used by scripts/soak.ts (10 minutes by
 * default) and by test/reliability/soak.test.ts (a short run with flatness checks).
 */
export interface SoakOptions {
  baseUrl: string;
  ingestToken: string;
  readToken: string;
  durationMs: number;
  sampleMs: number;
  /** Not measured: the service warms up (JIT, pools, heap). */
  warmupMs?: number;
  /** Concurrent client loops. */
  concurrency?: number;
  modelVersion?: string;
  /** Called with each sample as it is taken. */
  onSample?: (sample: SoakSample) => void;
}

export interface SoakSample {
  /** Seconds since the measured part began (end of the interval). */
  t: number;
  rssMb: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  predictionsStored: number;
}

export interface SoakReport {
  samples: SoakSample[];
  totalRequests: number;
  totalErrors: number;
  errorKinds: Record<string, number>;
  predictionsAcknowledged: number;
  /** Last third over first third: median RSS and median p95 / p50 latency. */
  ratios: { rss: number; p95: number; p50: number };
}

const API = '/api/ml-monitoring';

function quantileOfSorted(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

const median = (values: number[]) => quantileOfSorted([...values].sort((a, b) => a - b), 0.5);

async function rssBytes(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const match = /^process_resident_memory_bytes (\S+)$/m.exec(text);
  if (!match) throw new Error('no process_resident_memory_bytes in /metrics');
  return Number(match[1]);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { baseUrl, ingestToken, readToken, durationMs, sampleMs, concurrency = 4 } = options;
  const warmupMs = options.warmupMs ?? Math.max(2000, durationMs * 0.1);
  const version = options.modelVersion ?? `soak-${Date.now().toString(36)}`;
  let latencies: number[] = [];
  let errors = 0;
  let requests = 0;
  let measuring = false;
  let serial = 0;
  let acknowledged = 0;
  const errorKinds: Record<string, number> = {};
  const headers = (token: string, json: boolean) => ({ authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) });
  const prediction = () => {
    serial++;
    return {
      booking_id: serial,
      predicted_delay_minutes: (serial % 23) + 0.25,
      confidence: 0.4 + (serial % 6) / 10,
      risk_level: ['low', 'medium', 'high'][serial % 3],
      model_version: version,
      prediction_time_ms: 10 + (serial % 200),
      request_id: `${version}-${serial}`,
    };
  };

  /** One request of the mix: 60% single ingest, 10% batch of 50, 10% actuals, 20% reads. */
  async function one(): Promise<void> {
    const roll = Math.random();
    let path: string;
    let init: RequestInit;
    let stored = 0;
    if (roll < 0.6) {
      path = `${API}/predictions`;
      init = { method: 'POST', headers: headers(ingestToken, true), body: JSON.stringify(prediction()) };
      stored = 1;
    } else if (roll < 0.7) {
      path = `${API}/predictions`;
      init = { method: 'POST', headers: headers(ingestToken, true), body: JSON.stringify(Array.from({ length: 50 }, prediction)) };
      stored = 50;
    } else if (roll < 0.8) {
      path = `${API}/actuals`;
      const booking = Math.max(1, serial - Math.floor(Math.random() * 100));
      init = { method: 'POST', headers: headers(ingestToken, true), body: JSON.stringify({ booking_id: booking, actual_delay_minutes: (booking % 19) + 1 }) };
    } else {
      const reads = [`${API}/summary`, `${API}/metrics?hours=1&model_version=${version}`, `${API}/predictions?limit=100`, `${API}/daily?days=2`, '/metrics'];
      path = reads[Math.floor(Math.random() * reads.length)]!;
      init = { method: 'GET', headers: headers(readToken, false) };
    }
    const started = performance.now();
    let ok = false;
    let kind = '';
    try {
      const res = await fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      ok = res.ok;
      kind = `${init.method} ${path.split('?')[0]} ${res.status}`;
      if (ok) acknowledged += stored;
    } catch (error) {
      kind = `${init.method} ${path.split('?')[0]} ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name}`;
    }
    if (!measuring) return;
    requests++;
    latencies.push(performance.now() - started);
    if (!ok) {
      errors++;
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    }
  }

  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await one();
  });

  const samples: SoakSample[] = [];
  try {
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    measuring = true;
    latencies = [];
    const begun = performance.now();
    // whole intervals only: a sliver of an interval at the end would be a noisy sample
    for (let next = sampleMs; next <= durationMs + sampleMs / 2; next += sampleMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - (performance.now() - begun))));
      const window = latencies.sort((a, b) => a - b);
      latencies = [];
      const sample: SoakSample = {
        t: Math.round((performance.now() - begun) / 100) / 10,
        rssMb: Math.round((await rssBytes(baseUrl)) / 1e5) / 10,
        requests,
        errors,
        p50Ms: Math.round(quantileOfSorted(window, 0.5) * 10) / 10,
        p95Ms: Math.round(quantileOfSorted(window, 0.95) * 10) / 10,
        p99Ms: Math.round(quantileOfSorted(window, 0.99) * 10) / 10,
        predictionsStored: acknowledged,
      };
      requests = 0;
      errors = 0;
      samples.push(sample);
      options.onSample?.(sample);
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  const third = Math.max(1, Math.floor(samples.length / 3));
  const first = samples.slice(0, third);
  const last = samples.slice(-third);
  const ratio = (pick: (s: SoakSample) => number) => median(last.map(pick)) / median(first.map(pick));
  return {
    samples,
    totalRequests: samples.reduce((n, s) => n + s.requests, 0),
    totalErrors: samples.reduce((n, s) => n + s.errors, 0),
    errorKinds,
    predictionsAcknowledged: acknowledged,
    ratios: { rss: ratio((s) => s.rssMb), p95: ratio((s) => s.p95Ms), p50: ratio((s) => s.p50Ms) },
  };
}
