/**
 * Demo traffic: realistic pickup-delay predictions, their actuals, and ML request failures, as a
 * ride-booking operator's model would log them. Pure (a seeded random source, no I/O, no clock):
 * main.ts sends what this module produces.
 *
 * Model versions, each with its own error, latency and confidence profile; the feature flag at 25 %;
 * actual delays known a while after the prediction (the ride ends); some rides never get one
 * (cancelled); a few ML requests fail. The incident episode: from `incidentAfterSeconds` for
 * `incidentDurationSeconds`, one version's predictions are ~10 minutes off (a broken feature), so
 * the MAE/accuracy alerts and the anomalies show.
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same traffic. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export function normal(random: Random, mean = 0, sd = 1): number {
  // Box–Muller; 1 - u keeps log away from 0.
  const u = 1 - random.next();
  const v = random.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Poisson-distributed count (Knuth for small means, normal approximation above 50). */
export function poisson(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(normal(random, mean, Math.sqrt(mean))));
  const limit = Math.exp(-mean);
  let count = 0;
  let product = random.next();
  while (product > limit) {
    count += 1;
    product *= random.next();
  }
  return count;
}

export interface ModelProfile {
  readonly version: string;
  /** Share of ML traffic served by this version (the shares sum to 1). */
  readonly share: number;
  /** Standard deviation of the prediction error in minutes (MAE ≈ 0.8 × sd). */
  readonly errorSdMinutes: number;
  /** Mean prediction error in minutes, predicted − actual (the metrics' `bias`): > 0 predicts longer delays than happen. */
  readonly biasMinutes: number;
  /** Median prediction time in ms (log-normal). */
  readonly latencyMedianMs: number;
  /** Mean confidence the model reports. */
  readonly confidenceMean: number;
  /** Share of ML requests for this version that fail (reported via /prediction-failures). */
  readonly failureRate: number;
}

/** The fleet: a stable version, the current one, and a canary (the one the incident hits). */
export const DEFAULT_MODELS: readonly ModelProfile[] = [
  { version: 'v1.4.2', share: 0.3, errorSdMinutes: 2.9, biasMinutes: 0.8, latencyMedianMs: 70, confidenceMean: 0.74, failureRate: 0.01 },
  { version: 'v2.0.1', share: 0.5, errorSdMinutes: 2.1, biasMinutes: 0, latencyMedianMs: 95, confidenceMean: 0.82, failureRate: 0.015 },
  { version: 'v2.1.0-canary', share: 0.2, errorSdMinutes: 1.9, biasMinutes: -0.5, latencyMedianMs: 120, confidenceMean: 0.84, failureRate: 0.02 },
];

export interface TrafficOptions {
  readonly models: readonly ModelProfile[];
  /** Version whose errors jump during the incident (default: the last one, the canary). */
  readonly incidentVersion: string;
  readonly incidentAfterSeconds: number;
  readonly incidentDurationSeconds: number;
  /** Bias added to the incident version's predictions during the incident (minutes). */
  readonly incidentErrorMinutes: number;
  /** Actual delay known this many seconds after the prediction (uniform in the range). */
  readonly actualLagSeconds: readonly [number, number];
  /** Share of rides that never get an actual (cancelled). */
  readonly unlabeledRate: number;
  readonly trafficPercentage: number;
  /** Prefix of request ids, so runs never collide and a rerun of the same batch is idempotent. */
  readonly runId: string;
  /** First booking id of the run. */
  readonly firstBookingId: number;
}

export function defaultTrafficOptions(overrides: Partial<TrafficOptions> = {}): TrafficOptions {
  const models = overrides.models ?? DEFAULT_MODELS;
  return {
    models,
    incidentVersion: models[models.length - 1]!.version,
    incidentAfterSeconds: 600,
    incidentDurationSeconds: 1200,
    incidentErrorMinutes: 10,
    actualLagSeconds: [20, 90],
    unlabeledRate: 0.04,
    trafficPercentage: 25,
    runId: 'demo',
    firstBookingId: 1,
    ...overrides,
  };
}

/** The body of POST /predictions for one prediction (docs/api.md). */
export interface PredictionBody {
  booking_id: number;
  driver_id: number;
  request_id: string;
  predicted_delay_minutes: number;
  confidence: number;
  risk_level: 'low' | 'medium' | 'high';
  contributing_factors: Record<string, number>;
  model_version: string;
  prediction_time_ms: number;
  feature_flag_enabled: boolean;
  traffic_percentage: number;
  created_at?: string;
}

export interface PendingActual {
  booking_id: number;
  actual_delay_minutes: number;
  /** Seconds since the start of the run at which the ride ends and the actual is sent. */
  dueAtSeconds: number;
}

export interface FailureBody {
  count: number;
  model_version: string;
  reason: string;
}

export interface TickOutput {
  predictions: PredictionBody[];
  actuals: PendingActual[];
  failures: FailureBody[];
}

export function isIncident(options: TrafficOptions, elapsedSeconds: number, version: string): boolean {
  return (
    version === options.incidentVersion &&
    elapsedSeconds >= options.incidentAfterSeconds &&
    elapsedSeconds < options.incidentAfterSeconds + options.incidentDurationSeconds
  );
}

export function riskLevel(predictedDelayMinutes: number): 'low' | 'medium' | 'high' {
  if (predictedDelayMinutes < 5) return 'low';
  if (predictedDelayMinutes < 12) return 'medium';
  return 'high';
}

