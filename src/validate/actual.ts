import { Type, type Static } from 'typebox';
import { DelayMinutes, Id, Timestamp } from './limits.js';
import { MAX_BATCH } from './prediction.js';

const ActualInputSchema = Type.Object(
  {
    booking_id: Id(),
    actual_delay_minutes: DelayMinutes(),
    actual_pickup_at: Type.Optional(Timestamp()),
    actual_dropoff_at: Type.Optional(Timestamp()),
  },
  { additionalProperties: false },
);
export type ActualInput = Static<typeof ActualInputSchema>;

export const ActualBodySchema = Type.Unsafe<ActualInput | ActualInput[]>({
  if: { type: 'array' },
  then: Type.Array(ActualInputSchema, { minItems: 1, maxItems: MAX_BATCH }),
  else: ActualInputSchema,
  description: `one actual, or an array of 1 to ${MAX_BATCH}`,
});

export const ActualResultSchema = Type.Object({
  updated: Type.Integer({ description: 'prediction rows labelled (or relabelled)' }),
  pending: Type.Integer({ description: 'actuals kept for bookings with no prediction yet' }),
});
