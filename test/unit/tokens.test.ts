/** Where the API tokens come from: the environment, else tokens.json, generated once per missing token. */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { readStoredIngestToken, resolveTokens } from '../../src/server/tokens.js';

const INGEST = 'ingest-token-from-env-0123';
const READ = 'read-token-from-env-012345';

describe('resolveTokens', () => {
  let dataDir: string;
  const config = (env: Record<string, string> = {}) => loadConfig({ MLMON_DATA_DIR: dataDir, ...env });
  const file = () => path.join(dataDir, 'tokens.json');
  const stored = async () => JSON.parse(await readFile(file(), 'utf8')) as Record<string, string>;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'mlmon-tokens-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('both from the environment: no file is written', async () => {
    const resolved = await resolveTokens(config({ MLMON_INGEST_TOKEN: INGEST, MLMON_READ_TOKEN: READ }));
    expect(resolved).toMatchObject({ tokens: { ingest: INGEST, read: READ }, generated: [], fromFile: [], dropped: [] });
    expect(existsSync(file())).toBe(false);
  });

  it('nothing set: both generated once (mode 0600), then reused', async () => {
    const first = await resolveTokens(config());
    expect(first.generated).toEqual(['ingest', 'read']);
    expect(await stored()).toEqual({ ingest_token: first.tokens.ingest, read_token: first.tokens.read });
    expect((await stat(file())).mode & 0o777).toBe(0o600);
    const second = await resolveTokens(config());
    expect(second).toMatchObject({ tokens: first.tokens, generated: [], fromFile: ['ingest', 'read'] });
  });

  it('one set in the environment: only the other is generated, and the file holds only that one', async () => {
    const resolved = await resolveTokens(config({ MLMON_INGEST_TOKEN: INGEST }));
    expect(resolved).toMatchObject({ tokens: { ingest: INGEST }, generated: ['read'], fromFile: [] });
    expect(await stored()).toEqual({ read_token: resolved.tokens.read });
    // the CLI and the demo find no ingest token there, rather than a dead one
    expect(await readStoredIngestToken(dataDir)).toBeNull();
    // a later start without the variable generates the ingest token and keeps the read one
    const later = await resolveTokens(config());
    expect(later).toMatchObject({ tokens: { read: resolved.tokens.read }, generated: ['ingest'], fromFile: ['read'] });
    expect(await stored()).toEqual({ read_token: resolved.tokens.read, ingest_token: later.tokens.ingest });
    expect(await readStoredIngestToken(dataDir)).toBe(later.tokens.ingest);
  });

  it('removes a generated token the environment now overrides (the CLI would pick up a dead one)', async () => {
    const first = await resolveTokens(config());
    const moved = await resolveTokens(config({ MLMON_INGEST_TOKEN: INGEST }));
    expect(moved).toMatchObject({ tokens: { ingest: INGEST, read: first.tokens.read }, generated: [], fromFile: ['read'], dropped: ['ingest'] });
    expect(await stored()).toEqual({ read_token: first.tokens.read });
    expect(await readStoredIngestToken(dataDir)).toBeNull();
    // both set now: nothing generated is left, so neither is the file
    expect((await resolveTokens(config({ MLMON_INGEST_TOKEN: INGEST, MLMON_READ_TOKEN: READ }))).dropped).toEqual(['read']);
    expect(existsSync(file())).toBe(false);
  });

  it('rewrites the file whole, mode 0600 even where an older one was readable by others', async () => {
    await writeFile(file(), JSON.stringify({ read_token: 'r'.repeat(20) }), { mode: 0o644 });
    await chmod(file(), 0o644);
    const resolved = await resolveTokens(config());
    expect(resolved.generated).toEqual(['ingest']);
    expect((await stat(file())).mode & 0o777).toBe(0o600);
    expect(await stored()).toEqual({ read_token: 'r'.repeat(20), ingest_token: resolved.tokens.ingest });
    expect((await readdir(dataDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a file that holds no token, or an unusable one, saying how to fix it', async () => {
    await writeFile(file(), '{"tokens": []}');
    await expect(resolveTokens(config())).rejects.toThrow(/is not a token file .*remove it/);
    await writeFile(file(), '{"read_token": "short"}');
    await expect(resolveTokens(config())).rejects.toThrow(/read_token must be .*remove the file/);
  });
});
