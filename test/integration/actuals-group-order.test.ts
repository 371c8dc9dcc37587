import { LOCK_NAMESPACE, STRIPES } from '../../src/store/booking-locks.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';

describe('actuals of one booking in one group commit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** Holds a transaction of actuals in flight (blocked on a stripe lock) while `send` queues requests behind it. */
  async function inOneGroup<T>(blockerBooking: number, send: () => Promise<T>[]): Promise<T[]> {
    const holder = await t.db.sql.reserve();
    await holder`select pg_advisory_lock(${LOCK_NAMESPACE}, ${blockerBooking % STRIPES})`;
    const blocker = t.post(`${API}/actuals`, { booking_id: blockerBooking, actual_delay_minutes: 1 });
    for (let i = 0; i < 100; i++) {
      const [row] = await t.db.sql<{ waiting: number }[]>`
        select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted and classid = ${LOCK_NAMESPACE}`;
      if (row!.waiting > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const replies = send();
    await new Promise((r) => setTimeout(r, 300)); // the requests reach the queue behind the blocked transaction
    await holder`select pg_advisory_unlock(${LOCK_NAMESPACE}, ${blockerBooking % STRIPES})`;
    holder.release();
    expect((await blocker).statusCode).toBe(200);
    return Promise.all(replies);
  }

  it('keeps the pickup time of an earlier request when a later one of the same group carries only the delay, as two transactions would', async () => {
    const booking = 970_001;
    const stored = await t.post(`${API}/predictions`, { booking_id: booking, predicted_delay_minutes: 5, confidence: 0.8, risk_level: 'low', model_version: 'order' });
    expect(stored.statusCode).toBe(201);
    const [first, second] = await inOneGroup(970_000, () => [
      t.post(`${API}/actuals`, { booking_id: booking, actual_delay_minutes: 5, actual_pickup_at: '2026-01-02T03:04:05Z' }),
      t.post(`${API}/actuals`, { booking_id: booking, actual_delay_minutes: 7, actual_dropoff_at: '2026-01-02T03:30:00Z' }),
    ]);
    expect(first!.json()).toEqual({ updated: 1, pending: 0 });
    expect(second!.json()).toEqual({ updated: 1, pending: 0 });
    const [actual] = await t.db.sql<{ delay: number; pickup: Date | null; dropoff: Date | null }[]>`
      select actual_delay_minutes as delay, actual_pickup_at as pickup, actual_dropoff_at as dropoff from ml_actual where booking_id = ${booking}`;
    const [labelled] = await t.db.sql<{ delay: number; pickup: Date | null; dropoff: Date | null }[]>`
      select actual_delay_minutes as delay, actual_pickup_at as pickup, actual_dropoff_at as dropoff from ml_prediction where booking_id = ${booking}`;
    const expected = { delay: 7, pickup: new Date('2026-01-02T03:04:05Z'), dropoff: new Date('2026-01-02T03:30:00Z') };
    expect(actual).toEqual(expected);
    expect(labelled).toEqual(expected);
  });

  it('fails only the request whose actual the database refuses, not its neighbours in the group', async () => {
    await t.db.sql.unsafe(`
      create function refuse_666() returns trigger language plpgsql as $$
      begin if new.booking_id = 971666 then raise exception 'refused'; end if; return new; end $$;
      create trigger refuse_666 before insert on ml_actual for each row execute function refuse_666()`);
    try {
      const [good, bad, alsoGood] = await inOneGroup(970_500, () => [
        t.post(`${API}/actuals`, { booking_id: 971_001, actual_delay_minutes: 3 }),
        t.post(`${API}/actuals`, { booking_id: 971_666, actual_delay_minutes: 3 }),
        t.post(`${API}/actuals`, { booking_id: 971_002, actual_delay_minutes: 3 }),
      ]);
      expect([good!.statusCode, bad!.statusCode, alsoGood!.statusCode]).toEqual([200, 500, 200]);
      expect(good!.json()).toEqual({ updated: 0, pending: 1 });
      const [stored] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from ml_actual where booking_id in (971001, 971002, 971666)`;
      expect(stored!.n).toBe(2);
    } finally {
      await t.db.sql.unsafe('drop trigger refuse_666 on ml_actual; drop function refuse_666()');
    }
  });
});
