import { actualsOutcome, lastPerBooking } from '../../src/store/actuals.js';

const actual = (booking_id: number) => ({ booking_id, actual_delay_minutes: 4 });

describe('actualsOutcome', () => {
  it('counts the predictions labelled for each booking of the request, and the bookings still waiting', () => {
    expect(actualsOutcome([actual(1), actual(2), actual(3)], [2, 0, 1])).toEqual({ updated: 3, pending: 1 });
  });

  it('counts a booking sent twice in one request once, as storing it did', () => {
    expect(actualsOutcome([actual(1), actual(2), actual(1), actual(2)], [2, 0, 2, 0])).toEqual({ updated: 2, pending: 1 });
  });

  it('answers an empty request with nothing', () => {
    expect(actualsOutcome([], [])).toEqual({ updated: 0, pending: 0 });
  });
});

describe('lastPerBooking', () => {
  it('keeps the last delay and the times sent before when a later actual leaves them out, as two transactions would', () => {
    expect(
      lastPerBooking([
        { booking_id: 1, actual_delay_minutes: 5, actual_pickup_at: '2026-01-02T03:04:05Z' },
        { booking_id: 2, actual_delay_minutes: 1 },
        { booking_id: 1, actual_delay_minutes: 7, actual_dropoff_at: '2026-01-02T03:30:00Z' },
      ]),
    ).toEqual([
      { booking_id: 1, actual_delay_minutes: 7, actual_pickup_at: '2026-01-02T03:04:05Z', actual_dropoff_at: '2026-01-02T03:30:00Z' },
      { booking_id: 2, actual_delay_minutes: 1 },
    ]);
  });
});
