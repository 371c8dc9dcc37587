import { Type, type Static } from 'typebox';
import { Confidence, DelayMinutes, Id, LatencyMs, MAX_FUTURE_SKEW_MS, StoredModelVersion, Text, Timestamp, measure } from './limits.js';

export const MAX_BATCH = 10_000;

export const PredictionInputSchema = Type.Object(
  {
    booking_id: Id(),
    predicted_delay_minutes: DelayMinutes(),
    confidence: Confidence(),
    risk_level: Text(20, 1),
    driver_id: Type.Optional(Id()),
    request_id: Type.Optional(Text(100, 1)),
    contributing_factors: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: measure(-1e12, 1e12),
          propertyNames: Text(100),
          maxProperties: 100,
          description: 'feature name -> contribution, e.g. {"distance_x_weather": 0.42}',
        },
      ),
    ),
    model_version: Type.Optional(StoredModelVersion()),
    prediction_time_ms: Type.Optional(LatencyMs()),
    feature_flag_enabled: Type.Optional(Type.Boolean()),
    traffic_percentage: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    created_at: Type.Optional(Timestamp()),
  },
  { additionalProperties: false },
);
export type PredictionInput = Static<typeof PredictionInputSchema> & { contributing_factors?: Record<string, number> };

/**
 * A prediction whose created_at is older than this on arrival is history (a backfill, an import of
 * the Flask monitor's table), not live traffic: it is stored and rolled up like any other, but the
 * request and latency series, which alerts read as rates of what is happening now, leave it out.
 */
export const LIVE_AGE_MS = 5 * 60_000;

/**
 * What a JSON schema cannot say of `created_at`: not ahead of the clock (windows would lie), and,
 * with a retention set, not older than it: the row's month is dropped already or will be once it
 * ends, and a row sent again after its request id was forgotten would count twice in the rollups,
 * which stay.
 */
export function createdAtProblem(p: PredictionInput, nowMs: number, retentionDays: number | undefined): string | null {
  if (p.created_at === undefined) return null;
  const createdMs = Date.parse(p.created_at);
  if (createdMs > nowMs + MAX_FUTURE_SKEW_MS) return `must not be more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future`;
  if (retentionDays !== undefined && createdMs < nowMs - retentionDays * 86_400_000) {
    return `must not be older than the retention (MLMON_RETENTION_DAYS=${retentionDays} days): older predictions are dropped`;
  }
  return null;
}

export const isLive = (p: PredictionInput, nowMs: number): boolean =>
  p.created_at === undefined || Date.parse(p.created_at) >= nowMs - LIVE_AGE_MS;

/**
 * One object or an array of up to 10,000. if/then/else (not anyOf) so that a bad row is reported
 * against the shape it was meant to have, with its index.
 */
export const PredictionBodySchema = Type.Unsafe<PredictionInput | PredictionInput[]>({
  if: { type: 'array' },
  then: Type.Array(PredictionInputSchema, { minItems: 1, maxItems: MAX_BATCH }),
  else: PredictionInputSchema,
  description: `one prediction, or an array of 1 to ${MAX_BATCH} stored all-or-nothing`,
});

export const IngestResultSchema = Type.Object({
  accepted: Type.Integer({ description: 'predictions stored' }),
  duplicates: Type.Integer({ description: 'predictions skipped because their request_id was already stored' }),
});
