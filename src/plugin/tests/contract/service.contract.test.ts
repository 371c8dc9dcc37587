/**
 * Contract test: the plugin's own request building and frame mapping against the real mlmon
 * service (real HTTP, real PostgreSQL, started by global-setup.mjs). Only Grafana is emulated: its
 * data source proxy (from plugin.json's route) and template service.
 */
import { DataFrame, DataQueryRequest, DataQueryResponse, FieldMatcherID, getFieldMatcher } from '@grafana/data';
import { BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { readdirSync, readFileSync } from 'fs';
import path from 'path';
import { lastValueFrom, Observable } from 'rxjs';

import { MlmonDataSource } from '../../src/datasource';
import { METRICS } from '../../src/metrics';
import { MlmonQuery, ModelVersionsVariableQuery, QueryType, StoredPrediction } from '../../src/types';
import { ModelVersionVariableSupport } from '../../src/variables';
import { dailyMetrics, metricsObject, storedPrediction, summaryResponse, timeseriesResponse } from '../support/fixtures';
import { dataQueryRequest, fakeTemplateSrv, instanceSettings, PROXY_URL } from '../support/grafana';
import { grafanaProxyFetch } from '../support/grafana-proxy';
import { httpRequest } from '../support/http';

jest.setTimeout(30_000);

const SERVICE = process.env.MLMON_CONTRACT_URL ?? '';
const READ_TOKEN = process.env.MLMON_CONTRACT_READ_TOKEN ?? '';
const INGEST_TOKEN = process.env.MLMON_CONTRACT_INGEST_TOKEN ?? '';

let mockProxyFetch: (config: BackendSrvRequest) => Observable<FetchResponse> = () => {
  throw new Error('proxy not set up');
};
let mockTemplateSrv = fakeTemplateSrv([]);

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: (config: BackendSrvRequest) => mockProxyFetch(config) }),
  getTemplateSrv: () => mockTemplateSrv,
}));

// ---- Seed: what the test knows independently of the service ----

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const NOW = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

interface Seeded {
  booking_id: number;
  model_version: string;
  createdMs: number;
  predicted: number;
  /** actual - predicted; absent while no actual is known. */
  error?: number;
  confidence: number;
  latencyMs: number;
}

const seeds: Seeded[] = [
  ...[0.5, -1, 2, 6, -0.5, 1].map((error, index) => ({ model_version: 'v1', minutesAgo: 170 - index * 20, error })),
  ...[7, -8, 1, 0].map((error, index) => ({ model_version: 'v2', minutesAgo: 160 - index * 40, error })),
  { model_version: 'v2', minutesAgo: 20, error: undefined },
].map(({ model_version, minutesAgo, error }, index) => ({
  booking_id: 5000 + index,
  model_version,
  createdMs: NOW - minutesAgo * MINUTE_MS,
  predicted: 6 + index,
  error,
  confidence: 0.5 + index / 40,
  latencyMs: 80 + index * 5,
}));

const ANOMALY_THRESHOLD = 5; // the service default
const ACCURACY_TOLERANCE = 3; // the service default

function expectedMetrics(rows: Seeded[]) {
  const labelled = rows.filter((row) => row.error !== undefined);
  const errors = labelled.map((row) => Math.abs(row.error!));
  const mean = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null);
  return {
    predictions: rows.length,
    count: labelled.length,
    mae: mean(errors),
    rmse: labelled.length ? Math.sqrt(mean(errors.map((error) => error * error))!) : null,
    accuracy_rate: labelled.length ? errors.filter((error) => error < ACCURACY_TOLERANCE).length / labelled.length : null,
    anomalies: errors.filter((error) => error > ANOMALY_THRESHOLD).length,
    avg_confidence: mean(rows.map((row) => row.confidence)),
    avg_prediction_time_ms: mean(rows.map((row) => row.latencyMs)),
  };
}

async function serviceRequest(method: string, path: string, token: string, body?: unknown): Promise<unknown> {
  const answer = await httpRequest(new URL(`${SERVICE}/api/ml-monitoring${path}`), {
    method,
    headers: { Authorization: `Bearer ${token}` },
    body,
  });
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`${method} ${path}: HTTP ${answer.status} ${JSON.stringify(answer.data)}`);
  }
  return answer.data;
}

