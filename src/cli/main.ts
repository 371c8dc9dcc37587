#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, plainNumber, type Config } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { UsageError } from './entry-point.js';
import { importFlask, MAX_CHUNK_ROWS } from './import-flask.js';
import { MAX_LISTED_LINE_PROBLEMS } from '../validate/ndjson.js';
import { callService, ingestTokenOf, type ServiceTarget } from './service-client.js';

const USAGE = `usage: mlmon <command> [options]

commands:
  migrate                      apply pending database migrations (MLMON_MIGRATION_DATABASE_URL, else
                               DATABASE_URL, else the embedded database in MLMON_DATA_DIR when the
                               service is not running)
  activate-ml                  change the ML rollout flag through the running service
      --enable | --disable     turn the model on or off
      --percentage N           share of bookings (0..100) served by the model
      --url URL                service URL (default http://localhost:$PORT)
      --token TOKEN            ingest token (default MLMON_INGEST_TOKEN, else <data dir>/tokens.json)
  import-flask                 copy the history of the Flask monitor into mlmon through the running
                               service (each chunk's actuals, then its predictions; safe to re-run)
      --from URL               the Flask monitor's PostgreSQL database (required)
      --table NAME             its predictions table (default ml_prediction)
      --chunk N                rows per request, 1..${MAX_CHUNK_ROWS} (default ${MAX_CHUNK_ROWS})
      --url URL, --token TOKEN as for activate-ml
  help                         this text

The seed's "activate_ml --enable --percentage 25" is "mlmon activate-ml --enable --percentage 25".`;

/** Every command takes --help (-h); it is answered before the environment is read, which may be what is being fixed. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

function printedHelp(values: { help?: boolean }): boolean {
  if (values.help) process.stdout.write(`${USAGE}\n`);
  return values.help === true;
}

/** The service and token of --url and --token, by default this machine's service on PORT. */
async function serviceTarget(config: Config, options: { url?: string; token?: string }): Promise<ServiceTarget> {
  return { url: options.url ?? `http://localhost:${config.port}`, ingestToken: await ingestTokenOf(options.token ?? config.ingestToken, config.dataDir, 'pass --token, set MLMON_INGEST_TOKEN, or set MLMON_DATA_DIR to') };
}

async function activateMl(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...HELP_OPTION,
      enable: { type: 'boolean' },
      disable: { type: 'boolean' },
      percentage: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
    },
    strict: true,
  });
  if (printedHelp(values)) return;
  const config = loadConfig();
  if (values.enable && values.disable) throw new UsageError('--enable and --disable exclude each other');
  const change: { ml_enabled?: boolean; ml_traffic_percentage?: number } = {};
  if (values.enable) change.ml_enabled = true;
  if (values.disable) change.ml_enabled = false;
  if (values.percentage !== undefined) {
    // Digits only: Number() reads '' and ' ' as 0 (an unset variable would take every booking off
    // the model) and accepts '0x19' or '1e1'.
    const percentage = /^\d{1,3}$/.test(values.percentage) ? Number(values.percentage) : NaN;
    if (!(percentage >= 0 && percentage <= 100)) throw new UsageError('--percentage must be a whole number from 0 to 100');
    change.ml_traffic_percentage = percentage;
  }
  if (Object.keys(change).length === 0) throw new UsageError('say what to change: --enable, --disable and/or --percentage N');
  const body = await callService<{ ml_enabled: boolean; ml_traffic_percentage: number }>(
    await serviceTarget(config, values),
    'PUT',
    '/feature-flags',
    JSON.stringify(change),
  );
  // Disabled, the model serves no booking: the percentage only takes effect once ML is enabled.
  process.stdout.write(
    body.ml_enabled
      ? `ML enabled for ${body.ml_traffic_percentage} % of bookings\n`
      : `ML disabled: no booking served (${body.ml_traffic_percentage} % once enabled)\n`,
  );
}

/**
 * Writes to stdout and waits until it is flushed: the process exits as soon as the command
 * returns, which cut a long list of refused rows short when stdout was a pipe.
 */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

async function importFromFlask(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...HELP_OPTION,
      from: { type: 'string' },
      table: { type: 'string', default: 'ml_prediction' },
      chunk: { type: 'string', default: String(MAX_CHUNK_ROWS) },
      url: { type: 'string' },
      token: { type: 'string' },
    },
    strict: true,
  });
  if (printedHelp(values)) return;
  const config = loadConfig();
  if (!values.from) throw new UsageError('--from is required: the URL of the Flask monitor\'s PostgreSQL database');
  const chunkRows = plainNumber(values.chunk) ?? NaN;
  if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS) throw new UsageError(`--chunk must be a whole number from 1 to ${MAX_CHUNK_ROWS}`);
  const report = await importFlask({
    fromUrl: values.from,
    table: values.table,
    service: await serviceTarget(config, values),
    chunkRows,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const lines = report.refusedRows.map(({ id, problems }) => `refused: row id ${id}: ${problems.join('; ')}\n`);
  const unlisted = report.refused - report.refusedRows.length;
  if (unlisted > 0) {
    lines.push(`${unlisted} more refused rows not listed (the service lists ${MAX_LISTED_LINE_PROBLEMS} problems per request): run again with a smaller --chunk to name them\n`);
  }
  lines.push(
    `imported ${report.read} rows: ${report.accepted} stored, ${report.duplicates} already stored, ${report.refused} refused; ` +
      `${report.actuals} actuals recorded\n`,
  );
  if (report.sharedRequestIds > 0) {
    lines.push(`${report.sharedRequestIds} rows had the request_id of an earlier row (Flask did not keep them unique): stored under flask-<row id>, not taken for retries\n`);
  }
  if (report.labelledByTheirBooking > 0) {
    lines.push(
      `${report.labelledByTheirBooking} rows Flask left unlabelled are labelled by their booking's actual (mlmon labels every prediction of a booking, Flask only the newest): the metrics of that history differ from the Flask page\n`,
    );
  }
  await print(lines.join(''));
  if (report.refused > 0) process.exitCode = 1;
}

async function runMigrations(args: string[]): Promise<void> {
  // It takes no options: a stray argument is a mistake, not something to ignore.
  const { values } = parseArgs({ args, options: HELP_OPTION, strict: true });
  if (printedHelp(values)) return;
  const config = loadConfig();
  const log = (message: string) => process.stdout.write(`${message}\n`);
  if (config.databaseUrl) {
    await migrate(config.migrationDatabaseUrl ?? config.databaseUrl, log);
  } else {
    const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
    try {
      await migrate(embedded.url, log);
    } finally {
      await embedded.stop();
    }
  }
  log('migrations up to date');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined || ['help', '--help', '-h'].includes(command)) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'migrate':
      return runMigrations(args);
    case 'activate-ml':
    case 'activate_ml':
      return activateMl(args);
    case 'import-flask':
      return importFromFlask(args);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(), // with process.exitCode, which a command may have set
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`mlmon: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`mlmon: ${error instanceof Error ? error.message : String(error)}\n`);
    // A bad environment is the caller's to fix, as a bad command line is (and as the service exits).
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
