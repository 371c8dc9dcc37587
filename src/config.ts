/** Service configuration, from the environment only (secrets never come from files in the repo). */
export interface Config {
  host: string;
  port: number;
  /** Absent: start an embedded PostgreSQL in `dataDir`. */
  databaseUrl: string | undefined;
  /**
   * Where migrations run (at start-up and in `mlmon migrate`): a direct connection when
   * DATABASE_URL goes through a transaction pooler, which cannot hold the migrations' session lock.
   */
  migrationDatabaseUrl: string | undefined;
  dataDir: string;
  ingestToken: string | undefined;
  readToken: string | undefined;
  metricsToken: string | undefined;
  accuracyToleranceMinutes: number;
  anomalyThresholdMinutes: number;
  /** How long /metrics may serve gauge values before reading the database again. */
  metricsCacheSeconds: number;
  maxModelVersions: number;
  /** A request (headers and body) must arrive within this; slow clients are cut off. */
  requestTimeoutSeconds: number;
  /** A read (API or gauge refresh) running longer is cancelled by PostgreSQL. */
  readTimeoutSeconds: number;
  logLevel: string;
  /** Log every request and response at info level (costs about half the ingest rate; see BENCHMARKS.md). */
  logRequests: boolean;
  /** Raw predictions older than this are dropped (whole months); rollups are kept. Absent: keep all. */
  retentionDays: number | undefined;
  /** Browser origins allowed to call the API directly; none by default (Grafana calls server-side). */
  corsOrigins: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MIN_TOKEN_LENGTH = 16;
export const TOKEN_RULE = `at least ${MIN_TOKEN_LENGTH} characters without spaces`;
export const isUsableToken = (value: string) => value.length >= MIN_TOKEN_LENGTH && !/\s/.test(value);

/**
 * Whether the driver (postgres.js) can parse the URL, read as it reads it: a host list
 * (`h1:5432,h2:5432`) stands for its first host. Otherwise it fails at start-up with a bare
 * "Invalid URL" that names nothing.
 */
function parsesAsDatabaseUrl(url: string): boolean {
  try {
    const authority = url.slice(url.indexOf('://') + 3).split(/[?/]/)[0]!;
    const hosts = decodeURIComponent(authority.slice(authority.indexOf('@') + 1));
    const parsed = new URL(url.replace(hosts, hosts.split(',')[0]!));
    // The driver decodes both: a raw % (`100%sure`) throws "URI malformed" there.
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
    return true;
  } catch {
    return false;
  }
}

/**
 * DATABASE_URL as a message may show it, the password masked. The driver (WHATWG URL) ends the user
 * information at the last @ of the authority, so a raw @ may be in the user (`user@server`) as in
 * the password, and a password may hold a raw / ? or # that ends the authority early: everything up
 * to the last @ of the URL is taken as user information (an @ in the query string then masks more
 * than the password, never less). A `password=` query parameter (libpq's) is masked too.
 */
export function withoutPassword(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length).replace(/([?&]password=)[^&#]*/gi, '$1***');
  const at = rest.lastIndexOf('@');
  if (at < 0) return scheme + rest;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  return scheme + (colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`) + rest.slice(at);
}

/**
 * A number written as a plain decimal (`8080`, `4.5`, `.5`), else undefined: Number() also reads
 * `0x50` and `1e3`, which nobody means as a port or a count.
 */
export function plainNumber(text: string): number | undefined {
  const trimmed = text.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(trimmed) ? Number(trimmed) : undefined;
}

export const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const number = (name: string, fallback: number, check: (n: number) => boolean, rule: string) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = plainNumber(raw);
    if (value === undefined || !check(value)) {
      problems.push(`${name}=${JSON.stringify(raw)} must be ${rule}`);
      return fallback;
    }
    return value;
  };
  const flag = (name: string) => {
    const raw = text(name);
    if (raw === undefined) return false;
    if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name}=${JSON.stringify(raw)} must be true or false`);
    return false;
  };
  const token = (name: string) => {
    const value = text(name);
    if (value !== undefined && !isUsableToken(value)) {
      problems.push(`${name} must be ${TOKEN_RULE} (e.g. openssl rand -hex 24)`);
    }
    return value;
  };
  /** The URL in `name` when it is one the driver can use (else its problem is recorded). */
  const databaseUrlOf = (name: string) => {
    const url = text(name);
    let problem: string | undefined;
    if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
      problem = `${name} must be a postgres:// or postgresql:// URL`;
    } else if (url !== undefined && !parsesAsDatabaseUrl(url)) {
      // Never echoed: it holds the password.
      problem = `${name} is not a valid URL (percent-encode special characters in the user and password, e.g. @ as %40)`;
    } else if (url !== undefined && /[@,]\[/.test(url.split(/[/?]/, 3)[2] ?? '')) {
      // postgres.js splits the host from the port at the first colon: it would look up a host "[".
      problem = `${name}: the driver cannot read a bracketed IPv6 address; use a host name that resolves to it`;
    }
    if (problem !== undefined) problems.push(problem);
    return problem === undefined ? url : undefined;
  };
  const databaseUrl = databaseUrlOf('DATABASE_URL');
  const migrationDatabaseUrl = databaseUrlOf('MLMON_MIGRATION_DATABASE_URL');
  if (migrationDatabaseUrl !== undefined && text('DATABASE_URL') === undefined) {
    problems.push('MLMON_MIGRATION_DATABASE_URL needs DATABASE_URL (the embedded database migrates itself)');
  }
  const logLevel = text('LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL=${JSON.stringify(text('LOG_LEVEL'))} must be one of ${LOG_LEVELS.join(', ')}`);
  const config: Config = {
    host: text('HOST') ?? '0.0.0.0',
    // Not 0: the OS would pick a port nobody (Prometheus, the load balancer) knows.
    port: number('PORT', 8080, isPort, 'an integer from 1 to 65535'),
    databaseUrl,
    migrationDatabaseUrl,
    dataDir: text('MLMON_DATA_DIR') ?? './.data',
    ingestToken: token('MLMON_INGEST_TOKEN'),
    readToken: token('MLMON_READ_TOKEN'),
    metricsToken: token('MLMON_METRICS_TOKEN'),
    accuracyToleranceMinutes: number('MLMON_ACCURACY_TOLERANCE_MINUTES', 3, (n) => n > 0, 'a number of minutes > 0'),
    anomalyThresholdMinutes: number('MLMON_ANOMALY_THRESHOLD_MINUTES', 5, (n) => n > 0, 'a number of minutes > 0'),
    metricsCacheSeconds: number('MLMON_METRICS_CACHE_SECONDS', 5, (n) => n >= 0 && n <= 300, 'a number of seconds from 0 to 300'),
    maxModelVersions: number('MLMON_MAX_MODEL_VERSIONS', 50, (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'a whole number from 1 to 1000'),
    requestTimeoutSeconds: number('MLMON_REQUEST_TIMEOUT_SECONDS', 30, (n) => Number.isInteger(n) && n >= 1 && n <= 600, 'a whole number of seconds from 1 to 600'),
    readTimeoutSeconds: number('MLMON_READ_TIMEOUT_SECONDS', 15, (n) => n > 0 && n <= 600, 'a number of seconds > 0 and <= 600'),
    logLevel,
    logRequests: flag('MLMON_LOG_REQUESTS'),
    retentionDays: text('MLMON_RETENTION_DAYS') === undefined
      ? undefined
      : number('MLMON_RETENTION_DAYS', 0, (n) => Number.isInteger(n) && n >= 1, 'a whole number of days >= 1'),
    corsOrigins: (text('MLMON_CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  };
  for (const origin of config.corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`MLMON_CORS_ORIGINS: "${origin}" must be an origin like https://grafana.example.com (no path)`);
  }
  if (config.ingestToken !== undefined && config.ingestToken === config.readToken) {
    problems.push('MLMON_READ_TOKEN must differ from MLMON_INGEST_TOKEN (the read token must not allow writes)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
