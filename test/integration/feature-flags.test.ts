/**
 * The rollout flag as operators change it: PUTs racing each other (each lands whole, a partial one
 * loses nothing the other set), a restart of the process (the flag lives in the database), and a
 * second replica's gauges following a change made through the first within its refresh interval.
 */
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { parsePrometheus, samplesOf } from '../support/reference.js';
import { expectStatus } from '../support/generate.js';

/** The refresh interval of the replica whose gauges must follow (MLMON_METRICS_CACHE_SECONDS). */
const GAUGE_REFRESH_SECONDS = 1;

interface Flags {
  ml_enabled: boolean;
  ml_traffic_percentage: number;
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const flagsOf = async (app: TestApp): Promise<Flags> => {
  const { ml_enabled, ml_traffic_percentage } = (await app.get(`${API}/feature-flags`)).json<Flags>();
  return { ml_enabled, ml_traffic_percentage };
};

const gaugesOf = async (app: TestApp): Promise<Flags | undefined> => {
  const samples = parsePrometheus((await app.get('/metrics', null)).body);
  const enabled = samplesOf(samples, 'ml_feature_flag_enabled')[0]?.value;
  const ratio = samplesOf(samples, 'ml_feature_flag_traffic_ratio')[0]?.value;
  return enabled === undefined || ratio === undefined ? undefined : { ml_enabled: enabled === 1, ml_traffic_percentage: Math.round(ratio * 100) };
};

describe('PUT /feature-flags under concurrency', () => {
  it('racing PUTs of both fields: each answers what it sent, and the flag ends as one of them', async () => {
    for (let round = 0; round < 20; round++) {
      const bodies: Flags[] = Array.from({ length: 8 }, (_, i) => ({ ml_enabled: i % 2 === 0, ml_traffic_percentage: round * 4 + i }));
      const replies = await Promise.all(bodies.map((body) => t.put(`${API}/feature-flags`, body)));
      replies.forEach((reply, i) => {
        expectStatus(reply, 200, `PUT ${JSON.stringify(bodies[i])}`);
        expect(reply.json()).toMatchObject(bodies[i]!);
      });
      expect(bodies).toContainEqual(await flagsOf(t));
    }
  });

  it('a PUT of one field racing a PUT of the other: neither change is lost', async () => {
    for (let round = 0; round < 20; round++) {
      const enabled = round % 2 === 0;
      const percentage = 50 + round;
      const [a, b] = await Promise.all([
        t.put(`${API}/feature-flags`, { ml_enabled: enabled }),
        t.put(`${API}/feature-flags`, { ml_traffic_percentage: percentage }),
      ]);
      expectStatus(a, 200, 'PUT ml_enabled');
      expectStatus(b, 200, 'PUT ml_traffic_percentage');
      expect(await flagsOf(t)).toEqual({ ml_enabled: enabled, ml_traffic_percentage: percentage });
    }
  });
});

describe('the flag across processes', () => {
  it('survives a restart: a new process reads, decides and exports the flag set through the old one', async () => {
    const before = await startTestApp({ replicaOf: t });
    expectStatus(await before.put(`${API}/feature-flags`, { ml_enabled: true, ml_traffic_percentage: 37 }), 200, 'PUT before the restart');
    const decisionsBefore = await Promise.all([1, 2, 3, 4, 5].map(async (id) => (await before.get(`${API}/feature-flags/decision?booking_id=${id}`)).json()));
    await before.close();

    const after = await startTestApp({ replicaOf: t });
    try {
      expect(await flagsOf(after)).toEqual({ ml_enabled: true, ml_traffic_percentage: 37 });
      const decisionsAfter = await Promise.all([1, 2, 3, 4, 5].map(async (id) => (await after.get(`${API}/feature-flags/decision?booking_id=${id}`)).json()));
      expect(decisionsAfter).toEqual(decisionsBefore);
      expect(await gaugesOf(after)).toEqual({ ml_enabled: true, ml_traffic_percentage: 37 });
    } finally {
      await after.close();
    }
  });

  it('another replica\'s gauges follow a change within its refresh interval', async () => {
    const other = await startTestApp({ replicaOf: t, metricsCacheSeconds: GAUGE_REFRESH_SECONDS });
    try {
      expectStatus(await t.put(`${API}/feature-flags`, { ml_enabled: false, ml_traffic_percentage: 10 }), 200, 'PUT 10 %');
      expect(await gaugesOf(other)).toEqual({ ml_enabled: false, ml_traffic_percentage: 10 }); // the first scrape reads
      const changedAtMs = Date.now();
      expectStatus(await t.put(`${API}/feature-flags`, { ml_enabled: true, ml_traffic_percentage: 60 }), 200, 'PUT 60 %');
      let served = await gaugesOf(other);
      while (served?.ml_traffic_percentage !== 60 && Date.now() - changedAtMs < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        served = await gaugesOf(other);
      }
      expect(served).toEqual({ ml_enabled: true, ml_traffic_percentage: 60 });
      // The refresh interval, plus the read itself and the polling step on a loaded machine.
      expect(Date.now() - changedAtMs).toBeLessThan(GAUGE_REFRESH_SECONDS * 1000 + 1500);
    } finally {
      await other.close();
    }
  });
});
