import { ConfigError, loadConfig, withoutPassword } from '../../src/config.js';

const INGEST = 'i'.repeat(32);
const READ = 'r'.repeat(32);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig (src/config.ts)', () => {
  // toMatchObject: the service may grow further settings; these are the documented ones.
  it('defaults with nothing set', () => {
    expect(loadConfig({})).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      databaseUrl: undefined,
      dataDir: './.data',
      ingestToken: undefined,
      readToken: undefined,
      metricsToken: undefined,
      accuracyToleranceMinutes: 3,
      anomalyThresholdMinutes: 5,
      metricsCacheSeconds: 5,
      maxModelVersions: 50,
      requestTimeoutSeconds: 30,
      logLevel: 'info',
    });
  });

  // The ranges are documented as inclusive: an operator who sets the documented maximum must not be refused.
  it('accepts both ends of every documented range', () => {
    const low = { PORT: '1', MLMON_METRICS_CACHE_SECONDS: '0', MLMON_MAX_MODEL_VERSIONS: '1', MLMON_REQUEST_TIMEOUT_SECONDS: '1' };
    const high = { PORT: '65535', MLMON_METRICS_CACHE_SECONDS: '300', MLMON_MAX_MODEL_VERSIONS: '1000', MLMON_REQUEST_TIMEOUT_SECONDS: '600' };
    expect(loadConfig(low)).toMatchObject({ port: 1, metricsCacheSeconds: 0, maxModelVersions: 1, requestTimeoutSeconds: 1 });
    expect(loadConfig(high)).toMatchObject({ port: 65535, metricsCacheSeconds: 300, maxModelVersions: 1000, requestTimeoutSeconds: 600 });
  });

  it('empty or blank values mean "not set"', () => {
    const config = loadConfig({ PORT: '', HOST: '  ', MLMON_INGEST_TOKEN: '', MLMON_READ_TOKEN: ' ', DATABASE_URL: '' });
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', ingestToken: undefined, readToken: undefined, databaseUrl: undefined });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9090',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://u:p@db:5432/mlmon',
      MLMON_DATA_DIR: '/var/lib/mlmon',
      MLMON_INGEST_TOKEN: INGEST,
      MLMON_READ_TOKEN: READ,
      MLMON_METRICS_TOKEN: 'm'.repeat(16),
      MLMON_ACCURACY_TOLERANCE_MINUTES: '2.5',
      MLMON_ANOMALY_THRESHOLD_MINUTES: '7',
      MLMON_METRICS_CACHE_SECONDS: '0',
      MLMON_MAX_MODEL_VERSIONS: '12',
      MLMON_REQUEST_TIMEOUT_SECONDS: '5',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9090,
      databaseUrl: 'postgresql://u:p@db:5432/mlmon',
      dataDir: '/var/lib/mlmon',
      ingestToken: INGEST,
      readToken: READ,
      metricsToken: 'm'.repeat(16),
      accuracyToleranceMinutes: 2.5,
      anomalyThresholdMinutes: 7,
      metricsCacheSeconds: 0,
      maxModelVersions: 12,
      requestTimeoutSeconds: 5,
      logLevel: 'warn',
    });
  });

  const bad: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', 'Infinity'],
    ['PORT', '0'],
    ['MLMON_ACCURACY_TOLERANCE_MINUTES', '0'],
    ['MLMON_ACCURACY_TOLERANCE_MINUTES', '-3'],
    ['MLMON_ACCURACY_TOLERANCE_MINUTES', 'three'],
    ['MLMON_ACCURACY_TOLERANCE_MINUTES', 'NaN'],
    // Passes "> 0" but is no tolerance at all: every late label would count.
    ['MLMON_ACCURACY_TOLERANCE_MINUTES', 'Infinity'],
    ['MLMON_ANOMALY_THRESHOLD_MINUTES', '0'],
    ['MLMON_ANOMALY_THRESHOLD_MINUTES', '5min'],
    ['MLMON_METRICS_CACHE_SECONDS', '301'],
    ['MLMON_METRICS_CACHE_SECONDS', '-1'],
    ['MLMON_MAX_MODEL_VERSIONS', '0'],
    ['MLMON_MAX_MODEL_VERSIONS', '2.5'],
    ['MLMON_MAX_MODEL_VERSIONS', '1001'],
    ['MLMON_REQUEST_TIMEOUT_SECONDS', '0'],
    ['MLMON_REQUEST_TIMEOUT_SECONDS', '2.5'],
    ['MLMON_REQUEST_TIMEOUT_SECONDS', '601'],
    ['MLMON_READ_TIMEOUT_SECONDS', '0'],
    ['MLMON_READ_TIMEOUT_SECONDS', '601'],
    ['MLMON_READ_TIMEOUT_SECONDS', 'soon'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_URL', 'localhost:5432'],
    ['DATABASE_URL', 'postgres://mlmon:pa/ss@db:5432/mlmon'],
    ['DATABASE_URL', 'postgres://u:p@[db/mlmon'],
    // The driver decodes the password: a raw % is "URI malformed" at start-up.
    ['DATABASE_URL', 'postgres://mlmon:100%sure@db/mlmon'],
    ['DATABASE_URL', 'postgres://u:p@[::1]:5432/mlmon'],
    ['DATABASE_URL', 'postgres://u:p@db1:5432,[::1]:5433/mlmon'],
    ['MLMON_MIGRATION_DATABASE_URL', 'mysql://localhost/db'],
    ['LOG_LEVEL', 'verbose'],
    // Number() reads these; nobody means them as a port or a count
    ['PORT', '0x50'],
    ['PORT', '1e3'],
    ['MLMON_MAX_MODEL_VERSIONS', '0b11'],
    ['MLMON_RETENTION_DAYS', 'Infinity'],
    ['MLMON_INGEST_TOKEN', 'short'],
    ['MLMON_READ_TOKEN', 'has a space in the middle!'],
    ['MLMON_METRICS_TOKEN', 'tooshort'],
  ];
  it.each(bad)('%s=%j is refused with a ConfigError naming the variable', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it('MLMON_MIGRATION_DATABASE_URL goes with DATABASE_URL', () => {
    const direct = 'postgres://mlmon:pw@db:5432/mlmon';
    expect(loadConfig({ DATABASE_URL: 'postgres://mlmon:pw@pgbouncer:6432/mlmon', MLMON_MIGRATION_DATABASE_URL: direct }).migrationDatabaseUrl).toBe(direct);
    expect(problemsOf({ MLMON_MIGRATION_DATABASE_URL: direct })).toEqual(['MLMON_MIGRATION_DATABASE_URL needs DATABASE_URL (the embedded database migrates itself)']);
  });

  it('plain decimals are read, and LOG_LEVEL whatever its case', () => {
    expect(loadConfig({ PORT: ' 18080 ', MLMON_ANOMALY_THRESHOLD_MINUTES: '4.5', MLMON_ACCURACY_TOLERANCE_MINUTES: '.5', LOG_LEVEL: 'WARN' })).toMatchObject({
      port: 18080, anomalyThresholdMinutes: 4.5, accuracyToleranceMinutes: 0.5, logLevel: 'warn',
    });
    expect(problemsOf({ LOG_LEVEL: 'LOUD' })).toEqual([expect.stringContaining('LOG_LEVEL="LOUD" must be one of')]);
  });

  it('DATABASE_URL: a host list is a URL (as the driver reads it); a malformed one is refused without echoing it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db1:5432,db2:5433/mlmon' }).databaseUrl).toBe('postgres://u:p@db1:5432,db2:5433/mlmon');
    expect(problemsOf({ DATABASE_URL: 'postgres://mlmon:secret/word@db/mlmon' }).join('\n')).not.toContain('secret');
  });

  it('withoutPassword masks the password wherever the driver finds one, and keeps the rest', () => {
    const cases: [string, string][] = [
      ['postgres://mlmon:s3cret@db:5432/mlmon', 'postgres://mlmon:***@db:5432/mlmon'],
      ['postgresql://mlmon:s3cret@db1:5432,db2:5433/mlmon?sslmode=require', 'postgresql://mlmon:***@db1:5432,db2:5433/mlmon?sslmode=require'],
      ['postgres://mlmon:s3cret@[::1]:5432/mlmon', 'postgres://mlmon:***@[::1]:5432/mlmon'],
      ['postgres://:s3cret@db/mlmon', 'postgres://:***@db/mlmon'],
      ['postgres://mlmon@db/mlmon', 'postgres://mlmon@db/mlmon'],
      ['postgres://db/mlmon', 'postgres://db/mlmon'],
      // A raw @ in the user (Azure's user@server) or the password: the last @ ends them.
      ['postgres://mlmon@corp:s3cret@db/mlmon', 'postgres://mlmon@corp:***@db/mlmon'],
      ['postgres://mlmon:s3c@r:et@db/mlmon', 'postgres://mlmon:***@db/mlmon'],
      ['postgres://mlmon:12/s3cret@db/mlmon', 'postgres://mlmon:***@db/mlmon'],
      ['postgres://mlmon:12#s3cret@db/mlmon', 'postgres://mlmon:***@db/mlmon'],
      ['postgres://db/mlmon?sslmode=require&password=s3cret', 'postgres://db/mlmon?sslmode=require&password=***'],
    ];
    for (const [url, shown] of cases) {
      expect([url, withoutPassword(url)]).toEqual([url, shown]);
      // Every URL here that the configuration accepts reaches the driver and so, on failure, the message.
      expect(withoutPassword(url)).not.toContain('s3c');
    }
  });

  it('the read token may not equal the ingest token (it would allow writes)', () => {
    const problems = problemsOf({ MLMON_INGEST_TOKEN: INGEST, MLMON_READ_TOKEN: INGEST });
    expect(problems).toEqual([expect.stringContaining('MLMON_READ_TOKEN')]);
  });

  it('reports every bad value at once, and the message lists them', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', MLMON_ANOMALY_THRESHOLD_MINUTES: '-1' });
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const { problems, message } = error as ConfigError;
      expect(problems).toHaveLength(3);
      for (const name of ['PORT', 'LOG_LEVEL', 'MLMON_ANOMALY_THRESHOLD_MINUTES']) expect(message).toContain(name);
    }
  });

  it('never echoes a rejected token in the message', () => {
    const secret = 'secret with spaces 0123456789';
    const problems = problemsOf({ MLMON_INGEST_TOKEN: secret });
    expect(problems.join('\n')).not.toContain(secret);
  });
});
