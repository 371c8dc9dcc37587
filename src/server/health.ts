import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Sql } from '../db/connect.js';

const READY_TIMEOUT_MS = 2000;
const Status = Type.Object({ status: Type.String(), message: Type.Optional(Type.String()) });

/**
 * Liveness (the process answers) and readiness (the database answers), for orchestrators. No token:
 * `security: []` overrides the OpenAPI document's default (the bearer token).
 */
export async function healthRoutes(app: FastifyInstance, { sql }: { sql: Sql }): Promise<void> {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['service'], security: [], response: { 200: Status } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: the database is reachable', tags: ['service'], security: [], response: { 200: Status, 503: Status } } },
    async (_request, reply) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          sql`select 1`,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
          }),
        ]);
        return { status: 'ok' };
      } catch {
        return reply.status(503).send({ status: 'unavailable', message: 'the database is not reachable' });
      } finally {
        clearTimeout(timer);
      }
    },
  );
}
