import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isUsableToken, TOKEN_RULE, type Config } from '../config.js';

export interface Tokens {
  ingest: string;
  read: string;
  /** Absent: /metrics is open (Prometheus convention); set MLMON_METRICS_TOKEN to protect it. */
  metrics: string | undefined;
}

export type TokenName = 'ingest' | 'read';
const TOKEN_NAMES: readonly TokenName[] = ['ingest', 'read'];

export interface ResolvedTokens {
  tokens: Tokens;
  /** Set when a token comes from (or was just written to) the data directory. */
  file?: string;
  /** The tokens generated on this start (the caller prints them once), and those read from the file. */
  generated: TokenName[];
  fromFile: TokenName[];
  /** Generated tokens removed from the file because the environment now sets their role. */
  dropped: TokenName[];
}

/** Only the generated tokens: one the environment sets is the operator's secret, kept where they keep it. */
type TokenFile = Partial<Record<'ingest_token' | 'read_token', string>>;

const FILE_FIELD = { ingest: 'ingest_token', read: 'read_token' } as const;

const newToken = () => randomBytes(24).toString('hex');

/** Where the service keeps the tokens it generated. */
export const tokenFileOf = (dataDir: string) => path.resolve(dataDir, 'tokens.json');

function parseTokenFile(text: string, file: string): TokenFile {
  let stored: unknown = null;
  try {
    stored = JSON.parse(text);
  } catch {
    // reported below, with the fix
  }
  const fields = Object.values(FILE_FIELD);
  const record = stored as Record<string, unknown> | null;
  const isTokenFile =
    typeof record === 'object' && record !== null && !Array.isArray(record) &&
    fields.some((name) => name in record) && fields.every((name) => !(name in record) || typeof record[name] === 'string');
  if (!isTokenFile) {
    throw new Error(`${file} is not a token file (expected ingest_token and/or read_token); remove it to generate new tokens`);
  }
  for (const name of fields) {
    const token = record[name];
    if (typeof token === 'string' && !isUsableToken(token)) throw new Error(`${file}: ${name} must be ${TOKEN_RULE}; remove the file to generate new tokens`);
  }
  return record as TokenFile;
}

/**
 * The ingest token the service generated into `<data dir>/tokens.json`, for clients on the same
 * machine (the CLI, the demo); null when the service never generated one there.
 */
export async function readStoredIngestToken(dataDir: string): Promise<string | null> {
  const file = tokenFileOf(dataDir);
  if (!existsSync(file)) return null;
  return parseTokenFile(await readFile(file, 'utf8'), file).ingest_token ?? null;
}

/** Written whole or not at all (a crash mid-write must not lose a token Grafana uses), mode 0600. */
async function writeTokenFile(file: string, stored: TokenFile): Promise<void> {
  if (Object.keys(stored).length === 0) {
    await rm(file, { force: true });
    return;
  }
  await mkdir(path.dirname(file), { recursive: true });
  // A fresh name, created exclusively: an existing file (or a symlink planted there) is never written through.
  const partial = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  await writeFile(partial, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  await rename(partial, file);
}

/**
 * The API never runs anonymous. Tokens from the environment win; a missing one is generated on
 * the first start that needs it and kept in `<data dir>/tokens.json` (mode 0600), so a first
 * `npm start` works with nothing set and later starts reuse it. A generated token that the
 * environment now overrides is removed from the file: it no longer works, and the CLI and the
 * demo would pick it up.
 */
export async function resolveTokens(config: Config): Promise<ResolvedTokens> {
  const configured: Record<TokenName, string | undefined> = { ingest: config.ingestToken, read: config.readToken };
  const file = tokenFileOf(config.dataDir);
  const missing = TOKEN_NAMES.filter((name) => configured[name] === undefined);
  const exists = existsSync(file);
  if (missing.length === 0 && !exists) {
    return { tokens: { ingest: configured.ingest!, read: configured.read!, metrics: config.metricsToken }, generated: [], fromFile: [], dropped: [] };
  }
  const stored: TokenFile = exists ? parseTokenFile(await readFile(file, 'utf8'), file) : {};
  const dropped = TOKEN_NAMES.filter((name) => configured[name] !== undefined && stored[FILE_FIELD[name]] !== undefined);
  for (const name of dropped) delete stored[FILE_FIELD[name]];
  const generated = missing.filter((name) => stored[FILE_FIELD[name]] === undefined);
  for (const name of generated) stored[FILE_FIELD[name]] = newToken();
  if (generated.length > 0) await writeTokenFile(file, stored);
  else if (dropped.length > 0) {
    // Only tidying: where the data directory is read-only (DATABASE_URL set), the stale token stays.
    await writeTokenFile(file, stored).catch(() => dropped.splice(0));
  }
  const effective = (name: TokenName) => configured[name] ?? stored[FILE_FIELD[name]]!;
  return {
    tokens: { ingest: effective('ingest'), read: effective('read'), metrics: config.metricsToken },
    file,
    generated,
    fromFile: missing.filter((name) => !generated.includes(name)),
    dropped,
  };
}
