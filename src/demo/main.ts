#!/usr/bin/env node
/**
 * Demo traffic generator: `npm run demo -- --help`. Feeds a running mlmon over HTTP with the
 * traffic of traffic.ts (predictions, actuals arriving later, ML failures, the feature flag at
 * 25 %, an incident episode) for a bounded time, then sends the actuals still pending and stops.
 */
import { randomBytes } from 'node:crypto';
import { runIfEntryPoint } from '../cli/entry-point.js';
import { API_PREFIX } from '../expose/api/options.js';
import { MAX_BATCH } from '../validate/prediction.js';
import { parseDemoArguments, readIngestToken, USAGE, type DemoOptions } from './options.js';
import { chunk, createRandom, defaultTrafficOptions, predictionBatches, takeDue, TrafficGenerator, type PendingActual } from './traffic.js';

const MAX_ATTEMPTS = 4;

export interface DemoSummary {
  predictions: number;
  duplicates: number;
  actuals: number;
  /** Actuals still pending when the run ended (rides cut short), sent at once before exiting. */
  actualsPending: number;
  failures: number;
  requestErrors: number;
  incidentVersion: string;
  modelVersions: string[];
  seconds: number;
}

class FatalHttpError extends Error {}

async function send(options: DemoOptions, token: string, method: string, route: string, body: unknown): Promise<unknown> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    try {
      const response = await fetch(`${options.url}${API_PREFIX}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      if (response.ok) return text ? (JSON.parse(text) as unknown) : undefined;
      if (response.status === 401 || response.status === 403) throw new FatalHttpError(`${method} ${route}: ${response.status} (is the ingest token right?) ${text}`);
      if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new FatalHttpError(`${method} ${route}: ${response.status} ${text}`);
      lastError = new Error(`${method} ${route}: ${response.status} ${text}`);
    } catch (error) {
      if (error instanceof FatalHttpError) throw error;
      // fetch says only "fetch failed": name the service it could not reach, and why.
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      lastError = new Error(`${method} ${options.url}${API_PREFIX}${route}: ${error instanceof Error ? error.message : String(error)}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

// The listener goes when the timer fires: the stop signal outlives every tick, and one listener
// left per tick would pile up (MaxListenersExceededWarning after 10).
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake);
  });

export async function runDemo(options: DemoOptions, token: string, log: (line: string) => void, stop: AbortSignal = new AbortController().signal): Promise<DemoSummary> {
  const traffic = defaultTrafficOptions({
    incidentAfterSeconds: options.incidentAfterSeconds,
    incidentDurationSeconds: options.incidentDurationSeconds,
    actualLagSeconds: options.actualLagSeconds,
    runId: `demo-${randomBytes(4).toString('hex')}`,
    // Booking ids unique across runs without asking the service: seconds since 2024 × 1000.
    firstBookingId: Math.floor((Date.now() - Date.UTC(2024, 0, 1)) / 1000) * 1000,
  });
  const generator = new TrafficGenerator(traffic, createRandom(options.seed));
  const summary: DemoSummary = {
    predictions: 0,
    duplicates: 0,
    actuals: 0,
    actualsPending: 0,
    failures: 0,
    requestErrors: 0,
    incidentVersion: traffic.incidentVersion,
    modelVersions: traffic.models.map((model) => model.version),
    seconds: 0,
  };

  await send(options, token, 'PUT', '/feature-flags', { ml_enabled: true, ml_traffic_percentage: traffic.trafficPercentage });
  log(
    `demo: ${options.rate}/s for ${options.durationSeconds}s to ${options.url}; versions ${summary.modelVersions.join(', ')}; ` +
      `incident on ${traffic.incidentVersion} from ${options.incidentAfterSeconds}s for ${options.incidentDurationSeconds}s; seed ${options.seed}`,
  );

  const pending: PendingActual[] = [];
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  let lastReport = 0;
  let incidentAnnounced = false;
  // The service takes at most MAX_BATCH items per request (a fast run's final actuals are more).
  const deliver = async (due: PendingActual[]) => {
    for (const batch of chunk(due, MAX_BATCH)) {
      const result = (await send(options, token, 'POST', '/actuals', batch.map(({ booking_id, actual_delay_minutes }) => ({ booking_id, actual_delay_minutes })))) as { updated?: number };
      summary.actuals += result?.updated ?? 0;
    }
  };

  for (let tickStart = 0; tickStart < options.durationSeconds && !stop.aborted; tickStart += options.tickSeconds) {
    const interval = Math.min(options.tickSeconds, options.durationSeconds - tickStart);
    const now = elapsed();
    if (!incidentAnnounced && now >= options.incidentAfterSeconds) {
      incidentAnnounced = true;
      log(`demo: incident starts: ${traffic.incidentVersion} predictions now ~${traffic.incidentErrorMinutes} min off`);
    }
    const output = generator.tick(now, interval, options.rate);
    try {
      for (const batch of predictionBatches(output, MAX_BATCH)) {
        const result = (await send(options, token, 'POST', '/predictions', batch.predictions)) as { accepted?: number; duplicates?: number };
        summary.predictions += result?.accepted ?? 0;
        summary.duplicates += result?.duplicates ?? 0;
        pending.push(...batch.actuals);
      }
      for (const failure of output.failures) {
        await send(options, token, 'POST', '/prediction-failures', failure);
        summary.failures += failure.count;
      }
      await deliver(takeDue(pending, elapsed()));
    } catch (error) {
      if (error instanceof FatalHttpError) throw error;
      summary.requestErrors += 1;
      log(`demo: request failed, continuing: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (now - lastReport >= 30) {
      lastReport = now;
      log(`demo: t=${Math.round(now)}s predictions=${summary.predictions} actuals=${summary.actuals} failures=${summary.failures} pending=${pending.length}`);
    }
    const nextTick = started + (tickStart + options.tickSeconds) * 1000;
    await sleep(Math.max(0, nextTick - Date.now()), stop);
  }
  // The run is over: the rides still under way end now (their actuals go out at once).
  summary.actualsPending = pending.length;
  await deliver(pending.splice(0));
  summary.seconds = Math.round(elapsed() * 10) / 10;
  return summary;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseDemoArguments(argv, process.env);
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { options } = parsed;
  const token = await readIngestToken(process.env, options.dataDir);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summary = await runDemo(options, token, options.quiet ? () => {} : (line) => console.error(line), controller.signal);
  console.log(JSON.stringify(summary));
  return 0;
}

runIfEntryPoint(import.meta.url, 'demo', main);
