import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NoQuery, errorResponses } from './schemas.js';
import { ingestRoutes } from './ingest-routes.js';
import { qualityRoutes } from './quality-routes.js';
import { predictionRoutes } from './prediction-routes.js';
import { flagRoutes } from './flag-routes.js';
import type { ApiOptions } from './options.js';

/** Bumped on incompatible changes to the routes below; the Grafana plugin checks it. */
const API_VERSION = 1;

/** The monitoring API, mounted under /api/ml-monitoring. Every route needs a token. */
export async function monitoringApi(app: FastifyInstance, { sql, readSql, rules, guards, exporter, version, retentionDays }: ApiOptions): Promise<void> {
  // Pass on only the dependencies: the register options also carry this plugin's own prefix.
  const options: ApiOptions = { sql, readSql, rules, guards, exporter, version, retentionDays };
  await app.register(ingestRoutes, options);
  await app.register(qualityRoutes, options);
  await app.register(predictionRoutes, options);
  await app.register(flagRoutes, options);
  app.get(
    '/info',
    {
      onRequest: options.guards.read,
      schema: {
        summary: 'Service and API version (the Grafana plugin\'s health check), and the rules errors are judged by',
        tags: ['service'],
        querystring: NoQuery,
        response: {
          200: Type.Object({
            service: Type.Literal('mlmon'),
            version: Type.String(),
            api_version: Type.Integer(),
            accuracy_tolerance_minutes: Type.Number({ description: 'accuracy_rate counts errors below this (MLMON_ACCURACY_TOLERANCE_MINUTES)' }),
            anomaly_threshold_minutes: Type.Number({ description: 'anomalies are errors above this (MLMON_ANOMALY_THRESHOLD_MINUTES)' }),
          }),
          ...errorResponses,
        },
      },
    },
    async () => ({
      service: 'mlmon' as const,
      version: options.version,
      api_version: API_VERSION,
      accuracy_tolerance_minutes: options.rules.accuracyToleranceMinutes,
      anomaly_threshold_minutes: options.rules.anomalyThresholdMinutes,
    }),
  );
}
