/** The demo's pure traffic model: realistic, deterministic, and the incident is where it should be. */
import {
  chunk,
  createRandom,
  DEFAULT_MODELS,
  defaultTrafficOptions,
  isIncident,
  mergeFailures,
  poisson,
  predictionBatches,
  riskLevel,
  takeDue,
  TrafficGenerator,
  type PendingActual,
  type PredictionBody,
} from '../../src/demo/traffic.js';

interface Labelled {
  prediction: PredictionBody;
  actual?: PendingActual;
}

function sample(count: number, elapsedSeconds: number, seed = 7, overrides = {}): { labelled: Labelled[]; failures: number } {
  const generator = new TrafficGenerator(defaultTrafficOptions({ incidentAfterSeconds: 100, incidentDurationSeconds: 100, ...overrides }), createRandom(seed));
  const labelled: Labelled[] = [];
  let failures = 0;
  for (let index = 0; index < count; index += 1) {
    const { prediction, actual, failure } = generator.request(elapsedSeconds);
    if (failure) failures += 1;
    if (prediction) labelled.push({ prediction, actual });
  }
  return { labelled, failures };
}

/** The mean of `of(predicted − actual)` per version, over the labelled predictions. */
function meanErrorByVersion(labelled: Labelled[], of: (error: number) => number): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const { prediction, actual } of labelled) {
    if (!actual) continue;
    const entry = sums.get(prediction.model_version) ?? { sum: 0, n: 0 };
    entry.sum += of(prediction.predicted_delay_minutes - actual.actual_delay_minutes);
    entry.n += 1;
    sums.set(prediction.model_version, entry);
  }
  return new Map([...sums].map(([version, { sum, n }]) => [version, sum / n]));
}

const maeByVersion = (labelled: Labelled[]) => meanErrorByVersion(labelled, Math.abs);

