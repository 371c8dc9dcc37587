import { Registry } from 'prom-client';
import { registerEventLoopDelay } from '../../src/expose/prometheus/event-loop.js';
import { parsePrometheus, samplesOf } from '../support/reference.js';

const block = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Delays = Record<'min' | 'max' | 'p50' | 'p90' | 'p99', number>;

async function scrape(registry: Registry): Promise<Delays> {
  const samples = parsePrometheus(await registry.metrics());
  return Object.fromEntries(['min', 'max', 'p50', 'p90', 'p99'].map((name) => {
    const [sample] = samplesOf(samples, `nodejs_eventloop_lag_${name}_seconds`);
    return [name, sample?.value ?? Number.NaN];
  })) as Delays;
}

describe('event-loop delay gauges', () => {
  it('report the delay since the previous scrape, ordered min <= p50 <= p90 <= p99 <= max', async () => {
    const registry = new Registry();
    const stop = registerEventLoopDelay(registry);
    await tick(50);
    block(300); // one long stall among short 10 ms samples
    await tick(50);
    const stalled = await scrape(registry);
    expect(stalled.max).toBeGreaterThanOrEqual(0.29);
    expect(stalled.min).toBeLessThanOrEqual(stalled.p50);
    expect(stalled.p50).toBeLessThanOrEqual(stalled.p90);
    expect(stalled.p90).toBeLessThanOrEqual(stalled.p99);
    expect(stalled.p99).toBeLessThanOrEqual(stalled.max);

    // The stall belongs to the previous interval: the next scrape no longer shows it (a busy CI
    // machine may stall the loop too, but not for this long).
    await tick(100);
    const calm = await scrape(registry);
    expect(calm.max).toBeLessThan(0.2);
    stop();
  });

  it('leaves out the mean and standard deviation (each a pass over the whole histogram)', async () => {
    const registry = new Registry();
    const stop = registerEventLoopDelay(registry);
    const text = await registry.metrics();
    stop();
    expect(text).not.toMatch(/nodejs_eventloop_lag_(mean|stddev)_seconds|nodejs_eventloop_lag_seconds/);
    expect(text).toMatch(/# TYPE nodejs_eventloop_lag_p99_seconds gauge/);
  });
});
