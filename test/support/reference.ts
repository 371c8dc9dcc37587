/**
 * An independent reference for the service's quality metrics: plain two-pass arithmetic over the
 * raw predictions a test generated. Nothing here imports the service's math (src/aggregate) on
 * purpose: the tests compare the service against this, not against itself.
 */

export interface RawPrediction {
  bookingId: number;
  /** Epoch microseconds. */
  createdUs: number;
  modelVersion: string;
  predicted: number;
  confidence: number;
  latencyMs: number | null;
  /** The last actual sent for the booking (null: unlabelled). */
  actual: number | null;
}

export interface Rules {
  accuracyToleranceMinutes: number;
  anomalyThresholdMinutes: number;
}

export interface ExpectedMetrics {
  predictions: number;
  count: number;
  mae: number | null;
  rmse: number | null;
  bias: number | null;
  r2: number | null;
  accuracy_rate: number | null;
  avg_confidence: number | null;
  avg_prediction_time_ms: number | null;
  anomalies: number;
}

/** Neumaier-compensated sum: the reference should be more exact than the thing it checks. */
export function exactSum(values: Iterable<number>): number {
  let sum = 0;
  let compensation = 0;
  for (const v of values) {
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}

/** Each quality gauge of /metrics, with its value (in the gauge's base unit) from the reference metrics. */
export const QUALITY_GAUGES: readonly (readonly [string, (m: ExpectedMetrics) => number | null])[] = [
  ['ml_prediction_mae_seconds', (m) => (m.mae === null ? null : m.mae * 60)],
  ['ml_prediction_rmse_seconds', (m) => (m.rmse === null ? null : m.rmse * 60)],
  ['ml_prediction_bias_seconds', (m) => (m.bias === null ? null : m.bias * 60)],
  ['ml_prediction_r2', (m) => m.r2],
  ['ml_prediction_accuracy_ratio', (m) => m.accuracy_rate],
  ['ml_prediction_confidence_avg_ratio', (m) => m.avg_confidence],
  ['ml_prediction_latency_avg_seconds', (m) => (m.avg_prediction_time_ms === null ? null : m.avg_prediction_time_ms / 1000)],
  ['ml_prediction_window_predictions', (m) => m.predictions],
  ['ml_prediction_window_labeled', (m) => m.count],
  ['ml_prediction_window_anomalies', (m) => m.anomalies],
];

/** The seed's definitions, computed the slow, obvious way (two passes over the actuals). */
export function twoPass(rows: RawPrediction[], rules: Rules): ExpectedMetrics {
  const labelled = rows.filter((r) => r.actual !== null);
  const n = labelled.length;
  const errors = labelled.map((r) => Math.abs(r.predicted - (r.actual as number)));
  const actuals = labelled.map((r) => r.actual as number);
  const withLatency = rows.filter((r) => r.latencyMs !== null);
  let r2: number | null = null;
  if (n >= 2) {
    const mean = exactSum(actuals) / n;
    const ssTot = exactSum(actuals.map((a) => (a - mean) * (a - mean)));
    const ssRes = exactSum(errors.map((e) => e * e));
    r2 = ssTot > 0 ? 1 - ssRes / ssTot : null;
  }
  return {
    predictions: rows.length,
    count: n,
    mae: n > 0 ? exactSum(errors) / n : null,
    rmse: n > 0 ? Math.sqrt(exactSum(errors.map((e) => e * e)) / n) : null,
    bias: n > 0 ? exactSum(labelled.map((r) => r.predicted - (r.actual as number))) / n : null,
    r2,
    accuracy_rate: n > 0 ? errors.filter((e) => e < rules.accuracyToleranceMinutes).length / n : null,
    avg_confidence: rows.length > 0 ? exactSum(rows.map((r) => r.confidence)) / rows.length : null,
    avg_prediction_time_ms: withLatency.length > 0 ? exactSum(withLatency.map((r) => r.latencyMs as number)) / withLatency.length : null,
    anomalies: errors.filter((e) => e > rules.anomalyThresholdMinutes).length,
  };
}

/** Predictions whose created_at lies in (fromUs, toUs]. */
export function inOpenClosed(rows: RawPrediction[], fromUs: number, toUs: number): RawPrediction[] {
  return rows.filter((r) => r.createdUs > fromUs && r.createdUs <= toUs);
}

/** Predictions whose created_at lies in [startUs, endUs). */
export function inHalfOpen(rows: RawPrediction[], startUs: number, endUs: number): RawPrediction[] {
  return rows.filter((r) => r.createdUs >= startUs && r.createdUs < endUs);
}

/** ISO-8601 UTC with six fractional digits, written independently of the service's isoMicros. */
export function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - ms * 1000;
  const base = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${base.slice(0, 23)}${String(micro).padStart(3, '0')}Z`;
}

export const microsFromIso = (iso: string): number => Date.parse(iso) * 1000;

const FIELDS: (keyof ExpectedMetrics)[] = [
  'predictions', 'count', 'mae', 'rmse', 'bias', 'r2', 'accuracy_rate', 'avg_confidence', 'avg_prediction_time_ms', 'anomalies',
];
const COUNTS = new Set<keyof ExpectedMetrics>(['predictions', 'count', 'anomalies']);

/**
 * Differences between a metrics object the service returned and the reference; empty when they
 * agree (counts exactly, values to `relative` relative error, nulls exactly). Returned as text so
 * that a failing test shows every mismatch of a window at once.
 */
export function metricsMismatches(got: Record<string, unknown>, expected: ExpectedMetrics, where: string, relative = 1e-9): string[] {
  const problems: string[] = [];
  for (const field of FIELDS) {
    const g = got[field];
    const e = expected[field];
    if (e === null || g === null || g === undefined) {
      if (g !== e) problems.push(`${where}.${field}: got ${String(g)}, expected ${String(e)}`);
      continue;
    }
    if (typeof g !== 'number') {
      problems.push(`${where}.${field}: got ${JSON.stringify(g)}, expected the number ${e}`);
    } else if (COUNTS.has(field) ? g !== e : !closeTo(g, e, relative)) {
      problems.push(`${where}.${field}: got ${g}, expected ${e} (relative error ${relError(g, e).toExponential(2)})`);
    }
  }
  return problems;
}

export function relError(got: number, expected: number): number {
  return Math.abs(got - expected) / Math.max(Math.abs(expected), 1e-300);
}

/** Relative closeness, with an absolute floor of `relative` for values near zero. */
export function closeTo(got: number, expected: number, relative = 1e-9): boolean {
  return Math.abs(got - expected) <= relative * Math.max(1, Math.abs(expected));
}

/** mulberry32: a tiny seeded PRNG so that generated data is reproducible from the printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: MLMON_TEST_SEED when set (to replay a failure), else a fresh one. */
export function testSeed(label: string): number {
  const fromEnv = process.env.MLMON_TEST_SEED;
  const seed = fromEnv ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  // eslint-disable-next-line no-console
  console.log(`${label}: data seed ${seed} (replay with MLMON_TEST_SEED=${seed})`);
  return seed;
}

/** Minimal Prometheus text-format parser: one sample per line, labels unescaped. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let lm: RegExpExecArray | null;
    let consumed = 0;
    while ((lm = re.exec(body)) !== null) {
      labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed += lm[0].length;
    }
    if (consumed !== body.length) throw new Error(`could not parse the labels of ${JSON.stringify(line)}`);
    const raw = m[4]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The samples of one metric name whose labels include `match`. */
export function samplesOf(samples: Sample[], name: string, match: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
