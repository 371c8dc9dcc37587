import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cors from '@fastify/cors';
import type { Sql } from './db/connect.js';
import type { ErrorRules } from './aggregate/contribution.js';
import { accessGuards } from './server/auth.js';
import { installErrorHandler } from './server/errors.js';
import { installJsonBodyParser } from './server/json-body.js';
import { installValidators } from './server/validation.js';
import { installSecurityHeaders } from './server/security-headers.js';
import { healthRoutes } from './server/health.js';
import type { Tokens } from './server/tokens.js';
import { monitoringApi } from './expose/api/index.js';
import { API_PREFIX } from './expose/api/options.js';
import prometheus from './expose/prometheus/plugin.js';
import { Exporter } from './expose/prometheus/exporter.js';

export interface AppOptions {
  /** The write pool: ingest, flags, health. */
  sql: Sql;
  /** The read pool (the API's reads, the gauge refresh), with a statement timeout; default: `sql`. */
  readSql?: Sql;
  tokens: Tokens;
  rules: ErrorRules;
  metricsCacheSeconds: number;
  /** MLMON_RETENTION_DAYS, when set: writes older than it are refused. */
  retentionDays?: number;
  /** Model versions with series of their own on /metrics (the rest are labelled `other`); default 50. */
  maxModelVersions?: number;
  /** Headers and body must arrive within this (slow-loris clients are cut off); default 30 s. */
  requestTimeoutSeconds?: number;
  version: string;
  /** Origins allowed by CORS; empty: no cross-origin browser access. */
  corsOrigins?: string[];
  logger?: FastifyServerOptions['logger'];
  /** One log line per request and response (an access log); off by default, see config. */
  logRequests?: boolean;
}


/** Assembles the service: validation and errors, health, the monitoring API, /metrics, OpenAPI. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const requestTimeoutMs = (options.requestTimeoutSeconds ?? 30) * 1000;
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    // Timeouts keep a slow client from holding a connection for ever. Node enforces them on a
    // periodic check (30 s by default): once a second, a cut-off comes at most 1 s late.
    // requestTimeout also goes to the server's constructor: Node 20 ignores it for a slow BODY
    // when it is only assigned afterwards, which is what Fastify's own option does.
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs,
    http: { requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, requestTimeoutMs / 2) },
    return503OnClosing: true,
  });
  // JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  installValidators(app);
  installErrorHandler(app);

  const guards = accessGuards(options.tokens);
  const readSql = options.readSql ?? options.sql;
  const exporter = new Exporter({
    sql: readSql,
    rules: options.rules,
    cacheSeconds: options.metricsCacheSeconds,
    maxModelVersions: options.maxModelVersions ?? 50,
    onRefreshError: (error) => app.log.warn({ err: error }, 'could not refresh the quality gauges; serving the last values (while this lasts, logged once a minute)'),
    onRefreshRecovered: (failedForMs) => app.log.info({ failedForMs }, 'quality gauges refreshed again'),
  });

  installSecurityHeaders(app);
  if (options.corsOrigins?.length) {
    await app.register(cors, { origin: options.corsOrigins, methods: ['GET', 'POST', 'PUT'], allowedHeaders: ['authorization', 'content-type'] });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: 'mlmon', description: 'Monitoring API for ML predictions', version: options.version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // The service speaks plain HTTP (TLS, if any, ends in front of it): upgrading the page's own
    // scripts to https would leave it blank for anyone not on localhost.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  await app.register(prometheus, { exporter, guard: guards.metrics });
  await app.register(healthRoutes, { sql: options.sql });
  await app.register(monitoringApi, {
    prefix: API_PREFIX,
    sql: options.sql,
    readSql,
    rules: options.rules,
    guards,
    exporter,
    version: options.version,
    retentionDays: options.retentionDays,
  });
  return app;
}
