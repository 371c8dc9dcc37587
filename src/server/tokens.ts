import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isUsableToken, TOKEN_RULE, type Config } from '../config.js';

export interface Tokens {
  ingest: string;
  read: string;
  /** Absent: /metrics is open (Prometheus convention); set MLMON_METRICS_TOKEN to protect it. */
  metrics: string | undefined;
}

export interface ResolvedTokens {
  tokens: Tokens;
  /** Set when tokens come from (or were just written to) the data directory. */
  file?: string;
  /** True on the first start: the caller prints them once. */
  generated: boolean;
}

interface TokenFile {
  ingest_token: string;
  read_token: string;
}

const newToken = () => randomBytes(24).toString('hex');

/** Where the service keeps the tokens it generated. */
export const tokenFileOf = (dataDir: string) => path.resolve(dataDir, 'tokens.json');

function parseTokenFile(text: string, file: string): TokenFile {
  let stored: Partial<TokenFile> | null = null;
  try {
    stored = JSON.parse(text) as Partial<TokenFile> | null;
  } catch {
    // reported below, with the fix
  }
  if (typeof stored?.ingest_token !== 'string' || typeof stored.read_token !== 'string') {
    throw new Error(`${file} is not a token file (expected ingest_token and read_token); remove it to generate new tokens`);
  }
  for (const name of ['ingest_token', 'read_token'] as const) {
    if (!isUsableToken(stored[name]!)) throw new Error(`${file}: ${name} must be ${TOKEN_RULE}; remove the file to generate new tokens`);
  }
  return stored as TokenFile;
}

/**
 * The ingest token the service generated into `<data dir>/tokens.json`, for clients on the same
 * machine (the CLI, the demo); null when the service never wrote that file.
 */
export async function readStoredIngestToken(dataDir: string): Promise<string | null> {
  const file = tokenFileOf(dataDir);
  if (!existsSync(file)) return null;
  return parseTokenFile(await readFile(file, 'utf8'), file).ingest_token;
}

/**
 * The API never runs anonymous. Tokens from the environment win; for what is missing, tokens are
 * generated on the first start and kept in `<data dir>/tokens.json` (mode 0600), so a first
 * `npm start` works with nothing set and later starts reuse them.
 */
export async function resolveTokens(config: Config): Promise<ResolvedTokens> {
  if (config.ingestToken && config.readToken) {
    return { tokens: { ingest: config.ingestToken, read: config.readToken, metrics: config.metricsToken }, generated: false };
  }
  const file = tokenFileOf(config.dataDir);
  let stored: TokenFile;
  let generated = false;
  if (existsSync(file)) {
    stored = parseTokenFile(await readFile(file, 'utf8'), file);
  } else {
    stored = { ingest_token: newToken(), read_token: newToken() };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
    generated = true;
  }
  return {
    tokens: {
      ingest: config.ingestToken ?? stored.ingest_token,
      read: config.readToken ?? stored.read_token,
      metrics: config.metricsToken,
    },
    file,
    generated,
  };
}
