import { createHash } from 'node:crypto';

/** A booking's fixed place in 0..99: the same booking always gets the same answer. */
export function rolloutSlot(bookingId: number): number {
  return createHash('sha256').update(`mlmon-rollout:${bookingId}`).digest().readUInt32BE(0) % 100;
}

/**
 * Whether the ML model serves this booking. Raising the percentage only adds bookings (25 % → 50 %
 * keeps every booking that was already on ML), so a rollout never flip-flops a booking.
 */
export function usesMl(bookingId: number, flags: { ml_enabled: boolean; ml_traffic_percentage: number }): boolean {
  return flags.ml_enabled && rolloutSlot(bookingId) < flags.ml_traffic_percentage;
}
