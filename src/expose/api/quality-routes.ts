import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { dailyMetrics, metricsBetween, metricsEndingAt, timeseries } from '../../aggregate/reports.js';
import { DAY_US, floorTo, HOUR_US, MICROS_PER_MS, MINUTE_US } from '../../aggregate/window.js';
import { modelVersionsSince } from '../../store/read-predictions.js';
import { readReport } from '../../store/read-window.js';
import { readOverview } from '../../store/overview.js';
import { invalidField } from '../../server/errors.js';
import { MAX_WINDOW_HOURS, MODEL_VERSION_MAX_LENGTH, ModelVersion, Text, Timestamp } from '../../validate/limits.js';
import { DailySchema, Defaulted, MetricsSchema, ModelVersionQuery, NoQuery, QualityFields, WindowQuery, errorResponses } from './schemas.js';
import { nowMicros, parseWindow } from './window-params.js';
import type { ApiOptions } from './options.js';
import { rounded } from '../../aggregate/metrics.js';

/** A series may have at most this many points (a year at 1 h, a week at 1 min). */
const MAX_POINTS = 11_000;
/**
 * And an answer at most this many in all, however many versions it lists: its JSON is built in
 * one go on the event loop, where every other request waits (~0.2 s for 22,000 points on the
 * 2-core benchmark machine; 300 versions of a week at 1 min exhausted the heap).
 */
const MAX_POINTS_IN_ALL = 22_000;

