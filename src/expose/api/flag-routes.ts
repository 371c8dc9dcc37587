import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { usesMl } from '../../flags/rollout.js';
import { readFlags, updateFlags } from '../../store/feature-flags.js';
import { Id } from '../../validate/limits.js';
import { FlagsSchema, NoQuery, bodyErrorResponses, errorResponses } from './schemas.js';
import type { ApiOptions } from './options.js';

export async function flagRoutes(app: FastifyInstance, { sql, guards }: ApiOptions): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/feature-flags',
    { onRequest: guards.read, schema: { summary: 'The ML rollout flag', tags: ['feature flags'], querystring: NoQuery, response: { 200: FlagsSchema, ...errorResponses } } },
    async () => readFlags(sql),
  );

  api.put(
    '/feature-flags',
    {
      onRequest: guards.ingest,
      schema: {
        summary: 'Turn ML on/off and set its traffic share (the seed\'s activate_ml)',
        tags: ['feature flags'],
        body: Type.Object(
          {
            ml_enabled: Type.Optional(Type.Boolean()),
            ml_traffic_percentage: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: FlagsSchema, ...bodyErrorResponses },
      },
    },
    async (request) => updateFlags(sql, request.body),
  );

  api.get(
    '/feature-flags/decision',
    {
      onRequest: guards.read,
      schema: {
        summary: 'Whether a booking is served by the ML model under the current rollout',
        description: 'Deterministic: the same booking gets the same answer at a given percentage, and keeps it when the percentage rises.',
        tags: ['feature flags'],
        querystring: Type.Object({ booking_id: Id() }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            booking_id: Type.Integer(),
            use_ml: Type.Boolean(),
            ml_enabled: Type.Boolean(),
            ml_traffic_percentage: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const flags = await readFlags(sql);
      const { booking_id } = request.query;
      return { booking_id, use_ml: usesMl(booking_id, flags), ml_enabled: flags.ml_enabled, ml_traffic_percentage: flags.ml_traffic_percentage };
    },
  );
}
