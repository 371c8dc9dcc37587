import { actualsOutcome } from '../../src/store/actuals.js';

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