export async function qualityRoutes(app: FastifyInstance, { readSql: sql, rules, guards }: ApiOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { onRequest: guards.read };

  api.get(
    '/metrics',
    {
      ...read,
      schema: {
        summary: 'Quality metrics of a window (the seed\'s get_metrics)',
        tags: ['quality'],
        querystring: Type.Object({ ...WindowQuery, ...ModelVersionQuery }, { additionalProperties: false }),
        response: { 200: MetricsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { fromUs, toUs } = parseWindow(request.query, nowMicros(), 24);
      return readReport(sql, metricsBetween(rules, fromUs, toUs, request.query.model_version));
    },
  );

  api.get(
    '/daily',
    {
      ...read,
      schema: {
        summary: 'Metrics per UTC day (the seed\'s get_daily_metrics)',
        description:
          'Exactly `days` days ending today (today ends now), oldest first; empty days have count 0. ' +
          'A day is [from, to): midnight UTC up to the next midnight (a window of /metrics is (from, to]).',
        tags: ['quality'],
        querystring: Type.Object(
          { days: Defaulted(Type.Integer({ minimum: 1, maximum: 366, default: 7 })), ...ModelVersionQuery },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(DailySchema), ...errorResponses },
      },
    },
    async (request) => readReport(sql, dailyMetrics(rules, request.query.days, nowMicros(), request.query.model_version)),
  );

  api.get(
    '/timeseries',
    {
      ...read,
      schema: {
        summary: 'Metrics per time bucket over a range (for Grafana panels)',
        description:
          'Buckets [t, t+step) aligned to multiples of step since the epoch, clipped to (from, to]; each bucket is exact. ' +
          'model_version: comma-separated list (one series each); absent: one fleet series named "all". ' +
          `At most ${MAX_POINTS} points per series and ${MAX_POINTS_IN_ALL} in all.`,
        tags: ['quality'],
        querystring: Type.Object(
          {
            from: Timestamp(),
            to: Timestamp(),
            step: Defaulted(Type.Integer({ minimum: 60, maximum: 366 * 86400, multipleOf: 60, default: 60, description: 'seconds' })),
            model_version: Type.Optional(Text(2000)),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            from: Type.String({ format: 'date-time' }),
            to: Type.String({ format: 'date-time' }),
            step_seconds: Type.Integer(),
            series: Type.Array(
              Type.Object({
                model_version: Type.String(),
                points: Type.Array(Type.Object({ time: Type.String({ format: 'date-time' }), ...QualityFields })),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { from, to, step, model_version } = request.query;
      const { fromUs, toUs } = parseWindow({ from, to }, nowMicros(), 24);
      const stepUs = step * 1_000_000;
      // Buckets are aligned to the epoch: count the ones the range (from, to] touches.
      const points = Math.floor(toUs / stepUs) - Math.floor((fromUs + 1) / stepUs) + 1;
      if (points > MAX_POINTS) throw invalidField('query', 'step', `gives more than ${MAX_POINTS} points for this range; use a larger step`);
      const versions = model_version === undefined ? undefined : [...new Set(model_version.split(',').map((v) => v.trim()).filter(Boolean))];
      if (versions?.some((v) => v.length > MODEL_VERSION_MAX_LENGTH)) {
        throw invalidField('query', 'model_version', `has a version longer than ${MODEL_VERSION_MAX_LENGTH} characters`);
      }
      if (versions && versions.length * points > MAX_POINTS_IN_ALL) {
        throw invalidField(
          'query',
          'model_version',
          `asks for ${versions.length} series of ${points} points, more than ${MAX_POINTS_IN_ALL} in all; use fewer versions or a larger step`,
        );
      }
      return {
        from: new Date(fromUs / MICROS_PER_MS).toISOString(),
        to: new Date(toUs / MICROS_PER_MS).toISOString(),
        step_seconds: step,
        series: await readReport(sql, timeseries(rules, fromUs, toUs, stepUs, versions?.length ? versions : undefined)),
      };
    },
  );

  api.get(
    '/summary',
    {
      ...read,
      schema: {
        summary: 'Overview (the seed\'s get_summary)',
        description: 'feature_flags request counts cover the last 24 h: successes are predictions logged, failures those reported.',
        tags: ['quality'],
        querystring: NoQuery,
        response: {
          200: Type.Object({
            total_predictions: Type.Integer(),
            metrics_24h: MetricsSchema,
            metrics_7d: MetricsSchema,
            feature_flags: Type.Object({
              ml_enabled: Type.Boolean(),
              ml_traffic_percentage: Type.Integer(),
              ml_requests: Type.Integer(),
              ml_successes: Type.Integer(),
              ml_failures: Type.Integer(),
              ml_success_rate: Type.Union([Type.Number(), Type.Null()]),
            }),
            anomalies_count: Type.Integer(),
            timestamp: Type.String({ format: 'date-time' }),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const nowUs = nowMicros();
      const [{ totalPredictions: total, flags, failures }, [day, week]] = await Promise.all([
        readOverview(sql, nowUs - DAY_US),
        readReport(sql, metricsEndingAt(rules, nowUs, [DAY_US, 7 * DAY_US])),
      ]);
      const requests = day.predictions + failures;
      return {
        total_predictions: total,
        metrics_24h: day,
        metrics_7d: week,
        feature_flags: {
          ml_enabled: flags.ml_enabled,
          ml_traffic_percentage: flags.ml_traffic_percentage,
          ml_requests: requests,
          ml_successes: day.predictions,
          ml_failures: failures,
          ml_success_rate: requests > 0 ? rounded(day.predictions / requests) : null,
        },
        anomalies_count: day.anomalies,
        timestamp: new Date(nowUs / MICROS_PER_MS).toISOString(),
      };
    },
  );

  api.get(
    '/model-versions',
    {
      ...read,
      schema: {
        summary: 'Model versions with predictions in the window (for Grafana variables)',
        tags: ['quality'],
        querystring: Type.Object(
          { hours: Defaulted(Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, default: 168 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ model_versions: Type.Array(ModelVersion()) }), ...errorResponses },
      },
    },
    async (request) => {
      const sinceUs = nowMicros() - request.query.hours * HOUR_US;
      return { model_versions: await modelVersionsSince(sql, floorTo(sinceUs, MINUTE_US)) };
    },
  );
}