function pickModel(random: Random, models: readonly ModelProfile[]): ModelProfile {
  let roll = random.next();
  for (const model of models) {
    roll -= model.share;
    if (roll < 0) return model;
  }
  return models[models.length - 1]!;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * Stateful generator over a seeded random source: `tick` returns the ML requests of one interval
 * (predictions with their future actuals, and failures).
 */
export class TrafficGenerator {
  private nextBookingId: number;
  private sequence = 0;

  constructor(
    private readonly options: TrafficOptions,
    private readonly random: Random,
  ) {
    this.nextBookingId = options.firstBookingId;
  }

  /** One ML request at `elapsedSeconds`: a prediction (and maybe its future actual), or a failure. */
  request(elapsedSeconds: number, createdAt?: Date): { prediction?: PredictionBody; actual?: PendingActual; failure?: FailureBody } {
    const { options, random } = this;
    const model = pickModel(random, options.models);
    if (random.next() < model.failureRate) {
      return { failure: { count: 1, model_version: model.version, reason: random.next() < 0.7 ? 'timeout' : 'feature_store_unavailable' } };
    }
    const bookingId = this.nextBookingId++;
    this.sequence += 1;

    // Rush hour, rain and driver distance drive the real delay (minutes, skewed to the right).
    const traffic = round(clamp(random.next() * 1.2, 0, 1), 2);
    const weather = round(random.next() < 0.2 ? 0.5 + random.next() * 0.5 : random.next() * 0.3, 2);
    const distanceKm = round(0.3 + random.next() * 4.5, 2);
    const actual = clamp(2 + traffic * 6 + weather * 5 + distanceKm * 1.2 + Math.abs(normal(random, 0, 2.5)), 0, 60);

    const incident = isIncident(options, elapsedSeconds, model.version);
    const error = normal(random, model.biasMinutes, model.errorSdMinutes) + (incident ? options.incidentErrorMinutes * (random.next() < 0.5 ? 1 : -1) * (0.85 + random.next() * 0.3) : 0);
    const predicted = round(Math.max(0, actual + error), 2);
    // Confidence drops a little for long, uncertain predictions; the model does not know about the incident.
    const confidence = round(clamp(normal(random, model.confidenceMean - (predicted > 15 ? 0.08 : 0), 0.06), 0.3, 0.99), 3);
    const latency = round(model.latencyMedianMs * Math.exp(normal(random, 0, 0.35)), 1);

    const prediction: PredictionBody = {
      booking_id: bookingId,
      driver_id: 1000 + Math.floor(random.next() * 400),
      request_id: `${options.runId}-${this.sequence}`,
      predicted_delay_minutes: predicted,
      confidence,
      risk_level: riskLevel(predicted),
      contributing_factors: { traffic, weather, driver_distance_km: distanceKm },
      model_version: model.version,
      prediction_time_ms: latency,
      feature_flag_enabled: true,
      traffic_percentage: options.trafficPercentage,
      ...(createdAt ? { created_at: createdAt.toISOString() } : {}),
    };
    if (random.next() < options.unlabeledRate) return { prediction };
    const [lagLow, lagHigh] = options.actualLagSeconds;
    return {
      prediction,
      actual: { booking_id: bookingId, actual_delay_minutes: round(actual, 2), dueAtSeconds: elapsedSeconds + lagLow + random.next() * (lagHigh - lagLow) },
    };
  }

  /** The ML requests of one interval of `intervalSeconds` at `ratePerSecond` (Poisson arrivals). */
  tick(elapsedSeconds: number, intervalSeconds: number, ratePerSecond: number): TickOutput {
    const output: TickOutput = { predictions: [], actuals: [], failures: [] };
    const count = poisson(this.random, ratePerSecond * intervalSeconds);
    for (let index = 0; index < count; index += 1) {
      const { prediction, actual, failure } = this.request(elapsedSeconds);
      if (prediction) output.predictions.push(prediction);
      if (actual) output.actuals.push(actual);
      if (failure) output.failures.push(failure);
    }
    output.failures = mergeFailures(output.failures);
    return output;
  }
}

/** One POST /prediction-failures per version and reason. */
export function mergeFailures(failures: readonly FailureBody[]): FailureBody[] {
  const merged = new Map<string, FailureBody>();
  for (const failure of failures) {
    const key = `${failure.model_version}\u0000${failure.reason}`;
    const existing = merged.get(key);
    if (existing) existing.count += failure.count;
    else merged.set(key, { ...failure });
  }
  return [...merged.values()];
}

/** `items` in consecutive slices of at most `size`, in order: one request each within the service's batch limit. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const slices: T[][] = [];
  for (let start = 0; start < items.length; start += size) slices.push(items.slice(start, start + size));
  return slices;
}

/**
 * The predictions of a tick in requests of at most `size`, each with the actuals of its own rides:
 * an actual is queued only once its prediction is stored, so a failed request loses both.
 */
export function predictionBatches(output: Pick<TickOutput, 'predictions' | 'actuals'>, size: number): Pick<TickOutput, 'predictions' | 'actuals'>[] {
  const actualOf = new Map(output.actuals.map((actual) => [actual.booking_id, actual]));
  return chunk(output.predictions, size).map((predictions) => ({
    predictions,
    actuals: predictions.flatMap((prediction) => actualOf.get(prediction.booking_id) ?? []),
  }));
}

/** Actuals whose ride has ended by `elapsedSeconds`, removed from `pending`. */
export function takeDue(pending: PendingActual[], elapsedSeconds: number): PendingActual[] {
  const due: PendingActual[] = [];
  for (let index = pending.length - 1; index >= 0; index -= 1) {
    if (pending[index]!.dueAtSeconds <= elapsedSeconds) due.push(...pending.splice(index, 1));
  }
  return due.reverse();
}
