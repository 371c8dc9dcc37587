/** Command line and environment of the demo generator. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDemoArguments, parseDuration, readIngestToken } from '../../src/demo/options.js';

const options = (argv: string[], env: Record<string, string> = {}) => {
  const result = parseDemoArguments(argv, env, 1234);
  if (result.help) throw new Error('unexpected help');
  return result.options;
};

describe('demo options', () => {
  it('defaults: local service, 2/s for 1 h, incident after 10 min', () => {
    expect(options([])).toMatchObject({ url: 'http://127.0.0.1:8080', rate: 2, durationSeconds: 3600, incidentAfterSeconds: 600, incidentDurationSeconds: 1200, seed: 1234, dataDir: './.data' });
  });

  it('by default finds the service on PORT, as the mlmon CLI does', () => {
    expect(options([], { PORT: '18961' }).url).toBe('http://127.0.0.1:18961');
    expect(options([], { PORT: '18961', MLMON_URL: 'http://mlmon:8080' }).url).toBe('http://mlmon:8080');
    for (const bad of ['abc', '0', '70000', '0x50', '80.5']) expect(() => options([], { PORT: bad })).toThrow(`PORT must be an integer from 1 to 65535 (got "${bad}")`);
    // what the service takes, the demo takes
    expect(options([], { PORT: '8081.0' }).url).toBe('http://127.0.0.1:8081');
  });

  it('flags override the environment, which overrides the defaults', () => {
    const env = { MLMON_URL: 'http://mlmon:8080/', MLMON_DEMO_RATE: '4', MLMON_DEMO_DURATION: '2h', MLMON_DATA_DIR: '/var/mlmon' };
    expect(options([], env)).toMatchObject({ url: 'http://mlmon:8080', rate: 4, durationSeconds: 7200, dataDir: '/var/mlmon' });
    expect(
      options(['--url', 'http://127.0.0.1:9', '--rate=0.5', '--duration', '90s', '--incident-after', '1m', '--incident-duration', '2m', '--actual-lag', '1,3', '--tick', '250ms', '--seed', '5', '--quiet'], env),
    ).toMatchObject({ url: 'http://127.0.0.1:9', rate: 0.5, durationSeconds: 90, incidentAfterSeconds: 60, incidentDurationSeconds: 120, actualLagSeconds: [1, 3], tickSeconds: 0.25, seed: 5, quiet: true });
    expect(parseDemoArguments(['--help'], {})).toEqual({ help: true });
  });

  it.each([
    [['--rate', '0']],
    [['--rate', 'fast']],
    [['--rate', '501']],
    [['--duration', '8d']],
    [['--duration', '-5']],
    [['--url', 'ftp://x']],
    [['--url', 'not a url']],
    [['--actual-lag', '5,1']],
    [['--tick', '0']],
    [['--bogus']],
    [['--rate']],
  ])('refuses %j with a message naming the flag', (argv) => {
    expect(() => parseDemoArguments(argv, {})).toThrow(/--(rate|duration|url|actual-lag|tick|bogus)|needs a value/);
  });

  it('parses durations', () => {
    expect(parseDuration('45', 'x')).toBe(45);
    expect(parseDuration('1.5m', 'x')).toBe(90);
    expect(parseDuration('1d', 'x')).toBe(86400);
    expect(() => parseDuration('1 week', 'x')).toThrow(/x must be a duration/);
  });

  it('reads the ingest token from the environment, else from <data dir>/tokens.json', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'mlmon-demo-'));
    try {
      await expect(readIngestToken({ MLMON_INGEST_TOKEN: 'from-env-0123456789' }, directory)).resolves.toBe('from-env-0123456789');
      await expect(readIngestToken({}, directory)).rejects.toThrow(/MLMON_INGEST_TOKEN/);
      await writeFile(path.join(directory, 'tokens.json'), JSON.stringify({ ingest_token: 'from-file-0123456789', read_token: 'r'.repeat(16) }));
      await expect(readIngestToken({}, directory)).resolves.toBe('from-file-0123456789');
      await writeFile(path.join(directory, 'tokens.json'), JSON.stringify({ read_token: 'r' }));
      await expect(readIngestToken({}, directory)).rejects.toThrow(/read_token must be/);
      // the service generated only the read token (MLMON_INGEST_TOKEN was set when it started)
      await writeFile(path.join(directory, 'tokens.json'), JSON.stringify({ read_token: 'r'.repeat(16) }));
      await expect(readIngestToken({}, directory)).rejects.toThrow(/no ingest token: set MLMON_INGEST_TOKEN/);
      await writeFile(path.join(directory, 'tokens.json'), 'not json');
      await expect(readIngestToken({}, directory)).rejects.toThrow(/is not a token file/);
      await writeFile(path.join(directory, 'tokens.json'), JSON.stringify({ ingest_token: '', read_token: 'r'.repeat(16) }));
      await expect(readIngestToken({}, directory)).rejects.toThrow(/ingest_token must be at least 16 characters/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