describe('demo traffic', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(sample(50, 0, 1)).toEqual(sample(50, 0, 1));
    expect(sample(50, 0, 1)).not.toEqual(sample(50, 0, 2));
  });

  it('produces valid prediction bodies (API ranges, risk from the delay, flag at 25 %)', () => {
    const { labelled } = sample(2000, 0);
    const versions = new Set(DEFAULT_MODELS.map((model) => model.version));
    const ids = new Set<string>();
    for (const { prediction, actual } of labelled) {
      expect(Number.isInteger(prediction.booking_id) && prediction.booking_id >= 0).toBe(true);
      expect(prediction.confidence).toBeGreaterThanOrEqual(0.3);
      expect(prediction.confidence).toBeLessThanOrEqual(0.99);
      expect(prediction.predicted_delay_minutes).toBeGreaterThanOrEqual(0);
      expect(prediction.prediction_time_ms).toBeGreaterThan(0);
      expect(prediction.risk_level).toBe(riskLevel(prediction.predicted_delay_minutes));
      expect(versions).toContain(prediction.model_version);
      expect(prediction).toMatchObject({ feature_flag_enabled: true, traffic_percentage: 25 });
      expect(prediction.request_id.length).toBeLessThanOrEqual(100);
      ids.add(prediction.request_id);
      if (actual) {
        expect(actual.booking_id).toBe(prediction.booking_id);
        expect(actual.dueAtSeconds).toBeGreaterThanOrEqual(20);
        expect(actual.dueAtSeconds).toBeLessThanOrEqual(90);
      }
    }
    expect(ids.size).toBe(labelled.length);
    // Every version and every risk level shows up.
    expect(new Set(labelled.map((l) => l.prediction.model_version)).size).toBe(DEFAULT_MODELS.length);
    expect(new Set(labelled.map((l) => l.prediction.risk_level))).toEqual(new Set(['low', 'medium', 'high']));
  });

  it('healthy versions meet the seed targets (MAE < 3 min), latency around 100 ms, a few unlabelled rides and failures', () => {
    const { labelled, failures } = sample(6000, 0);
    for (const [version, mae] of maeByVersion(labelled)) {
      expect([version, mae < 3 && mae > 1]).toEqual([version, true]);
    }
    const latencies = labelled.map((l) => l.prediction.prediction_time_ms).sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)]!;
    expect(median).toBeGreaterThan(60);
    expect(median).toBeLessThan(150);
    const unlabelled = labelled.filter((l) => !l.actual).length / labelled.length;
    expect(unlabelled).toBeGreaterThan(0.01);
    expect(unlabelled).toBeLessThan(0.1);
    expect(failures / 6000).toBeGreaterThan(0.005);
    expect(failures / 6000).toBeLessThan(0.04);
  });

  it('each version errs with its own bias: the old one overestimates delays, the canary underestimates them', () => {
    const bias = meanErrorByVersion(sample(20_000, 0).labelled, (error) => error);
    for (const model of DEFAULT_MODELS) {
      // 0.15 min is about 4 standard errors or more at these sample sizes and error spreads.
      expect([model.version, Math.abs(bias.get(model.version)! - model.biasMinutes) < 0.15]).toEqual([model.version, true]);
    }
  });

  it('during the incident only the incident version is ~10 min off, and anomalies (> 5 min) follow', () => {
    const options = defaultTrafficOptions({ incidentAfterSeconds: 100, incidentDurationSeconds: 100 });
    const during = maeByVersion(sample(6000, 150).labelled);
    const after = maeByVersion(sample(6000, 200).labelled);
    for (const [version, mae] of during) {
      if (version === options.incidentVersion) {
        expect(mae).toBeGreaterThan(8);
        expect(mae).toBeLessThan(12);
      } else expect(mae).toBeLessThan(3);
    }
    expect(after.get(options.incidentVersion)).toBeLessThan(3);
    expect(isIncident(options, 99.9, options.incidentVersion)).toBe(false);
    expect(isIncident(options, 100, options.incidentVersion)).toBe(true);
    expect(isIncident(options, 150, DEFAULT_MODELS[0]!.version)).toBe(false);
    expect(isIncident(options, 200, options.incidentVersion)).toBe(false);
  });

  it('tick: Poisson arrivals at the requested rate, failures merged per version and reason', () => {
    const generator = new TrafficGenerator(defaultTrafficOptions(), createRandom(3));
    let requests = 0;
    for (let second = 0; second < 200; second += 1) {
      const output = generator.tick(second, 1, 5);
      requests += output.predictions.length + output.failures.reduce((sum, failure) => sum + failure.count, 0);
      const keys = output.failures.map((failure) => `${failure.model_version}/${failure.reason}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect(requests / 200).toBeGreaterThan(4.5);
    expect(requests / 200).toBeLessThan(5.5);
    const random = createRandom(9);
    const mean = Array.from({ length: 4000 }, () => poisson(random, 0.7)).reduce((a, b) => a + b, 0) / 4000;
    expect(Math.abs(mean - 0.7)).toBeLessThan(0.06);
    expect(poisson(random, 0)).toBe(0);
    expect(mergeFailures([{ count: 1, model_version: 'a', reason: 'x' }, { count: 2, model_version: 'a', reason: 'x' }, { count: 1, model_version: 'b', reason: 'x' }])).toEqual([
      { count: 3, model_version: 'a', reason: 'x' },
      { count: 1, model_version: 'b', reason: 'x' },
    ]);
  });

  it('takeDue removes exactly the actuals due, in order', () => {
    const pending: PendingActual[] = [
      { booking_id: 1, actual_delay_minutes: 1, dueAtSeconds: 10 },
      { booking_id: 2, actual_delay_minutes: 2, dueAtSeconds: 30 },
      { booking_id: 3, actual_delay_minutes: 3, dueAtSeconds: 20 },
    ];
    expect(takeDue(pending, 20).map((actual) => actual.booking_id)).toEqual([1, 3]);
    expect(pending.map((actual) => actual.booking_id)).toEqual([2]);
    expect(takeDue(pending, 29)).toEqual([]);
  });

  it('chunk: consecutive slices of at most the size, in order, none empty', () => {
    const items = Array.from({ length: 7 }, (_, index) => index);
    expect(chunk(items, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(chunk(items, 7)).toEqual([items]);
    expect(chunk(items, 10)).toEqual([items]);
    expect(chunk([], 3)).toEqual([]);
  });

  it('predictionBatches: requests of at most the size, each with the actuals of its own rides', () => {
    const output = new TrafficGenerator(defaultTrafficOptions(), createRandom(5)).tick(0, 1, 250);
    expect(output.actuals.length).toBeLessThan(output.predictions.length); // some rides are never labelled
    const batches = predictionBatches(output, 60);
    expect(batches.length).toBe(Math.ceil(output.predictions.length / 60));
    for (const batch of batches) {
      expect(batch.predictions.length).toBeLessThanOrEqual(60);
      const booked = new Set(batch.predictions.map((prediction) => prediction.booking_id));
      expect(batch.actuals.every((actual) => booked.has(actual.booking_id))).toBe(true);
    }
    expect(batches.flatMap((batch) => batch.predictions)).toEqual(output.predictions);
    expect(batches.flatMap((batch) => batch.actuals)).toEqual(output.actuals);
    expect(predictionBatches({ predictions: [], actuals: [] }, 60)).toEqual([]);
  });
});
