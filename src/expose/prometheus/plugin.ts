import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ErrorSchema } from '../api/schemas.js';
import type { Exporter, RejectReason } from './exporter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Marks write routes: their refusals count in ml_ingest_rejected_total. */
    ingest?: boolean;
  }
}

interface PrometheusPluginOptions {
  exporter: Exporter;
  guard: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

function reasonOf(statusCode: number): RejectReason {
  switch (statusCode) {
    case 400:
      return 'invalid';
    case 401:
    case 403:
      return 'unauthorized';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 503:
      return 'database_unavailable';
    default:
      return 'other';
  }
}

/**
 * GET /metrics plus the hooks that time every request. Not encapsulated (fastify-plugin): the
 * hooks must see the routes registered beside it.
 */
async function prometheusPlugin(app: FastifyInstance, { exporter, guard }: PrometheusPluginOptions): Promise<void> {
  app.addHook('onClose', async () => exporter.close());
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    exporter.requestAnswered({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (request.routeOptions.config?.ingest && reply.statusCode >= 400) exporter.rejectedWrite(reasonOf(reply.statusCode));
  });

  app.get(
    '/metrics',
    {
      onRequest: guard,
      schema: {
        summary: 'Prometheus exposition',
        description: 'Quality gauges per window and model version, ingest counters, HTTP and process metrics.',
        tags: ['metrics'],
        // Open unless MLMON_METRICS_TOKEN is set (`{}`: no token is one of the options).
        security: [{}, { bearer: [] }],
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'Prometheus text exposition format' }),
          401: ErrorSchema,
        },
      },
    },
    async (_request, reply) => {
      const body = await exporter.render();
      return reply.type(exporter.registry.contentType).send(body);
    },
  );
}

export default fp(prometheusPlugin, { name: 'mlmon-prometheus', fastify: '5.x' });
