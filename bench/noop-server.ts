/**
 * The baseline of the single-prediction ingest benchmark: a Fastify server whose
 * POST /api/ml-monitoring/predictions has exactly the service's body schema (PredictionBodySchema),
 * validator compiler (installValidators: strict, allErrors), body limit and response schema, and
 * does nothing with the body. No auth, no hooks, no logging, no database: what remains of
 * mlmon's cost once this is subtracted is the service's own work.
 * Run as its own process: PORT=<port> node bench/.build/noop-server.js
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type FastifyType from 'fastify';
import { distFile, serviceRoot } from './lib/service.js';

type ValidationModule = typeof import('../src/server/validation.js');
type PredictionModule = typeof import('../src/validate/prediction.js');

const WRITE_BODY_LIMIT = 32 * 1024 * 1024; // as src/expose/api/ingest-routes.ts

async function main(): Promise<void> {
  // The service's own copy of fastify, so both sides run the same version.
  const require = createRequire(path.join(serviceRoot(), 'package.json'));
  const fastify = ((await import(pathToFileURL(require.resolve('fastify')).href)) as { default: typeof FastifyType }).default;
  const { installValidators } = (await import(pathToFileURL(distFile('server/validation.js')).href)) as ValidationModule;
  const { PredictionBodySchema, IngestResultSchema } = (await import(pathToFileURL(distFile('validate/prediction.js')).href)) as PredictionModule;

  const app = fastify({ logger: false });
  installValidators(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post(
    '/api/ml-monitoring/predictions',
    { bodyLimit: WRITE_BODY_LIMIT, schema: { body: PredictionBodySchema, response: { 201: IngestResultSchema } } },
    async (request, reply) => {
      const accepted = Array.isArray(request.body) ? request.body.length : 1;
      return reply.status(201).send({ accepted, duplicates: 0 });
    },
  );
  const port = Number(process.env.PORT ?? 0);
  await app.listen({ host: '127.0.0.1', port });
  const stop = () => void app.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`noop-server: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
