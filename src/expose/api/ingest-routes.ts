import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { storePredictions } from '../../store/predictions.js';
import { GroupCommit } from '../../store/group-commit.js';
import { actualsOutcome, storeActuals } from '../../store/actuals.js';
import { recordFailures } from '../../store/feature-flags.js';
import { invalidField, isDatabaseUnavailable, RequestProblem } from '../../server/errors.js';
import { encodingProblem } from '../../server/json-body.js';
import { checkedBulkLine } from '../../validate/bulk-predictions.js';
import { MAX_LISTED_LINE_PROBLEMS, ndjsonLines } from '../../validate/ndjson.js';
import { StoredModelVersion, Text, UNKNOWN_VERSION } from '../../validate/limits.js';
import { createdAtProblem, IngestResultSchema, isLive, MAX_BATCH, PredictionBodySchema, type PredictionInput } from '../../validate/prediction.js';
import { ActualBodySchema, ActualResultSchema, type ActualInput } from '../../validate/actual.js';
import { bodyErrorResponses, streamedBodyErrorResponses } from './schemas.js';
import type { ApiOptions } from './options.js';

const ingestFacts = (stored: PredictionInput[]) => {
  const now = Date.now();
  return stored.map((p) => ({ model_version: p.model_version ?? UNKNOWN_VERSION, prediction_time_ms: p.prediction_time_ms ?? null, live: isLive(p, now) }));
};

const asList = <T>(body: T | T[]): T[] => (Array.isArray(body) ? body : [body]);

/** The first row whose created_at the store must not take (createdAtProblem), as a 400. */
function assertStorableTimes(predictions: PredictionInput[], isBatch: boolean, retentionDays: number | undefined): void {
  const now = Date.now();
  predictions.forEach((p, index) => {
    const problem = createdAtProblem(p, now, retentionDays);
    if (problem) throw invalidField('body', 'created_at', problem, isBatch ? index : undefined);
  });
}

/** NDJSON bulk loads: rows per write, writes at once, the longest line accepted, the errors listed. */
const BULK_CHUNK_ROWS = 5000;
const BULK_WRITES_IN_FLIGHT = 2;
const BULK_MAX_LINE_BYTES = 64 * 1024;

const BulkResultSchema = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer({ description: `lines not stored; their first ${MAX_LISTED_LINE_PROBLEMS} problems are listed in errors` }),
  errors: Type.Array(Type.Object({ line: Type.Integer(), field: Type.String(), message: Type.String() })),
});

/** Large batches are welcome on the write routes (10,000 predictions are a few MB). */
const WRITE_BODY_LIMIT = 32 * 1024 * 1024;

/**
 * An array over the batch limit is refused before it is validated: the validator checks every
 * item (all errors, so that a refused batch lists each bad row), and a million tiny items in a
 * 4 MB body held the event loop for 40 s and took 3.5 GB.
 */
async function refuseOversizedBatch(request: FastifyRequest): Promise<void> {
  if (Array.isArray(request.body) && request.body.length > MAX_BATCH) {
    const message = `must NOT have more than ${MAX_BATCH} items`;
    throw new RequestProblem(400, `invalid body: body ${message}`, [{ field: '(body)', message }]);
  }
}

