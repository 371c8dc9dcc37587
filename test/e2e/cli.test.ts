/**
 * The `mlmon` command (`node dist/cli/main.js`, as `npm run mlmon --` runs it) against a service
 * on real HTTP: the seed's activate_ml, its usage errors (exit 2) and failures (exit 1), and the
 * exit status of import-flask when the service refuses rows.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FLASK_TABLE } from '../support/flask.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function mlmon(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    // PORT and the token come from the arguments only, never from the test process's environment.
    const { PORT: _port, MLMON_INGEST_TOKEN: _token, ...inherited } = process.env;
    execFile(process.execPath, [CLI, ...args], { env: { ...inherited, MLMON_DATA_DIR: '/nonexistent-mlmon-cli-test', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const target = () => ['--url', t.baseUrl, '--token', t.tokens.ingest];

describe('mlmon', () => {
  it('prints its usage for help, and for --help after any command, even with a bad environment', async () => {
    for (const args of [[], ['help'], ['--help'], ['migrate', '--help'], ['activate-ml', '-h'], ['import-flask', '--help']]) {
      const run = await mlmon(args, { PORT: 'eighty' });
      expect([args, run.code, run.stdout.startsWith('usage: mlmon')]).toEqual([args, 0, true]);
    }
  });

  it('"help" as the value of an option is that value, not a request for help', async () => {
    const percentage = await mlmon(['activate-ml', '--percentage', 'help', '--url', 'http://127.0.0.1:1', '--token', 'x'.repeat(20)]);
    expect([percentage.code, percentage.stderr]).toEqual([2, expect.stringContaining('--percentage must be a whole number')]);
    const unknown = await mlmon(['nosuch', '--help']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('unknown command "nosuch"')]);
  });

  it('migrate takes no arguments: a stray one is refused before any database is touched', async () => {
    for (const args of [['--bogus'], ['now']]) {
      const run = await mlmon(['migrate', ...args]);
      expect([args, run.code, run.stderr]).toEqual([args, 2, expect.stringContaining('usage: mlmon')]);
    }
  });
});

describe('mlmon activate-ml', () => {
  it('turns ML on for a share of bookings, as the seed\'s activate_ml --enable --percentage 25', async () => {
    const run = await mlmon(['activate-ml', '--enable', '--percentage', '25', ...target()]);
    expect(run).toMatchObject({ code: 0, stdout: 'ML enabled for 25 % of bookings\n' });
    expect((await t.get(`${API}/feature-flags`)).json()).toMatchObject({ ml_enabled: true, ml_traffic_percentage: 25 });
    expect(await mlmon(['activate_ml', '--disable', ...target()])).toMatchObject({ code: 0, stdout: 'ML disabled: no booking served (25 % once enabled)\n' });
    expect((await t.get(`${API}/feature-flags`)).json()).toMatchObject({ ml_enabled: false, ml_traffic_percentage: 25 });
  });

  it('takes the token from MLMON_INGEST_TOKEN', async () => {
    const run = await mlmon(['activate-ml', '--percentage', '40', '--url', t.baseUrl], { MLMON_INGEST_TOKEN: t.tokens.ingest });
    expect(run.code).toBe(0);
    expect((await t.get(`${API}/feature-flags`)).json()).toMatchObject({ ml_traffic_percentage: 40 });
  });

  it('refuses unclear requests with exit 2 and the usage, changing nothing', async () => {
    // An empty or blank value (an unset shell variable in --percentage "$PCT") must not read as 0 %,
    // which would quietly take every booking off the model; nor hex or an exponent as a percentage.
    const unclearPercentages = ['', ' ', '0x19', '1e1', '+5'].map((value) => ['--percentage', value]);
    for (const args of [['--enable', '--disable'], ['--percentage', '101'], ['--percentage', '2.5'], [], ['--percent', '5'], ...unclearPercentages]) {
      const run = await mlmon(['activate-ml', ...args, ...target()]);
      expect([args, run.code]).toEqual([args, 2]);
      expect(run.stderr).toContain('usage: mlmon');
    }
    expect((await t.get(`${API}/feature-flags`)).json()).toMatchObject({ ml_traffic_percentage: 40 });
  });

  it('says why it failed: a wrong token or no service (exit 1), no token at all (exit 2)', async () => {
    const wrongToken = await mlmon(['activate-ml', '--enable', '--url', t.baseUrl, '--token', 'not-the-ingest-token-at-all']);
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/^mlmon: the service refused PUT \/feature-flags: 401 /);
    const noService = await mlmon(['activate-ml', '--enable', '--url', 'http://127.0.0.1:1', '--token', t.tokens.ingest]);
    expect(noService).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot reach the service at http://127.0.0.1:1') });
    const noToken = await mlmon(['activate-ml', '--enable', '--url', t.baseUrl]);
    expect(noToken).toMatchObject({ code: 2, stderr: expect.stringContaining('no ingest token') });
    // a bad environment, as the service refuses it at start-up: exit 2, the variable named
    const badEnvironment = await mlmon(['activate-ml', '--enable', ...target()], { PORT: 'eighty' });
    expect(badEnvironment).toMatchObject({ code: 2, stderr: expect.stringMatching(/^mlmon: invalid configuration:[^]*PORT="eighty"/) });
  });
});

describe('mlmon import-flask', () => {
  let flask: TestDatabase;
  beforeAll(async () => {
    flask = await createTestDatabase(undefined, { migrated: false });
    await flask.sql.unsafe(FLASK_TABLE);
    await flask.sql`
      insert into ml_prediction (booking_id, predicted_delay_minutes, confidence, risk_level, actual_delay_minutes, created_at, updated_at)
      values (77001, 8.5, 0.9, 'medium', 9.2, now() at time zone 'utc' - interval '1 hour', now() at time zone 'utc'),
             (77002, 4, 1.7, '', null, now() at time zone 'utc' - interval '1 hour', now() at time zone 'utc')`;
  });
  afterAll(() => flask.drop());

  it('exits 1 and names the refused row once by its Flask id, with both its problems; the others are stored', async () => {
    const run = await mlmon(['import-flask', '--from', flask.url, ...target()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('\nrefused: row id 2: confidence must be <= 1; risk_level must NOT have fewer than 1 characters\n');
    expect(run.stdout.match(/refused: row id/g)).toHaveLength(1);
    expect(run.stdout).toContain('2 rows read: 1 stored, 0 already there, 1 refused\n');
    expect(run.stdout).toContain('imported 2 rows: 1 stored, 0 already stored, 1 refused; 1 actuals recorded');
    const again = await mlmon(['import-flask', '--from', flask.url, '--chunk', '1', ...target()]);
    expect(again.stdout).toContain('imported 2 rows: 0 stored, 1 already stored, 1 refused');
  });

  it('says how many refused rows it could not name, which a smaller --chunk names, and prints all it names', async () => {
    // Two problems a row: a chunk of 1,000 rows has more than the service lists. So many rows that
    // the list of all of them (over 500 KB) is more than a pipe takes before the process exits.
    await flask.sql.unsafe(FLASK_TABLE.replace('create table ml_prediction', 'create table all_wrong'));
    await flask.sql`
      insert into all_wrong (booking_id, predicted_delay_minutes, confidence, risk_level, created_at, updated_at)
      select 78000 + n, 5, 1.5, '', now() at time zone 'utc' - interval '1 hour', now() at time zone 'utc' from generate_series(1, 6000) n`;
    const whole = await mlmon(['import-flask', '--from', flask.url, '--table', 'all_wrong', ...target()]);
    expect(whole.code).toBe(1);
    expect(whole.stdout.match(/^refused: row id /gm)).toHaveLength(3000);
    expect(whole.stdout).toContain('\n3000 more refused rows not listed (the service lists 1000 problems per request): run again with a smaller --chunk to name them\n');
    expect(whole.stdout).toContain('imported 6000 rows: 0 stored, 0 already stored, 6000 refused; 0 actuals recorded');
    const small = await mlmon(['import-flask', '--from', flask.url, '--table', 'all_wrong', '--chunk', '100', ...target()]);
    expect(small.code).toBe(1);
    expect(small.stdout.match(/^refused: row id \d+: confidence must be <= 1; risk_level must NOT have fewer than 1 characters$/gm)).toHaveLength(6000);
    expect(small.stdout).not.toContain('not listed');
    expect(small.stdout).toContain('imported 6000 rows: 0 stored, 0 already stored, 6000 refused');
  });

  it('needs --from, and a chunk it can use', async () => {
    expect(await mlmon(['import-flask', ...target()])).toMatchObject({ code: 2, stderr: expect.stringContaining('--from is required') });
    expect(await mlmon(['import-flask', '--from', flask.url, '--chunk', '1001', ...target()])).toMatchObject({ code: 2, stderr: expect.stringContaining('--chunk must be') });
    // Plain decimals only, as everywhere: Number() would read 0x10 as 16.
    expect(await mlmon(['import-flask', '--from', flask.url, '--chunk', '0x10', ...target()])).toMatchObject({ code: 2, stderr: expect.stringContaining('--chunk must be') });
  });
});

describe('the other scripts exit as mlmon does: 2 for a bad command line', () => {
  const script = (relative: string, args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [fileURLToPath(new URL(`../../dist/${relative}`, import.meta.url)), ...args], (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
    });

  it.each([
    ['expose/dashboards/generate.js', ['--bogus'], 'Unknown option'],
    ['expose/dashboards/generate.js', ['one', 'two'], 'one output directory at most'],
    ['expose/alerting/generate.js', ['--evaluator', 'nagios'], '--evaluator must be'],
    ['demo/main.js', ['--rate', '0x10'], '--rate must be a number'],
    ['demo/main.js', ['--duration', 'soon'], '--duration must be a duration'],
  ])('%s %j', async (relative, args, message) => {
    expect(await script(relative, args)).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
  });
});
