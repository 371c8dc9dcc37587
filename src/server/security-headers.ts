import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * helmet's security headers on every response, 404s and errors included (an API behind Grafana's
 * proxy; the docs page sets its own CSP). helmet's middleware is built once here:
 * @fastify/helmet rebuilds it for every request and adds an async hook per reply, which cost the
 * single-prediction POST about a tenth of its CPU (BENCHMARKS.md).
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  const applyHeaders = helmet({ contentSecurityPolicy: false });
  app.addHook('onRequest', (request, reply, done) => applyHeaders(request.raw, reply.raw, () => done()));
}
