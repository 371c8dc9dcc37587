import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isoMicros, openClosed } from '../../aggregate/window.js';
import { anomalies, decodeCursor, recentPredictions } from '../../store/read-predictions.js';
import { invalidField } from '../../server/errors.js';
import { Defaulted, ModelVersionQuery, PredictionSchema, WindowQuery, errorResponses } from './schemas.js';
import { nowMicros, parseRange, parseWindow } from './window-params.js';
import type { ApiOptions } from './options.js';

/** The keyset position a `cursor` parameter names (undefined without one), or a 400. */
function positionAfter(cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  const after = decodeCursor(cursor);
  if (after === null) throw invalidField('query', 'cursor', 'is not a cursor returned by this API (X-Next-Cursor)');
  return after;
}

/** X-Next-Cursor, and a Link to the next page that repeats the request's filters. */
function linkNextPage(request: FastifyRequest, reply: FastifyReply, nextCursor: string | null, filters: Record<string, string | undefined>): void {
  if (nextCursor === null) return;
  const next = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) next.set(name, value);
  next.set('cursor', nextCursor);
  reply.header('x-next-cursor', nextCursor);
  reply.header('link', `<${request.url.split('?')[0]}?${next}>; rel="next"`);
}

export async function predictionRoutes(app: FastifyInstance, { readSql: sql, rules, guards }: ApiOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { onRequest: guards.read };

  api.get(
    '/predictions',
    {
      ...read,
      schema: {
        summary: 'Recent predictions, newest first (the seed\'s get_recent_predictions)',
        description:
          'Every stored prediction by default; `from` and `to` (both) keep those created in (from, to], e.g. a Grafana panel\'s range, ' +
          'and `hours` those of (now - hours, now] (as on /anomalies; the Link header then gives the exact range). ' +
          'Pass the X-Next-Cursor response header back as `cursor` to page further back, with the same filters (the Link header carries them).',
        tags: ['predictions'],
        querystring: Type.Object(
          {
            limit: Defaulted(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 100 })),
            ...WindowQuery,
            ...ModelVersionQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(PredictionSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { limit, cursor, hours, from, to, model_version } = request.query;
      // No window at all is every stored prediction; `hours` is a window, as on /anomalies.
      const requested = hours === undefined ? parseRange(request.query) : parseWindow(request.query, nowMicros(), hours);
      const range = requested && openClosed(requested.fromUs, requested.toUs);
      const page = await recentPredictions(sql, { limit, after: positionAfter(cursor), range, modelVersion: model_version });
      // `hours` moves with the clock: later pages get the exact range it stood for.
      const window = hours === undefined || !requested ? { from, to } : { from: isoMicros(requested.fromUs), to: isoMicros(requested.toUs) };
      linkNextPage(request, reply, page.nextCursor, { model_version, ...window, limit: String(limit) });
      return page.predictions;
    },
  );

  api.get(
    '/anomalies',
    {
      ...read,
      schema: {
        summary: 'Predictions with error over a threshold, newest first (the seed\'s detect_anomalies)',
        description:
          'When the window holds more than `limit`, pass the X-Next-Cursor response header back as `cursor` for the next page; ' +
          'the Link header carries the same filters, with `hours` replaced by the exact range it stood for, so that pages do not move with the clock.',
        tags: ['predictions'],
        querystring: Type.Object(
          {
            threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description: 'minutes; default MLMON_ANOMALY_THRESHOLD_MINUTES' })),
            limit: Defaulted(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
            cursor: Type.Optional(Type.String({ maxLength: 100 })),
            ...WindowQuery,
            ...ModelVersionQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(PredictionSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { threshold, limit, cursor, model_version } = request.query;
      const { fromUs, toUs } = parseWindow(request.query, nowMicros(), 24);
      const page = await anomalies(sql, {
        range: openClosed(fromUs, toUs),
        thresholdMinutes: threshold ?? rules.anomalyThresholdMinutes,
        limit,
        after: positionAfter(cursor),
        modelVersion: model_version,
      });
      linkNextPage(request, reply, page.nextCursor, {
        model_version,
        from: isoMicros(fromUs),
        to: isoMicros(toUs),
        threshold: threshold === undefined ? undefined : String(threshold),
        limit: String(limit),
      });
      return page.predictions;
    },
  );
}
