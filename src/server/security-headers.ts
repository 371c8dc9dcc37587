import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** No CSP: this is a JSON API; the docs page (@fastify/swagger-ui) sets its own. */
export const HELMET_OPTIONS: Parameters<typeof helmet>[0] = { contentSecurityPolicy: false };

/**
 * The headers helmet's middleware sets, recorded once. Without a CSP they do not depend on the
 * request, so there is no need to run eleven middlewares per request.
 */
export function helmetHeaders(options = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * helmet's security headers on every response, 404s and errors included (an API behind Grafana's
 * proxy). They go into the reply's own headers rather than through res.setHeader, which keeps
 * Node on its fast path for writing the head. @fastify/helmet, used before, rebuilt helmet's
 * middleware on every request: about a tenth of a single-prediction POST's CPU (BENCHMARKS.md).
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  const headers = helmetHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