beforeAll(async () => {
  if (!SERVICE) {
    throw new Error('MLMON_CONTRACT_URL is not set: run this suite through jest so that global-setup.mjs starts the service');
  }
  await serviceRequest(
    'POST',
    '/predictions',
    INGEST_TOKEN,
    seeds.map((seed) => ({
      booking_id: seed.booking_id,
      request_id: `contract-${seed.booking_id}`,
      predicted_delay_minutes: seed.predicted,
      confidence: seed.confidence,
      risk_level: seed.error !== undefined && Math.abs(seed.error) > ANOMALY_THRESHOLD ? 'high' : 'low',
      model_version: seed.model_version,
      prediction_time_ms: seed.latencyMs,
      contributing_factors: { distance_x_weather: 0.4 },
      created_at: new Date(seed.createdMs).toISOString(),
    })),
  );
  await serviceRequest(
    'POST',
    '/actuals',
    INGEST_TOKEN,
    seeds
      .filter((seed) => seed.error !== undefined)
      .map((seed) => ({ booking_id: seed.booking_id, actual_delay_minutes: seed.predicted + seed.error! })),
  );
});

// ---- The plugin, wired to the service through the emulated proxy ----

function datasourceWithToken(readToken: string, url = SERVICE): MlmonDataSource {
  mockProxyFetch = grafanaProxyFetch({ proxyUrl: PROXY_URL, jsonData: { url }, secureJsonData: { readToken } });
  return new MlmonDataSource(instanceSettings({ url }));
}

const RANGE = { from: new Date(NOW - 4 * HOUR_MS).toISOString(), to: new Date(NOW + MINUTE_MS).toISOString() };

async function run(query: Omit<MlmonQuery, 'refId'>, options: { intervalMs?: number; range?: typeof RANGE } = {}): Promise<DataFrame[]> {
  const response: DataQueryResponse = await datasourceWithToken(READ_TOKEN).query(
    dataQueryRequest([{ refId: 'A', ...query }], { ...(options.range ?? RANGE), intervalMs: options.intervalMs ?? MINUTE_MS }),
  );
  expect(response.errors).toBeUndefined();
  return response.data as DataFrame[];
}

function values(frame: DataFrame | undefined, name: string): unknown[] {
  const field = frame?.fields.find((candidate) => candidate.name === name);
  if (!field) {
    throw new Error(`no field ${name} in frame ${frame?.name}`);
  }
  return field.values;
}

const sum = (list: unknown[]) => list.reduce<number>((total, value) => total + (typeof value === 'number' ? value : 0), 0);
const byVersion = (version: string) => seeds.filter((seed) => seed.model_version === version);

beforeEach(() => {
  mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: ['v1', 'v2'], options: ['v1', 'v2'] }]);
});

describe('health check against the service', () => {
  it('accepts the read token and the API version', async () => {
    const result = await datasourceWithToken(READ_TOKEN).testDatasource();
    expect(result).toEqual({ status: 'success', message: expect.stringMatching(/^Connected to mlmon \S+ \(API version 1\); the read token was accepted\.$/) });
  });

  it('says the token was rejected for a wrong token', async () => {
    const result = await datasourceWithToken('not-the-read-token-at-all').testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^The read token was rejected by the mlmon service\. /);
  });
});

describe('quality time series', () => {
  it('returns one series per version, exact per bucket', async () => {
    const frames = await run({ queryType: QueryType.Timeseries, modelVersion: '$model_version' }, { intervalMs: HOUR_MS });
    expect(frames.map((frame) => frame.name)).toEqual(['v1', 'v2']);
    for (const frame of frames) {
      const seeded = byVersion(frame.name!);
      const times = values(frame, 'time') as number[];
      expect(times.every((time) => time % HOUR_MS === 0 || time === Date.parse(RANGE.from))).toBe(true);
      expect(sum(values(frame, 'predictions'))).toBe(seeded.length);
      expect(sum(values(frame, 'count'))).toBe(expectedMetrics(seeded).count);
      expect(sum(values(frame, 'anomalies'))).toBe(expectedMetrics(seeded).anomalies);
      const maes = values(frame, 'mae');
      times.forEach((time, index) => {
        const inBucket = seeded.filter((seed) => seed.createdMs >= time && seed.createdMs < Math.floor(time / HOUR_MS) * HOUR_MS + HOUR_MS);
        const expected = expectedMetrics(inBucket).mae;
        if (expected === null) {
          expect(maes[index]).toBeNull();
        } else {
          expect(maes[index]).toBeCloseTo(expected, 9);
        }
      });
    }
  });

  it('returns the fleet as one series when no version is selected', async () => {
    const frames = await run({ queryType: QueryType.Timeseries, metrics: ['predictions', 'mae'] }, { intervalMs: HOUR_MS });
    expect(frames.map((frame) => frame.name)).toEqual(['All versions']);
    expect(frames[0]?.fields.map((field) => field.name)).toEqual(['time', 'mae', 'predictions']);
    expect(sum(values(frames[0], 'predictions'))).toBe(seeds.length);
  });
});

