/**
 * /model-versions reads whole hours from the hour tier and the minutes before the first whole
 * hour from the minute tier: the edges of that split are where it could be wrong.
 */
import { HOUR_US, MINUTE_US } from '../../src/aggregate/window.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';

const prediction = (model_version: string, createdUs: number, booking_id: number) => ({
  booking_id,
  predicted_delay_minutes: 5,
  confidence: 0.8,
  risk_level: 'medium',
  model_version,
  created_at: new Date(createdUs / 1000).toISOString(),
});

describe('GET /model-versions', () => {
  let t: TestApp;
  // The window starts at 12:29 of an hour some hours ago, whatever the time of the run.
  const nowUs = Date.now() * 1000;
  const sinceUs = Math.floor(nowUs / HOUR_US) * HOUR_US - 4 * HOUR_US + 29 * MINUTE_US;
  const nextHourUs = sinceUs + 31 * MINUTE_US;

  beforeAll(async () => {
    t = await startTestApp();
    const rows = [
      prediction('before-the-window', sinceUs - 1, 1), // the minute before: same hour, outside
      prediction('first-minute', sinceUs + 30_000_000, 2),
      prediction('last-minute-before-the-hour', nextHourUs - 1, 3),
      prediction('first-whole-hour', nextHourUs, 4),
      prediction('latest-hour', nowUs - MINUTE_US, 5),
    ];
    expect((await t.post(`${API}/predictions`, rows)).statusCode).toBe(201);
  });
  afterAll(() => t.close());

  it('lists the versions of the partial first hour and of the whole hours, not those before', async () => {
    // The route floors the start to the minute: half a minute of slack for the request's own clock.
    const hours = (Date.now() * 1000 - sinceUs - 30_000_000) / HOUR_US;
    const res = await t.get(`${API}/model-versions?hours=${hours}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ model_versions: ['first-minute', 'first-whole-hour', 'last-minute-before-the-hour', 'latest-hour'] });
  });

  it('starts at a whole hour as well as inside one', async () => {
    const hours = (Date.now() * 1000 - nextHourUs - 30_000_000) / HOUR_US;
    const res = await t.get(`${API}/model-versions?hours=${hours}`);
    expect(res.json()).toEqual({ model_versions: ['first-whole-hour', 'latest-hour'] });
  });
});
