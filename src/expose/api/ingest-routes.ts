import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { storePredictions } from '../../store/predictions.js';
import { GroupCommit } from '../../store/group-commit.js';
import { storeActuals } from '../../store/actuals.js';
import { recordFailures } from '../../store/feature-flags.js';
import { invalidField } from '../../server/errors.js';
import { MAX_FUTURE_SKEW_MS, ModelVersion, Text } from '../../validate/limits.js';
import { IngestResultSchema, PredictionBodySchema, type PredictionInput } from '../../validate/prediction.js';
import { ActualBodySchema, ActualResultSchema } from '../../validate/actual.js';
import { errorResponses } from './schemas.js';
import type { ApiOptions } from './options.js';

const asList = <T>(body: T | T[]): T[] => (Array.isArray(body) ? body : [body]);

/** Rules a JSON schema cannot state: a backfill timestamp may not lie in the future. */
function assertNotInFuture(predictions: PredictionInput[], isBatch: boolean): void {
  const latest = Date.now() + MAX_FUTURE_SKEW_MS;
  predictions.forEach((p, index) => {
    if (p.created_at !== undefined && Date.parse(p.created_at) > latest) {
      throw invalidField('body', 'created_at', 'must not be more than 5 minutes in the future', isBatch ? index : undefined);
    }
  });
}

/** Large batches are welcome on the write routes (10,000 predictions are a few MB). */
const WRITE_BODY_LIMIT = 32 * 1024 * 1024;

export async function ingestRoutes(app: FastifyInstance, { sql, rules, guards, exporter }: ApiOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const write = { preHandler: guards.ingest, bodyLimit: WRITE_BODY_LIMIT, config: { ingest: true } };
  const predictionWriter = new GroupCommit((predictions) => storePredictions(sql, predictions, rules));

  api.post(
    '/predictions',
    {
      ...write,
      schema: {
        summary: 'Log predictions (the seed\'s log_prediction)',
        description: 'One prediction or an array of up to 10,000, stored all-or-nothing. A request_id already stored is skipped (idempotent retries).',
        tags: ['ingest'],
        body: PredictionBodySchema,
        response: { 201: IngestResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const predictions = asList(request.body);
      assertNotInFuture(predictions, Array.isArray(request.body));
      const { accepted, duplicates, stored } = await predictionWriter.submit(predictions);
      exporter.predictionsStored(stored.map((p) => ({ model_version: p.model_version ?? 'unknown', prediction_time_ms: p.prediction_time_ms ?? null })));
      return reply.status(201).send({ accepted, duplicates });
    },
  );

  api.post(
    '/actuals',
    {
      ...write,
      schema: {
        summary: 'Record actual delays (the seed\'s update_actual_delay)',
        description: 'Labels every prediction of the booking; an actual sent again replaces the previous one. An actual for a booking not predicted yet is kept and joined when the prediction arrives.',
        tags: ['ingest'],
        body: ActualBodySchema,
        response: { 200: ActualResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const actuals = asList(request.body);
      const result = await storeActuals(sql, actuals, rules);
      exporter.actualsStored(actuals.length);
      return result;
    },
  );

  api.post(
    '/prediction-failures',
    {
      ...write,
      schema: {
        summary: 'Count failed ML requests',
        description: 'For the feature-flag success rate: successes are the predictions logged, failures are reported here.',
        tags: ['ingest'],
        body: Type.Object(
          {
            count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
            model_version: Type.Optional(ModelVersion()),
            reason: Type.Optional(Text(200)),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ recorded: Type.Integer() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const count = request.body.count ?? 1;
      await recordFailures(sql, count, request.body.model_version ?? 'unknown');
      exporter.failuresReported(count);
      return reply.status(201).send({ recorded: count });
    },
  );
}
