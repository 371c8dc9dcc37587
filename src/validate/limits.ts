import { Type } from 'typebox';

/**
 * PostgreSQL rejects NUL and unpaired UTF-16 surrogates (invalid Unicode) in text and jsonb:
 * refuse them at the door with a 400, not a 500. (ajv compiles patterns with the `u` flag, where
 * a surrogate range only matches unpaired halves.)
 */
export const STORABLE_TEXT = '^[^\\u0000\\uD800-\\uDFFF]*$';

export const Text = (maxLength: number, minLength = 0) => Type.String({ minLength, maxLength, pattern: STORABLE_TEXT });
/**
 * Non-zero numbers smaller than this are refused: their squares (in RMSE, R² and the rollup
 * merge) would underflow, which PostgreSQL reports as an error. Nothing measured in minutes,
 * milliseconds or probabilities is that small.
 */
export const MIN_MAGNITUDE = 1e-100;
const measure = (minimum: number, maximum: number) => Type.Number({ minimum, maximum, minMagnitude: MIN_MAGNITUDE });
export const Confidence = () => measure(0, 1);
export const LatencyMs = () => measure(0, 3_600_000);

/** Ids are stored as bigint but travel as JSON numbers: keep them exact. */
export const Id = () => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Delays in minutes, positive (late) or negative (early); bounded so sums stay meaningful. */
export const DelayMinutes = () => measure(-1_000_000, 1_000_000);
/** PostgreSQL has no year 0: the earliest storable instant is the start of year 1. */
export const Timestamp = () => Type.String({ format: 'date-time', maxLength: 40, formatMinimum: '0001-01-01T00:00:00Z' });
export const MODEL_VERSION_MAX_LENGTH = 50;
export const ModelVersion = () => Text(MODEL_VERSION_MAX_LENGTH);
/** 'all' names the whole fleet (in the API and the gauges' model_version label), never a model. */
export const FLEET = 'all';
/** 'other' labels the versions past MLMON_MAX_MODEL_VERSIONS on /metrics, never a model. */
export const OTHER_VERSIONS = 'other';
export const StoredModelVersion = () =>
  Type.String({ maxLength: MODEL_VERSION_MAX_LENGTH, pattern: STORABLE_TEXT, not: { enum: [FLEET, OTHER_VERSIONS] } });
/** Backfilled timestamps may not lie further ahead than this (clock skew), or windows would lie. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
