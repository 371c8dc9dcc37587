/**
 * `mlmon import-flask`: carries the history of the Flask monitor mlmon replaces (its `ml_prediction`
 * table, ../shared/seed-summary.md) over to mlmon. The rows go through the running service's API,
 * a chunk's actuals and then its predictions as NDJSON, so that they are validated, rolled up and
 * deduplicated exactly like live traffic: every metric of mlmon then covers the old history too.
 *
 * Re-running is safe: a row keeps its request_id, or gets `flask-<id>` when it had none or an
 * earlier row had the same one (Flask did not keep them unique; mlmon would take the second row for
 * a retry of the first), so a row already imported counts as a duplicate; a repeated actual
 * replaces itself.
 */
import postgres from 'postgres';
import { MAX_LISTED_LINE_PROBLEMS } from '../validate/ndjson.js';
import { callService, type ServiceTarget } from './service-client.js';

/** A row of the Flask table, its timestamps as UTC ISO text (the Flask app wrote naive UTC). */
export interface FlaskRow {
  id: number;
  booking_id: number;
  driver_id: number | null;
  request_id: string | null;
  predicted_delay_minutes: number;
  confidence: number;
  risk_level: string;
  /** JSON text, e.g. {"distance_x_weather": 0.42}. */
  contributing_factors: string | null;
  model_version: string | null;
  prediction_time_ms: number | null;
  feature_flag_enabled: boolean | null;
  traffic_percentage: number | null;
  actual_delay_minutes: number | null;
  actual_pickup_at: string | null;
  actual_dropoff_at: string | null;
  created_at: string;
}

/** Fields mlmon leaves out rather than store as null. */
const OPTIONAL_FIELDS = ['driver_id', 'model_version', 'prediction_time_ms', 'feature_flag_enabled', 'traffic_percentage'] as const;

/**
 * The prediction to send for a Flask row. Factors that are not JSON are sent as the text they are,
 * so that the service rejects that one row and names the field, rather than the import dropping
 * them silently.
 */
export function predictionOf(row: FlaskRow, firstRowOfRequestId: ReadonlyMap<string, number> = new Map()): Record<string, unknown> {
  const sharesEarlierRequestId = row.request_id !== null && (firstRowOfRequestId.get(row.request_id) ?? row.id) < row.id;
  const prediction: Record<string, unknown> = {
    booking_id: row.booking_id,
    request_id: row.request_id === null || sharesEarlierRequestId ? `flask-${row.id}` : row.request_id,
    predicted_delay_minutes: row.predicted_delay_minutes,
    confidence: row.confidence,
    risk_level: row.risk_level,
    created_at: row.created_at,
  };
  for (const field of OPTIONAL_FIELDS) if (row[field] !== null) prediction[field] = row[field];
  // An empty version said "no version" in Flask, which mlmon stores as `unknown` when none is sent.
  if (row.model_version === '') delete prediction.model_version;
  if (row.contributing_factors !== null && row.contributing_factors.trim() !== '') {
    try {
      prediction.contributing_factors = JSON.parse(row.contributing_factors) as unknown;
    } catch {
      prediction.contributing_factors = row.contributing_factors;
    }
  }
  return prediction;
}

/** The actual a labelled Flask row carries; none for a row the ride never labelled. */
export function actualOf(row: FlaskRow): Record<string, unknown> | undefined {
  if (row.actual_delay_minutes === null) return undefined;
  return {
    booking_id: row.booking_id,
    actual_delay_minutes: row.actual_delay_minutes,
    ...(row.actual_pickup_at === null ? {} : { actual_pickup_at: row.actual_pickup_at }),
    ...(row.actual_dropoff_at === null ? {} : { actual_dropoff_at: row.actual_dropoff_at }),
  };
}

export interface ImportOptions {
  /** The Flask monitor's database. */
  fromUrl: string;
  /** Its predictions table, optionally schema-qualified. */
  table: string;
  service: ServiceTarget;
  /** Rows per request, 1 to MAX_CHUNK_ROWS. */
  chunkRows: number;
  log: (line: string) => void;
}

/** A row the service refused: its Flask id and why, each problem as `field message`. */
export interface RefusedRow {
  id: number;
  problems: string[];
}

export interface ImportReport {
  read: number;
  accepted: number;
  duplicates: number;
  /** Rows the service refused. */
  refused: number;
  /**
   * The refused rows the service named, by Flask id. Fewer than `refused` when a chunk's rows had
   * more problems than the service lists per request: the rest are counted, not named.
   */
  refusedRows: RefusedRow[];
  /** Actuals recorded: those of refused rows stay with mlmon and label the row once it is stored. */
  actuals: number;
  /** Rows whose request_id an earlier row of the Flask table had: sent as `flask-<id>`. */
  sharedRequestIds: number;
  /**
   * Rows Flask left unlabelled while another row of their booking has an actual (it labelled only
   * a booking's newest prediction): mlmon labels every prediction of a booking, so these are
   * labelled too, and the metrics of that history differ from what the Flask page showed.
   */
  labelledByTheirBooking: number;
}

/** The answer of the bulk route: `rejected` counts lines, `errors` lists their problems, several per line. */
export interface BulkResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; field: string; message: string }[];
}

/** Said of the last row named when the list is full: the cut may have fallen among its problems. */
export const MORE_PROBLEMS_NOT_LISTED = '(further problems may not be listed)';

/**
 * Rows per request at most. As many rows as the service lists problems: a chunk whose refused rows
 * have one problem each gets every row named; rows with several can fill the list, and the rows
 * it leaves out are then counted as not listed, which a smaller --chunk names.
 */
export const MAX_CHUNK_ROWS = MAX_LISTED_LINE_PROBLEMS;

