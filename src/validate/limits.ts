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
export const measure = (minimum: number, maximum: number) => Type.Number({ minimum, maximum, minMagnitude: MIN_MAGNITUDE });
export const Confidence = () => measure(0, 1);
export const LatencyMs = () => measure(0, 3_600_000);

/** Ids are stored as bigint but travel as JSON numbers: keep them exact. */
export const Id = () => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Delays in minutes, positive (late) or negative (early); bounded so sums stay meaningful. */
export const DelayMinutes = () => measure(-1_000_000, 1_000_000);
/**
 * The instants mlmon takes, [1900-01-01, 9999-01-01) UTC. Below year 100 postgres.js reads stored
 * timestamps back wrong (0077 as 1977), and at year 10000 PostgreSQL cannot read the bounds of a
 * window; nothing a model predicted lies outside.
 */
const EARLIEST_INSTANT_MS = Date.UTC(1900, 0, 1);
export const END_OF_INSTANTS_MS = Date.UTC(9999, 0, 1);
/** PostgreSQL's first year: rows stored before the rule above may lie as far back, and be paged to. */
export const EARLIEST_STORABLE_MS = Date.parse('0001-01-01T00:00:00Z');

/**
 * RFC 3339 in the form JavaScript and PostgreSQL read as the same instant: a `T`, at most six
 * digits of fraction (PostgreSQL keeps microseconds and rounds the rest, JavaScript cuts at
 * milliseconds: 23:59:59.9999995 on a month's last day would be two months), an offset within
 * PostgreSQL's ±15:59. The date must also exist (checked by ajv-formats) and Date must read it (a
 * leap second, 23:59:60, it cannot).
 */
const TIMESTAMP_SHAPE = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:[Zz]|[+-](\d\d):[0-5]\d)$/;

export function isStorableTimestamp(text: string): boolean {
  const shape = TIMESTAMP_SHAPE.exec(text);
  if (!shape || Number(shape[1] ?? 0) > 15) return false;
  const ms = Date.parse(text);
  return ms >= EARLIEST_INSTANT_MS && ms < END_OF_INSTANTS_MS;
}

export const TIMESTAMP_RULE = 'must be an RFC 3339 timestamp from 1900 to 9998 such as 2024-05-01T12:00:00Z (fraction up to 6 digits, offset within ±15:59)';

export const Timestamp = () => Type.String({ format: 'date-time', maxLength: 40 });
export const MODEL_VERSION_MAX_LENGTH = 50;
/** A version name is never empty: absent means `unknown` on writes and the whole fleet on reads. */
export const ModelVersion = () => Text(MODEL_VERSION_MAX_LENGTH, 1);
/** 'all' names the whole fleet (in the API and the gauges' model_version label), never a model. */
export const FLEET = 'all';
/** A version filter names the fleet when it is absent or 'all'. */
export const isFleet = (modelVersion: string | undefined): modelVersion is undefined | typeof FLEET => modelVersion === undefined || modelVersion === FLEET;
/** 'other' labels the versions past MLMON_MAX_MODEL_VERSIONS on /metrics, never a model. */
export const OTHER_VERSIONS = 'other';
/** The version of a prediction sent without one. */
export const UNKNOWN_VERSION = 'unknown';
/** The longest window a read takes: 366 days, a leap year. */
export const MAX_WINDOW_HOURS = 366 * 24;
/**
 * A version as stored: storable text without commas or surrounding whitespace. The read filters
 * that take several versions (/timeseries, the Grafana plugin) are comma-separated lists with
 * trimmed entries, so such a version could never be selected there (and " all" would read as the fleet).
 */
export const STORABLE_MODEL_VERSION = '^(?!\\s)(?![\\s\\S]*\\s$)[^\\u0000\\uD800-\\uDFFF,]*$';
export const StoredModelVersion = () =>
  Type.String({ minLength: 1, maxLength: MODEL_VERSION_MAX_LENGTH, pattern: STORABLE_MODEL_VERSION, not: { enum: [FLEET, OTHER_VERSIONS] } });
/** Backfilled timestamps may not lie further ahead than this (clock skew), or windows would lie. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