export async function ingestRoutes(app: FastifyInstance, { sql, rules, guards, exporter, retentionDays }: ApiOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const write = { onRequest: guards.ingest, preValidation: refuseOversizedBatch, bodyLimit: WRITE_BODY_LIMIT, config: { ingest: true } };
  // Concurrent single writes share transactions; a group that fails for one request's rows is
  // retried request by request, unless the database itself is away.
  const groupOptions = { retryAlone: (error: unknown) => !isDatabaseUnavailable(error) };
  const predictionWriter = new GroupCommit(async (predictions: PredictionInput[]) => (await storePredictions(sql, predictions, rules)).inserted, groupOptions);
  const actualWriter = new GroupCommit((actuals: ActualInput[]) => storeActuals(sql, actuals, rules), groupOptions);
  /** Stores (idempotently) and counts predictions; answers how many were new. */
  const ingest = async (predictions: PredictionInput[]) => {
    const inserted = await predictionWriter.submit(predictions);
    const stored = predictions.filter((_, index) => inserted[index]);
    exporter.predictionsStored(ingestFacts(stored));
    return { accepted: stored.length, duplicates: predictions.length - stored.length };
  };

  api.post(
    '/predictions',
    {
      ...write,
      schema: {
        summary: 'Log predictions (the seed\'s log_prediction)',
        description: `One prediction or an array of up to ${MAX_BATCH.toLocaleString('en-US')}, stored all-or-nothing. A request_id already stored is skipped (idempotent retries).`,
        tags: ['ingest'],
        body: PredictionBodySchema,
        response: { 201: IngestResultSchema, ...bodyErrorResponses },
      },
    },
    async (request, reply) => {
      const predictions = asList(request.body);
      assertStorableTimes(predictions, Array.isArray(request.body), retentionDays);
      return reply.status(201).send(await ingest(predictions));
    },
  );

  // Only the bulk route reads NDJSON: its parser (which hands the stream to the handler, so no
  // body is buffered) lives in a scope of its own, and the JSON routes answer 415 to NDJSON.
  await app.register(async (bulkScope) => {
    bulkScope.addContentTypeParser('application/x-ndjson', (request, payload, done) => {
      const encoded = encodingProblem(request);
      if (encoded) done(encoded, undefined);
      else done(null, payload);
    });
    const bulkApi = bulkScope.withTypeProvider<TypeBoxTypeProvider>();

    bulkApi.post(
      '/predictions/bulk',
      {
        onRequest: guards.ingest,
        // Before the body is parsed: a JSON body (which the JSON parser would read, or refuse as
        // invalid JSON if it has several lines) is the wrong media type here, not a bad body.
        preParsing: async (request) => {
          if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/x-ndjson') {
            throw new RequestProblem(415, 'send Content-Type: application/x-ndjson (one JSON prediction per line)');
          }
        },
        config: { ingest: true },
        schema: {
          summary: 'Bulk-load predictions from NDJSON (one prediction object per line)',
          description:
            'Content-Type: application/x-ndjson. Streamed with bounded memory and written in all-or-nothing writes of ' +
            `${BULK_CHUNK_ROWS} rows. Valid lines are stored; invalid ones are skipped and reported by line number. ` +
            'Idempotent by request_id: after fixing the reported lines, send the whole file again.',
          tags: ['ingest'],
          consumes: ['application/x-ndjson'],
          // Documents the body for OpenAPI only: it is a stream here, and each line is checked
          // against the prediction schema as it is read.
          body: {
            content: {
              'application/x-ndjson': {
                schema: { description: `One prediction object per line, as the body of POST /predictions (lines up to ${BULK_MAX_LINE_BYTES / 1024} KiB)` },
              },
            },
          },
          response: { 200: BulkResultSchema, ...streamedBodyErrorResponses },
        },
      },
      async (request) => {
        const result = { accepted: 0, duplicates: 0, rejected: 0, errors: [] as { line: number; field: string; message: string }[] };
        const reject = (line: number, problems: { field: string; message: string }[]) => {
          result.rejected++;
          for (const { field, message } of problems) {
            if (result.errors.length < MAX_LISTED_LINE_PROBLEMS) result.errors.push({ line, field, message });
          }
        };
        let chunk: PredictionInput[] = [];
        let lines = 0;
        // The next chunk is parsed while earlier ones are written; waiting for the oldest write
        // keeps at most BULK_WRITES_IN_FLIGHT + 1 chunks in memory.
        const writes: Promise<void>[] = [];
        const flush = async () => {
          const write = ingest(chunk).then((outcome) => {
            result.accepted += outcome.accepted;
            result.duplicates += outcome.duplicates;
          });
          write.catch(() => {}); // awaited below; meanwhile not an unhandled rejection
          writes.push(write);
          chunk = [];
          if (writes.length >= BULK_WRITES_IN_FLIGHT) await writes.shift();
        };
        for await (const entry of ndjsonLines(request.body as Readable, BULK_MAX_LINE_BYTES)) {
          lines++;
          const checked = checkedBulkLine(entry, retentionDays);
          if ('problems' in checked) {
            reject(checked.line, checked.problems);
            continue;
          }
          chunk.push(checked.prediction);
          if (chunk.length >= BULK_CHUNK_ROWS) await flush();
        }
        if (lines === 0) throw new RequestProblem(400, 'invalid body: no NDJSON lines (one prediction object per line)');
        if (chunk.length > 0) await flush();
        await Promise.all(writes);
        return result;
      },
    );
  });

  api.post(
    '/actuals',
    {
      ...write,
      schema: {
        summary: 'Record actual delays (the seed\'s update_actual_delay)',
        description: 'Labels every prediction of the booking; an actual sent again replaces the previous one. An actual for a booking not predicted yet is kept and joined when the prediction arrives.',
        tags: ['ingest'],
        body: ActualBodySchema,
        response: { 200: ActualResultSchema, ...bodyErrorResponses },
      },
    },
    async (request) => {
      const actuals = asList(request.body);
      const result = actualsOutcome(actuals, await actualWriter.submit(actuals));
      exporter.actualsStored(actuals.length);
      return result;
    },
  );

  api.post(
    '/prediction-failures',
    {
      ...write,
      // Every field has a default: a POST without a body (with or without a JSON Content-Type) reports one failure.
      config: { ...write.config, bodyOptional: true },
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: 'Count failed ML requests',
        description: 'For the feature-flag success rate: successes are the predictions logged, failures are reported here.',
        tags: ['ingest'],
        body: Type.Object(
          {
            count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
            model_version: Type.Optional(StoredModelVersion()),
            reason: Type.Optional(Text(200)),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ recorded: Type.Integer() }), ...bodyErrorResponses },
      },
    },
    async (request, reply) => {
      const count = request.body.count ?? 1;
      await recordFailures(sql, count, request.body.model_version ?? UNKNOWN_VERSION);
      exporter.failuresReported(count);
      return reply.status(201).send({ recorded: count });
    },
  );
}
