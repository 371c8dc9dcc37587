import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { openClosed } from '../../aggregate/window.js';
import { anomalies, decodeCursor, recentPredictions } from '../../store/read-predictions.js';
import { invalidField } from '../../server/errors.js';
import { ModelVersionQuery, PredictionSchema, RangeQuery, WindowQuery, errorResponses } from './schemas.js';
import { nowMicros, parseRange, parseWindow } from './window-params.js';
import type { ApiOptions } from './options.js';

export async function predictionRoutes(app: FastifyInstance, { sql, rules, guards }: ApiOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { onRequest: guards.read };

  api.get(
    '/predictions',
    {
      ...read,
      schema: {
        summary: 'Recent predictions, newest first (the seed\'s get_recent_predictions)',
        description:
          'Every stored prediction by default; `from` and `to` (both) keep those created in (from, to], e.g. a Grafana panel\'s range. ' +
          'Pass the X-Next-Cursor response header back as `cursor` to page further back, with the same filters (the Link header carries them).',
        tags: ['predictions'],
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            cursor: Type.Optional(Type.String({ maxLength: 100 })),
            ...RangeQuery,
            ...ModelVersionQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(PredictionSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { limit, cursor, from, to, model_version } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (after === null) throw invalidField('query', 'cursor', 'is not a cursor returned by this API (X-Next-Cursor)');
      const requested = parseRange(request.query);
      const range = requested && openClosed(requested.fromUs, requested.toUs);
      const page = await recentPredictions(sql, { limit, after, range, modelVersion: model_version });
      if (page.nextCursor) {
        const filters = { ...(model_version ? { model_version } : {}), ...(from !== undefined && to !== undefined ? { from, to } : {}) };
        const next = new URLSearchParams({ ...filters, limit: String(limit), cursor: page.nextCursor });
        reply.header('x-next-cursor', page.nextCursor);
        reply.header('link', `<${request.url.split('?')[0]}?${next}>; rel="next"`);
      }
      return page.predictions;
    },
  );

  api.get(
    '/anomalies',
    {
      ...read,
      schema: {
        summary: 'Predictions with error over a threshold, newest first (the seed\'s detect_anomalies)',
        tags: ['predictions'],
        querystring: Type.Object(
          {
            threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description: 'minutes; default MLMON_ANOMALY_THRESHOLD_MINUTES' })),
            limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
            ...WindowQuery,
            ...ModelVersionQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(PredictionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { threshold, limit, model_version } = request.query;
      const { fromUs, toUs } = parseWindow(request.query, nowMicros(), 24);
      return anomalies(sql, {
        range: openClosed(fromUs, toUs),
        thresholdMinutes: threshold ?? rules.anomalyThresholdMinutes,
        limit,
        modelVersion: model_version,
      });
    },
  );
}
