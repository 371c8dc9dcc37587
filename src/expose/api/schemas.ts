import { Type, type TSchema } from 'typebox';
import { MAX_WINDOW_HOURS, MODEL_VERSION_MAX_LENGTH, STORABLE_MODEL_VERSION, Timestamp } from '../../validate/limits.js';
import type { QualityMetrics } from '../../aggregate/metrics.js';

const OrNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const QualityFields = {
  predictions: Type.Integer({ description: 'predictions created in the window' }),
  count: Type.Integer({ description: 'of those, predictions with an actual (labelled)' }),
  mae: OrNull(Type.Number({ description: 'mean |predicted - actual|, minutes' })),
  rmse: OrNull(Type.Number({ description: 'root mean squared error, minutes' })),
  bias: OrNull(
    Type.Number({
      description:
        'mean (predicted - actual), minutes: positive when the model predicts longer delays than happen; ' +
        'null when count = 0, or when the window reaches back into predictions dropped by retention before mlmon kept this sum',
    }),
  ),
  r2: OrNull(Type.Number({ description: '1 - SS_res/SS_tot; null when count < 2 or the actuals have no spread' })),
  accuracy_rate: OrNull(Type.Number({ description: 'share of labelled predictions with error < tolerance' })),
  avg_confidence: OrNull(Type.Number()),
  avg_prediction_time_ms: OrNull(Type.Number({ description: 'over the predictions that reported a latency' })),
  anomalies: Type.Integer({ description: 'labelled predictions with error > the anomaly threshold' }),
  // Exactly the fields metricsOf computes: Fastify's serializer drops a field the response schema
  // does not declare, silently, so a new metric missing here is a compile error instead.
} satisfies Record<keyof QualityMetrics, TSchema>;

export const MetricsSchema = Type.Object({
  period_hours: Type.Number(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  ...QualityFields,
});

export const DailySchema = Type.Object({ date: Type.String({ format: 'date' }), ...MetricsSchema.properties });

const Time = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
const NullableTime = Type.Unsafe<Date | string | null>({ type: ['string', 'null'], format: 'date-time' });

export const PredictionSchema = Type.Object({
  id: Type.Integer(),
  booking_id: Type.Integer(),
  driver_id: OrNull(Type.Integer()),
  request_id: OrNull(Type.String()),
  predicted_delay_minutes: Type.Number(),
  confidence: Type.Number(),
  risk_level: Type.String(),
  contributing_factors: OrNull(Type.Record(Type.String(), Type.Number())),
  model_version: Type.String(),
  prediction_time_ms: OrNull(Type.Number()),
  feature_flag_enabled: OrNull(Type.Boolean()),
  traffic_percentage: OrNull(Type.Integer()),
  actual_delay_minutes: OrNull(Type.Number()),
  actual_pickup_at: NullableTime,
  actual_dropoff_at: NullableTime,
  prediction_error: OrNull(Type.Number()),
  is_accurate: OrNull(Type.Boolean()),
  created_at: Time,
  updated_at: Time,
});

export const FlagsSchema = Type.Object({
  ml_enabled: Type.Boolean(),
  ml_traffic_percentage: Type.Integer({ minimum: 0, maximum: 100 }),
  updated_at: Time,
});

/**
 * A query parameter with a default: optional to the client (and so in the OpenAPI document), but
 * always present in the handler, where ajv (useDefaults) has filled it in.
 */
export const Defaulted = <T extends TSchema>(schema: T): T => Type.Optional(schema) as unknown as T;

/**
 * One version, or 'all' for the fleet. Stored versions have no commas, so a comma here is a list,
 * which only /timeseries takes: refused, rather than read as a version that matches nothing.
 */
export const ModelVersionQuery = {
  model_version: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MODEL_VERSION_MAX_LENGTH,
      pattern: STORABLE_MODEL_VERSION,
      description: "one model version, or 'all' for the fleet (several, comma-separated: /timeseries)",
    }),
  ),
};

/** For routes that take no parameters: one sent anyway (`/summary?hours=5`) is a 400, not silently ignored. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** An exact range (from, to]: both or neither; see parseRange. */
export const RangeQuery = {
  from: Type.Optional(Timestamp()),
  to: Type.Optional(Timestamp()),
};

/** `hours` or an explicit `from`/`to`; see parseWindow. */
export const WindowQuery = {
  hours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, description: 'window (now - hours, now]' })),
  ...RangeQuery,
};

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(
    Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), field: Type.String(), message: Type.String() })),
  ),
});

/** Error responses every authenticated route documents. */
export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  503: ErrorSchema,
  /** A statement cancelled by the read timeout (MLMON_READ_TIMEOUT_SECONDS). */
  504: ErrorSchema,
};

/** ... and the writes, which refuse the read token (403); each takes a body. */
const writeErrorResponses = {
  ...errorResponses,
  403: ErrorSchema,
};

/** ... and those that take a streamed body: not the route's media type, or compressed (415). */
export const streamedBodyErrorResponses = {
  ...writeErrorResponses,
  415: ErrorSchema,
};

/** ... and those that read their body whole, which may also be too large (413). */
export const bodyErrorResponses = {
  ...streamedBodyErrorResponses,
  413: ErrorSchema,
};
