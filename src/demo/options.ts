/**
 * Command line and environment of the demo traffic generator. Pure except `readIngestToken`, which
 * reads `<data dir>/tokens.json` (the file the service writes on its first start).
 */
import { UsageError } from '../cli/entry-point.js';
import { isPort, plainNumber } from '../config.js';
import { ingestTokenOf } from '../cli/service-client.js';

export interface DemoOptions {
  url: string;
  /** Predictions (ML requests) per second. */
  rate: number;
  durationSeconds: number;
  incidentAfterSeconds: number;
  incidentDurationSeconds: number;
  actualLagSeconds: [number, number];
  tickSeconds: number;
  seed: number;
  dataDir: string;
  quiet: boolean;
}

export const USAGE = `Usage: npm run demo -- [options]   (node dist/demo/main.js)

Sends realistic predictions, actuals and ML failures to a running mlmon, with an incident episode
(one model version ~10 min off) so alerts and anomalies show. Stops by itself after --duration.

  --url URL                 the service (env MLMON_URL; default http://127.0.0.1 on PORT, 8080 unless set, as npm start)
  --rate N                  ML requests per second, 0 < N <= 500 (env MLMON_DEMO_RATE; default 2)
  --duration D              how long to run, e.g. 90s, 30m, 2h; at most 7d (env MLMON_DEMO_DURATION; default 1h)
  --incident-after D        start of the incident episode (env MLMON_DEMO_INCIDENT_AFTER; default 10m)
  --incident-duration D     length of the incident episode (default 20m)
  --actual-lag MIN,MAX      seconds from prediction to actual (default 20,90)
  --tick D                  send interval (default 1s)
  --seed N                  random seed (default: from the clock)
  --data-dir DIR            where tokens.json is read when MLMON_INGEST_TOKEN is unset (env MLMON_DATA_DIR; default ./.data)
  --quiet                   no progress lines

The ingest token comes from MLMON_INGEST_TOKEN, else from <data dir>/tokens.json.
Durations are seconds when given without a unit.`;

const MAX_DURATION_SECONDS = 7 * 24 * 3600;

/** Seconds from "90", "90s", "1.5m", "2h", "1d". */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${what} must be a duration like 90s, 10m or 1h (got ${JSON.stringify(text)})`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function parseNumber(text: string, what: string, low: number, high: number): number {
  const value = plainNumber(text);
  if (value === undefined || value <= low || value > high) {
    throw new UsageError(`${what} must be a number > ${low} and <= ${high} (got ${JSON.stringify(text)})`);
  }
  return value;
}

/** PORT as the service reads it, so that a plain `npm run demo` finds a service started with it. */
function parsePort(text: string): number {
  const port = plainNumber(text);
  if (port === undefined || !isPort(port)) throw new UsageError(`PORT must be an integer from 1 to 65535 (got ${JSON.stringify(text)})`);
  return port;
}

export type ParseResult = { help: true } | { help: false; options: DemoOptions };

export function parseDemoArguments(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, now = Date.now()): ParseResult {
  const options: DemoOptions = {
    url: env.MLMON_URL ?? `http://127.0.0.1:${env.PORT ? parsePort(env.PORT) : 8080}`,
    rate: env.MLMON_DEMO_RATE ? parseNumber(env.MLMON_DEMO_RATE, 'MLMON_DEMO_RATE', 0, 500) : 2,
    durationSeconds: env.MLMON_DEMO_DURATION ? parseDuration(env.MLMON_DEMO_DURATION, 'MLMON_DEMO_DURATION') : 3600,
    incidentAfterSeconds: env.MLMON_DEMO_INCIDENT_AFTER ? parseDuration(env.MLMON_DEMO_INCIDENT_AFTER, 'MLMON_DEMO_INCIDENT_AFTER') : 600,
    incidentDurationSeconds: 1200,
    actualLagSeconds: [20, 90],
    tickSeconds: 1,
    seed: now % 2147483647,
    dataDir: env.MLMON_DATA_DIR ?? './.data',
    quiet: false,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const [flag, inline] = argument.startsWith('--') && argument.includes('=') ? [argument.slice(0, argument.indexOf('=')), argument.slice(argument.indexOf('=') + 1)] : [argument, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[index + 1];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      index += 1;
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { help: true };
      case '--url':
        options.url = value();
        break;
      case '--rate':
        options.rate = parseNumber(value(), '--rate', 0, 500);
        break;
      case '--duration':
        options.durationSeconds = parseDuration(value(), '--duration');
        break;
      case '--incident-after':
        options.incidentAfterSeconds = parseDuration(value(), '--incident-after');
        break;
      case '--incident-duration':
        options.incidentDurationSeconds = parseDuration(value(), '--incident-duration');
        break;
      case '--actual-lag': {
        const text = value();
        const parts = text.split(',').map((part) => parseDuration(part, '--actual-lag'));
        if (parts.length !== 2 || parts[0]! > parts[1]!) throw new UsageError(`--actual-lag must be MIN,MAX with MIN <= MAX (got ${JSON.stringify(text)})`);
        options.actualLagSeconds = [parts[0]!, parts[1]!];
        break;
      }
      case '--tick':
        options.tickSeconds = parseDuration(value(), '--tick');
        break;
      case '--seed':
        options.seed = Math.floor(parseNumber(value(), '--seed', -1, 2147483647));
        break;
      case '--data-dir':
        options.dataDir = value();
        break;
      case '--quiet':
        options.quiet = true;
        break;
      default:
        throw new UsageError(`unknown argument ${argument}\n\n${USAGE}`);
    }
  }
  if (options.durationSeconds <= 0 || options.durationSeconds > MAX_DURATION_SECONDS) throw new UsageError('--duration must be > 0 and at most 7d');
  if (options.tickSeconds < 0.05 || options.tickSeconds > 60) throw new UsageError('--tick must be between 50ms and 60s');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new UsageError(`--url must be an http(s) URL (got ${JSON.stringify(options.url)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL (got ${JSON.stringify(options.url)})`);
  options.url = options.url.replace(/\/+$/, '');
  return { help: false, options };
}

/** MLMON_INGEST_TOKEN, else `ingest_token` of <data dir>/tokens.json. */
export function readIngestToken(env: Readonly<Record<string, string | undefined>>, dataDir: string): Promise<string> {
  return ingestTokenOf(env.MLMON_INGEST_TOKEN, dataDir, 'set MLMON_INGEST_TOKEN, or point --data-dir (MLMON_DATA_DIR) at');
}