describe('window metrics', () => {
  it('match the seed over the panel range for the fleet', async () => {
    const [frame] = await run({ queryType: QueryType.Window });
    const expected = expectedMetrics(seeds);
    expect(frame?.length).toBe(1);
    for (const [name, value] of Object.entries(expected)) {
      expect(values(frame, name)[0]).toBeCloseTo(value!, 9);
    }
    expect(values(frame, 'r2')[0]).toEqual(expect.any(Number));
  });

  it('give one row per selected version', async () => {
    const frames = await run({ queryType: QueryType.Window, modelVersion: '$model_version', metrics: ['predictions', 'mae'] });
    expect(frames.map((frame) => [frame.name, values(frame, 'predictions')[0]])).toEqual([
      ['v1', 6],
      ['v2', 5],
    ]);
    expect(values(frames[0], 'mae')[0]).toBeCloseTo(expectedMetrics(byVersion('v1')).mae!, 9);
  });

  it('read the exporter\'s "all" label as the fleet', async () => {
    const [frame] = await run({ queryType: QueryType.Window, modelVersion: 'all', metrics: ['predictions'] });
    expect(values(frame, 'predictions')).toEqual([seeds.length]);
  });

  it('show the service\'s reason when it refuses the range', async () => {
    const response = await datasourceWithToken(READ_TOKEN).query(
      dataQueryRequest([{ refId: 'A', queryType: QueryType.Window }], { from: '2020-01-01T00:00:00Z', to: RANGE.to }),
    );
    expect(response.errors?.[0]?.message).toMatch(/^The mlmon service answered HTTP 400 to \/api\/ml-monitoring\/metrics: .*366 days/);
  });
});

describe('daily metrics', () => {
  it('cover the panel range in UTC days and add up to the seed', async () => {
    const [frame] = await run({ queryType: QueryType.Daily });
    const days = values(frame, 'date') as number[];
    expect(days.every((day) => day % 86_400_000 === 0)).toBe(true);
    expect(days[days.length - 1]).toBe(Math.floor(NOW / 86_400_000) * 86_400_000);
    expect(sum(values(frame, 'predictions'))).toBe(seeds.length);
  });

  it('return the number of days asked for', async () => {
    const [frame] = await run({ queryType: QueryType.Daily, days: 3, modelVersion: 'v2' });
    expect(frame?.length).toBe(3);
    expect(sum(values(frame, 'predictions'))).toBe(byVersion('v2').length);
  });
});

describe('recent predictions', () => {
  it('are the newest first, limited', async () => {
    const [frame] = await run({ queryType: QueryType.Predictions, limit: 4 });
    const newest = [...seeds].sort((a, b) => b.createdMs - a.createdMs).slice(0, 4);
    expect(values(frame, 'created_at')).toEqual(newest.map((seed) => seed.createdMs));
    expect(values(frame, 'booking_id')).toEqual(newest.map((seed) => seed.booking_id));
    expect(values(frame, 'actual_delay_minutes')[0]).toBeNull();
  });

  it('keep to the panel range (from, to]', async () => {
    const newestFirst = [...seeds].sort((a, b) => b.createdMs - a.createdMs);
    const range = { from: new Date(newestFirst[8]!.createdMs).toISOString(), to: new Date(newestFirst[2]!.createdMs).toISOString() };
    const [frame] = await run({ queryType: QueryType.Predictions }, { range });
    expect(values(frame, 'booking_id')).toEqual(newestFirst.slice(2, 8).map((seed) => seed.booking_id));
  });

  it('filter on the model version', async () => {
    const [frame] = await run({ queryType: QueryType.Predictions, modelVersion: 'v1' });
    expect(values(frame, 'model_version')).toEqual(Array(6).fill('v1'));
  });
});

describe('anomalies', () => {
  const anomalous = (threshold: number) =>
    seeds.filter((seed) => seed.error !== undefined && Math.abs(seed.error) > threshold).sort((a, b) => b.createdMs - a.createdMs);

  it('are the predictions above the threshold in the panel range', async () => {
    const [frame] = await run({ queryType: QueryType.Anomalies });
    expect(values(frame, 'booking_id')).toEqual(anomalous(ANOMALY_THRESHOLD).map((seed) => seed.booking_id));
    const [tighter] = await run({ queryType: QueryType.Anomalies, threshold: 6.5 });
    expect(values(tighter, 'booking_id')).toEqual(anomalous(6.5).map((seed) => seed.booking_id));
  });

  it('become annotations at their creation times', async () => {
    const datasource = datasourceWithToken(READ_TOKEN);
    const response = await datasource.query(dataQueryRequest([{ refId: 'Anno', queryType: QueryType.Anomalies }], RANGE));
    const events = await lastValueFrom(datasource.annotations!.processEvents!({} as never, response.data as DataFrame[]));
    expect(events?.map((event) => event.time)).toEqual(anomalous(ANOMALY_THRESHOLD).map((seed) => seed.createdMs));
  });
});