/** Chunks sent while the next is read; the service's group commit writes concurrent ones together. */
const CHUNKS_IN_FLIGHT = 2;

/** A read of the Flask table; its failure says which table. */
async function readingTable<T>(table: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new Error(`cannot read the Flask table ${table}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The next rows of the Flask table after id `afterId`, oldest first, timestamps as UTC ISO text. */
function readChunk(source: postgres.Sql, table: string, afterId: number | null, limit: number): Promise<FlaskRow[]> {
  const utc = (column: string) => source.unsafe(`to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  return readingTable(table, () => source<FlaskRow[]>`
      select id, booking_id, driver_id, request_id, predicted_delay_minutes, confidence, risk_level,
             contributing_factors::text as contributing_factors, model_version, prediction_time_ms,
             feature_flag_enabled, traffic_percentage, actual_delay_minutes,
             ${utc('actual_pickup_at')} as actual_pickup_at, ${utc('actual_dropoff_at')} as actual_dropoff_at,
             ${utc('created_at')} as created_at
      from ${source(table)}
      ${afterId === null ? source`` : source`where id > ${afterId}`}
      order by id
      limit ${limit}`);
}

/** What the import must know of the whole table before it sends a row (one pass each). */
interface TableSurvey {
  /** Request ids several rows share, each with the id of its first row. */
  firstRowOfRequestId: Map<string, number>;
  labelledByTheirBooking: number;
}

function surveyTable(source: postgres.Sql, table: string): Promise<TableSurvey> {
  return readingTable(table, async () => {
    const shared = await source<{ request_id: string; first_id: number }[]>`
      select request_id, min(id)::int8 as first_id from ${source(table)}
      where request_id is not null group by request_id having count(*) > 1`;
    const [relabelled] = await source<{ rows: number }[]>`
      select count(*)::int8 as rows from ${source(table)} p
      where p.actual_delay_minutes is null
        and exists (select 1 from ${source(table)} l where l.booking_id = p.booking_id and l.actual_delay_minutes is not null)`;
    return { firstRowOfRequestId: new Map(shared.map((row) => [row.request_id, Number(row.first_id)])), labelledByTheirBooking: Number(relabelled!.rows) };
  });
}

/**
 * The refused rows a chunk's bulk answer names, each once with all its listed problems: the answer
 * lists problems, so a row with two bad fields comes in it twice.
 */
export function refusedRowsOf(rows: FlaskRow[], result: BulkResult): RefusedRow[] {
  const byLine = new Map<number, string[]>();
  for (const { line, field, message } of result.errors) {
    const problems = byLine.get(line) ?? [];
    problems.push(`${field} ${message}`);
    byLine.set(line, problems);
  }
  const named = [...byLine].map(([line, problems]) => ({ id: rows[line - 1]!.id, problems }));
  if (result.errors.length >= MAX_LISTED_LINE_PROBLEMS) named.at(-1)!.problems.push(MORE_PROBLEMS_NOT_LISTED);
  return named;
}

/**
 * Sends one chunk: its actuals first, then its predictions, so that each prediction is stored
 * already labelled, in the same write as its rollups (an actual that arrives first waits for its
 * prediction). Labelling stored predictions afterwards made the import twice as slow
 * (BENCHMARKS.md).
 */
async function sendChunk(service: ServiceTarget, rows: FlaskRow[], survey: TableSurvey, report: ImportReport): Promise<void> {
  const actuals = rows.map(actualOf).filter((actual) => actual !== undefined);
  if (actuals.length > 0) await callService(service, 'POST', '/actuals', JSON.stringify(actuals));
  report.actuals += actuals.length;
  const predictions = rows.map((row) => predictionOf(row, survey.firstRowOfRequestId));
  report.sharedRequestIds += predictions.filter((prediction, i) => rows[i]!.request_id !== null && prediction.request_id !== rows[i]!.request_id).length;
  const ndjson = predictions.map((prediction) => JSON.stringify(prediction)).join('\n');
  const stored = await callService<BulkResult>(service, 'POST', '/predictions/bulk', ndjson, 'application/x-ndjson');
  report.accepted += stored.accepted;
  report.duplicates += stored.duplicates;
  report.refused += stored.rejected;
  report.refusedRows.push(...refusedRowsOf(rows, stored));
}

/** Copies every row of the Flask table, oldest id first, a chunk per request pair. */
export async function importFlask(options: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { read: 0, accepted: 0, duplicates: 0, refused: 0, refusedRows: [], actuals: 0, sharedRequestIds: 0, labelledByTheirBooking: 0 };
  // The session in UTC: to_char renders a timestamptz column in UTC, a naive one as written.
  const source = postgres(options.fromUrl, { max: 1, onnotice: () => {}, connection: { TimeZone: 'UTC', application_name: 'mlmon import-flask' } });
  const inFlight: Promise<void>[] = [];
  try {
    const survey = await surveyTable(source, options.table);
    report.labelledByTheirBooking = survey.labelledByTheirBooking;
    let lastId: number | null = null;
    for (;;) {
      const rows = await readChunk(source, options.table, lastId, options.chunkRows);
      if (rows.length === 0) break;
      lastId = rows[rows.length - 1]!.id;
      report.read += rows.length;
      const sent = sendChunk(options.service, rows, survey, report).then(() =>
        options.log(`${report.read} rows read: ${report.accepted} stored, ${report.duplicates} already there, ${report.refused} refused`),
      );
      sent.catch(() => {}); // awaited below; meanwhile not an unhandled rejection
      inFlight.push(sent);
      if (inFlight.length >= CHUNKS_IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } finally {
    await source.end({ timeout: 5 });
  }
  report.refusedRows.sort((a, b) => a.id - b.id);
  return report;
}
