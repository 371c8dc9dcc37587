import { Type } from 'typebox';

/** PostgreSQL rejects NUL in text and jsonb: refuse it at the door with a 400, not a 500. */
const NO_NUL = '^[^\\u0000]*$';

export const Text = (maxLength: number) => Type.String({ maxLength, pattern: NO_NUL });
/** Ids are stored as bigint but travel as JSON numbers: keep them exact. */
export const Id = () => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Delays in minutes, positive (late) or negative (early); bounded so sums stay meaningful. */
export const DelayMinutes = () => Type.Number({ minimum: -1_000_000, maximum: 1_000_000 });
export const Timestamp = () => Type.String({ format: 'date-time', maxLength: 40 });
export const ModelVersion = () => Text(50);
/** 'all' names the whole fleet (in the API and the gauges' model_version label), never a model. */
export const FLEET = 'all';
export const StoredModelVersion = () => Type.String({ maxLength: 50, pattern: NO_NUL, not: { const: FLEET } });
/** Backfilled timestamps may not lie further ahead than this (clock skew), or windows would lie. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