describe('summary', () => {
  it('counts the seed and carries the feature flag', async () => {
    await serviceRequest('PUT', '/feature-flags', INGEST_TOKEN, { ml_enabled: true, ml_traffic_percentage: 37 });
    const [frame] = await run({ queryType: QueryType.Summary });
    expect(values(frame, 'total_predictions')).toEqual([seeds.length]);
    expect(values(frame, 'anomalies_count')).toEqual([expectedMetrics(seeds).anomalies]);
    expect(values(frame, 'ml_successes')).toEqual([seeds.length]);
    expect([values(frame, 'ml_enabled'), values(frame, 'ml_traffic_percentage')]).toEqual([[true], [37]]);
    expect(values(frame, 'mae_24h')[0]).toBeCloseTo(expectedMetrics(seeds).mae!, 9);
  });
});

// The dashboards are generated by the service's build (src/expose/dashboards), which cannot load
// Grafana's packages; this is where their plugin panels meet the plugin's frames and Grafana's own
// field matching.
describe('the generated dashboards\' panels on this data source', () => {
  const folder = path.resolve(__dirname, '../../../../dashboards');
  const panels = readdirSync(folder)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => (JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as GeneratedDashboard).panels)
    .filter((panel) => panel.datasource?.uid === 'mlmon-api');

  it('exist', () => {
    expect(panels.length).toBeGreaterThan(0);
  });

  it.each(panels.map((panel) => [panel.title, panel] as const))('%s shows data', async (_title, panel) => {
    const frames = (await Promise.all(panel.targets.map(({ datasource: _datasource, refId: _refId, ...query }) => run(query)))).flat();
    expect(frames.some((frame) => frame.length > 0)).toBe(true);
    if (panel.type === 'stat') {
      // What a stat panel shows: the fields its reduce options name, by display name (numeric ones by default).
      const pattern = panel.options?.reduceOptions?.fields;
      const shows = getFieldMatcher(pattern ? { id: FieldMatcherID.byRegexp, options: pattern } : { id: FieldMatcherID.numeric });
      const shown = frames.flatMap((frame) => frame.fields.filter((field) => shows(field, frame, frames)));
      expect(shown.map((field) => field.name)).not.toEqual([]);
    }
  });
});

interface GeneratedDashboard {
  panels: Array<{
    title: string;
    type: string;
    datasource?: { uid?: string };
    targets: Array<Omit<MlmonQuery, 'refId'> & { refId: string; datasource?: unknown }>;
    options?: { reduceOptions?: { fields?: string } };
  }>;
}

describe('model version variable', () => {
  it('lists the versions that made predictions', async () => {
    const datasource = datasourceWithToken(READ_TOKEN);
    const variables = datasource.variables as ModelVersionVariableSupport;
    const request = { ...dataQueryRequest([], RANGE), targets: [{ refId: 'variable', hours: 24 }] } as DataQueryRequest<ModelVersionsVariableQuery>;
    const response = await lastValueFrom(variables.query(request));
    expect(values((response.data as DataFrame[])[0], 'value')).toEqual(['v1', 'v2']);
  });
});

describe('response shapes', () => {
  // The plugin's response types (through its typed fixtures) must name exactly the fields the
  // service sends: a field renamed, added or dropped on either side fails here.
  const keys = (value: unknown) => Object.keys(value as object).sort();
  const read = (path: string) => serviceRequest('GET', path, READ_TOKEN);
  const query = `from=${encodeURIComponent(RANGE.from)}&to=${encodeURIComponent(RANGE.to)}`;

  it('metrics objects, daily rows and time series points', async () => {
    expect(keys(await read(`/metrics?${query}`))).toEqual(keys(metricsObject()));
    expect(keys(((await read('/daily?days=1')) as unknown[])[0])).toEqual(keys(dailyMetrics('2026-03-01')));
    const series = (await read(`/timeseries?${query}&step=3600`)) as typeof timeseriesResponse;
    expect(keys(series)).toEqual(keys(timeseriesResponse));
    expect(keys(series.series[0])).toEqual(keys(timeseriesResponse.series[0]));
    const pointKeys = keys(series.series[0]?.points[0]);
    expect(pointKeys).toEqual(['time', ...METRICS.map((metric) => metric.name)].sort());
  });

  it('predictions, anomalies and the summary', async () => {
    const [prediction] = (await read('/predictions?limit=1')) as StoredPrediction[];
    expect(keys(prediction)).toEqual(keys(storedPrediction()));
    const [anomaly] = (await read(`/anomalies?${query}`)) as StoredPrediction[];
    expect(keys(anomaly)).toEqual(keys(storedPrediction()));
    const summary = (await read('/summary')) as typeof summaryResponse;
    expect(keys(summary)).toEqual(keys(summaryResponse));
    expect(keys(summary.feature_flags)).toEqual(keys(summaryResponse.feature_flags));
    expect(keys(summary.metrics_24h)).toEqual(keys(metricsObject()));
  });
});
