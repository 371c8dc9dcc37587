import { DataFrame, DataQueryRequest, FieldType } from '@grafana/data';
import { BackendSrvRequest } from '@grafana/runtime';
import { lastValueFrom, throwError } from 'rxjs';

import { metricsObject, storedPrediction, summaryResponse, timeseriesResponse } from '../tests/support/fixtures';
import {
  dataQueryRequest,
  fakeFetch,
  fakeTemplateSrv,
  fetchError,
  instanceSettings,
  PROXY_URL,
  SERVICE_URL,
} from '../tests/support/grafana';
import { MlmonDataSource } from './datasource';
import { ModelVersionsVariableQuery, QueryType } from './types';
import { ModelVersionVariableSupport } from './variables';

const mockFetch = jest.fn();
let mockTemplateSrv = fakeTemplateSrv([]);

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  getTemplateSrv: () => mockTemplateSrv,
}));

const RANGE = { from: '2026-03-01T10:00:00.000Z', to: '2026-03-01T16:00:00.000Z' };
const API = `${PROXY_URL}/mlmon/api/ml-monitoring`;

/** Answers every fetch from `routes`, keyed by API path. */
function serve(routes: Parameters<typeof fakeFetch>[0]): void {
  mockFetch.mockImplementation(fakeFetch(routes));
}

function sentRequests(): BackendSrvRequest[] {
  return mockFetch.mock.calls.map(([config]) => config as BackendSrvRequest);
}

beforeEach(() => {
  mockFetch.mockReset();
  mockTemplateSrv = fakeTemplateSrv([]);
});

describe('query', () => {
  it('goes through the proxy route with the panel range as from/to and no global error toast', async () => {
    serve({ '/metrics': () => metricsObject() });
    const datasource = new MlmonDataSource(instanceSettings());
    await datasource.query(dataQueryRequest([{ refId: 'A', queryType: QueryType.Window }], RANGE));
    expect(sentRequests()).toEqual([
      expect.objectContaining({
        url: `${API}/metrics`,
        method: 'GET',
        params: { from: RANGE.from, to: RANGE.to },
        showErrorAlert: false,
        requestId: 'Q100-A-0',
      }),
    ]);
  });

  it('returns the frames of every query, tagged with its refId', async () => {
    serve({
      '/timeseries': () => timeseriesResponse,
      '/summary': () => summaryResponse,
      '/predictions': () => [storedPrediction()],
    });
    const datasource = new MlmonDataSource(instanceSettings());
    const response = await datasource.query(
      dataQueryRequest(
        [
          { refId: 'A', queryType: QueryType.Timeseries, modelVersion: 'v1,v2' },
          { refId: 'B', queryType: QueryType.Summary },
          { refId: 'C', queryType: QueryType.Predictions, limit: 5 },
        ],
        { ...RANGE, intervalMs: 300_000 },
      ),
    );
    expect(response.errors).toBeUndefined();
    expect((response.data as DataFrame[]).map((frame) => [frame.refId, frame.name])).toEqual([
      ['A', 'v1'],
      ['A', 'v2'],
      ['B', 'Summary'],
      ['C', 'All versions'],
    ]);
    expect(sentRequests().map((config) => [config.url, config.params])).toEqual([
      [`${API}/timeseries`, { ...RANGE, step: 300, model_version: 'v1,v2' }],
      [`${API}/summary`, {}],
      [`${API}/predictions`, { ...RANGE, limit: 5 }],
    ]);
  });

  it('skips hidden queries', async () => {
    serve({ '/summary': () => summaryResponse });
    const datasource = new MlmonDataSource(instanceSettings());
    const response = await datasource.query(dataQueryRequest([{ refId: 'A', queryType: QueryType.Summary, hide: true }], RANGE));
    expect(response.data).toEqual([]);
    expect(mockFetch).not.toHaveBeenCalled();
  });

  it('reports a failing query under its refId and still returns the others', async () => {
    serve({
      '/summary': () => summaryResponse,
      '/anomalies': () => {
        throw fetchError(400, { statusCode: 400, error: 'Bad Request', message: 'querystring/threshold must be >= 0' }, { url: '' });
      },
    });
    const datasource = new MlmonDataSource(instanceSettings());
    const response = await datasource.query(
      dataQueryRequest([{ refId: 'A', queryType: QueryType.Anomalies }, { refId: 'B', queryType: QueryType.Summary }], RANGE),
    );
    expect((response.data as DataFrame[]).map((frame) => frame.refId)).toEqual(['B']);
    expect(response.errors).toEqual([
      {
        refId: 'A',
        message: 'The mlmon service answered HTTP 400 to /api/ml-monitoring/anomalies: querystring/threshold must be >= 0',
      },
    ]);
  });

  it('answers a panel filtered on "other" with an error saying what to pick, without asking the service', async () => {
    serve({ '/summary': () => summaryResponse });
    const datasource = new MlmonDataSource(instanceSettings());
    const response = await datasource.query(
      dataQueryRequest([{ refId: 'A', queryType: QueryType.Window, modelVersion: 'other' }, { refId: 'B', queryType: QueryType.Summary }], RANGE),
    );
    expect((response.data as DataFrame[]).map((frame) => frame.refId)).toEqual(['B']);
    expect(response.errors).toEqual([{ refId: 'A', message: expect.stringMatching(/^"other" groups the model versions past MLMON_MAX_MODEL_VERSIONS/) }]);
    expect(mockFetch).toHaveBeenCalledTimes(1);
  });

  it('says the token was rejected when a query gets a 401', async () => {
    mockFetch.mockImplementation((config: BackendSrvRequest) =>
      throwError(() => fetchError(401, { statusCode: 401, error: 'Unauthorized', message: 'bad token' }, config)),
    );
    const datasource = new MlmonDataSource(instanceSettings());
    const response = await datasource.query(dataQueryRequest([{ refId: 'A' }], RANGE));
    expect(response.errors?.[0]?.message).toMatch(/^The read token was rejected by the mlmon service\. /);
  });
});

describe('template variables', () => {
  const windowQuery = (modelVersion: string) => dataQueryRequest([{ refId: 'A', queryType: QueryType.Window, modelVersion }], RANGE);
  const requestedVersions = () => sentRequests().map((config) => (config.params as Record<string, unknown>).model_version);

  beforeEach(() => serve({ '/metrics': () => metricsObject(), '/timeseries': () => timeseriesResponse }));

  it('interpolates a single value', async () => {
    mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: 'v2', options: ['v1', 'v2'] }]);
    await new MlmonDataSource(instanceSettings()).query(windowQuery('$model_version'));
    expect(requestedVersions()).toEqual(['v2']);
  });

  it('interpolates several values, one request each where the endpoint takes one version', async () => {
    mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: ['v1', 'v3'], options: ['v1', 'v2', 'v3'] }]);
    const response = await new MlmonDataSource(instanceSettings()).query(windowQuery('${model_version}'));
    expect(requestedVersions()).toEqual(['v1', 'v3']);
    expect((response.data as DataFrame[]).map((frame) => frame.name)).toEqual(['v1', 'v3']);
  });

  it('passes several values as one list to /timeseries', async () => {
    mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: ['v1', 'v3'], options: ['v1', 'v2', 'v3'] }]);
    await new MlmonDataSource(instanceSettings()).query(dataQueryRequest([{ refId: 'A', modelVersion: '$model_version' }], RANGE));
    expect(requestedVersions()).toEqual(['v1,v3']);
  });

  it('expands All to every version', async () => {
    mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: '$__all', options: ['v1', 'v2'] }]);
    await new MlmonDataSource(instanceSettings()).query(windowQuery('$model_version'));
    expect(requestedVersions()).toEqual(['v1', 'v2']);
  });

  it('reads a custom All value of * as the whole fleet', async () => {
    mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: '$__all', options: ['v1', 'v2'], allValue: '*' }]);
    await new MlmonDataSource(instanceSettings()).query(windowQuery('$model_version'));
    expect(requestedVersions()).toEqual([undefined]);
  });

  it('interpolates the queries Grafana carries from a dashboard panel to Explore', () => {
    // Explore has no dashboard variables: a query left as `$model_version` would ask for that version.
    mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: ['v1', 'v3'], options: ['v1', 'v2', 'v3'] }]);
    const datasource = new MlmonDataSource(instanceSettings());
    const queries = [
      { refId: 'A', queryType: QueryType.Window, modelVersion: '$model_version' },
      { refId: 'B', queryType: QueryType.Summary },
    ];
    expect(datasource.interpolateVariablesInQueries?.(queries, {})).toEqual([
      { refId: 'A', queryType: QueryType.Window, modelVersion: 'v1,v3' },
      { refId: 'B', queryType: QueryType.Summary },
    ]);
  });

  it('leaves queries without a model version untouched', () => {
    const datasource = new MlmonDataSource(instanceSettings());
    const query = { refId: 'A', queryType: QueryType.Summary };
    expect(datasource.applyTemplateVariables(query, {})).toBe(query);
  });
});

describe('model version variable', () => {
  it('lists the versions the service has seen as text/value options', async () => {
    serve({ '/model-versions': () => ({ model_versions: ['v1', 'v2'] }) });
    const datasource = new MlmonDataSource(instanceSettings());
    const variableRequest = dataQueryRequest([], RANGE) as unknown as DataQueryRequest<ModelVersionsVariableQuery>;
    variableRequest.targets = [{ refId: 'variable', hours: 24 }];
    const variables = datasource.variables;
    expect(variables).toBeInstanceOf(ModelVersionVariableSupport);
    const response = await lastValueFrom((variables as ModelVersionVariableSupport).query(variableRequest));
    const [frame] = response.data as DataFrame[];
    expect(frame?.fields.map((field) => [field.name, field.type, field.values])).toEqual([
      ['text', FieldType.string, ['v1', 'v2']],
      ['value', FieldType.string, ['v1', 'v2']],
    ]);
    expect(sentRequests()[0]).toMatchObject({ url: `${API}/model-versions`, params: { hours: 24 } });
  });

  it('leaves the window to the service when none is set', async () => {
    serve({ '/model-versions': () => ({ model_versions: [] }) });
    await new MlmonDataSource(instanceSettings()).fetchModelVersions();
    expect(sentRequests()[0]?.params).toEqual({});
  });
});

describe('annotations', () => {
  it('default to the anomalies query and turn its rows into events', async () => {
    serve({ '/anomalies': () => [storedPrediction(), storedPrediction({ created_at: '2026-03-01T12:00:00.000Z' })] });
    const datasource = new MlmonDataSource(instanceSettings());
    expect(datasource.annotations?.getDefaultQuery?.()).toEqual({ queryType: QueryType.Anomalies });
    const response = await datasource.query(dataQueryRequest([{ refId: 'Anno', queryType: QueryType.Anomalies, threshold: 5 }], RANGE));
    const events = await lastValueFrom(datasource.annotations!.processEvents!({} as never, response.data as DataFrame[]));
    expect(events?.map((event) => event.time)).toEqual([Date.parse('2026-03-01T10:02:00Z'), Date.parse('2026-03-01T12:00:00Z')]);
    expect(events?.[0]?.tags).toContain('anomaly');
    expect(sentRequests()[0]?.params).toEqual({ ...RANGE, limit: 1000, threshold: 5 });
  });

  it('run an annotation saved without a target as the anomalies query the editor showed', () => {
    const datasource = new MlmonDataSource(instanceSettings());
    const prepare = datasource.annotations!.prepareQuery!;
    expect(prepare({ name: 'Anomalies', enable: true, iconColor: 'red' } as never)).toEqual({ refId: 'Anno', queryType: QueryType.Anomalies });
    expect(prepare({ name: 'A', enable: true, iconColor: 'red', target: { refId: 'X', queryType: QueryType.Anomalies, threshold: 8 } } as never)).toEqual({
      refId: 'X',
      queryType: QueryType.Anomalies,
      threshold: 8,
    });
  });
});

describe('testDatasource', () => {
  const failWith = (status: number, data: unknown) =>
    mockFetch.mockImplementation((config: BackendSrvRequest) => throwError(() => fetchError(status, data, config)));

  it('succeeds when /info answers as mlmon with the supported API version', async () => {
    serve({ '/info': () => ({ service: 'mlmon', version: '0.1.0', api_version: 1 }) });
    await expect(new MlmonDataSource(instanceSettings()).testDatasource()).resolves.toEqual({
      status: 'success',
      message: 'Connected to mlmon 0.1.0 (API version 1); the read token was accepted.',
    });
    expect(sentRequests()[0]?.url).toBe(`${API}/info`);
  });

  it('asks for the URL before trying anything', async () => {
    const result = await new MlmonDataSource(instanceSettings({})).testDatasource();
    expect(result).toEqual({ status: 'error', message: 'Set the URL of the mlmon service (e.g. http://mlmon:8080) and save.' });
    expect(mockFetch).not.toHaveBeenCalled();
  });

  it('says the token was rejected on 401', async () => {
    failWith(401, { statusCode: 401, error: 'Unauthorized', message: 'invalid token' });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toContain('The read token was rejected by the mlmon service.');
    expect(result.message).toContain('Read token');
  });

  it("says the token was rejected on the 400 Grafana's proxy makes of a 401", async () => {
    failWith(400, 'Authentication to data source failed');
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toContain('The read token was rejected by the mlmon service.');
    // a 400 of the service itself is passed on, not read as a token problem
    failWith(400, { statusCode: 400, error: 'Bad Request', message: 'invalid query: query.step must be a multiple of 60' });
    expect((await new MlmonDataSource(instanceSettings()).testDatasource()).message).toContain('query.step must be a multiple of 60');
  });

  it.each([502, 0])('says the service is unreachable when the proxy answers %i', async (status) => {
    failWith(status, { message: 'Bad Gateway' });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.message).toBe(
      `Grafana could not reach the mlmon service at ${SERVICE_URL} (HTTP ${status}). Check the URL, that the service ` +
        'is running, and that the Grafana server (not only your browser) can connect to it.',
    );
  });

  it('passes on the service\'s own message for a 503 it sent', async () => {
    failWith(503, { statusCode: 503, error: 'Service Unavailable', message: 'database unreachable' });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.message).toBe('The mlmon service answered HTTP 503 to /api/ml-monitoring/info: database unreachable');
  });

  it('says the proxy gave up waiting on a 504 (a slow query, not a wrong URL)', async () => {
    failWith(504, { message: 'Gateway Timeout' });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.message).toMatch(/^Grafana's proxy gave up waiting for the mlmon service at .* \(HTTP 504\)\. A slow query/);
  });

  it('points at the URL when mlmon itself has no /info there (its base URL plus /api/ml-monitoring)', async () => {
    failWith(404, { statusCode: 404, error: 'Not Found', message: 'no route GET /api/ml-monitoring/api/ml-monitoring/info' });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.message).toContain('without /api/ml-monitoring');
  });

  it('points at the URL when something else answers 404', async () => {
    failWith(404, '<html>not found</html>');
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result.message).toContain(`${SERVICE_URL} answered but has no mlmon API at /api/ml-monitoring/info (HTTP 404)`);
    expect(result.message).toContain('without /api/ml-monitoring');
  });

  it('refuses an incompatible API version', async () => {
    serve({ '/info': () => ({ service: 'mlmon', version: '2.0.0', api_version: 2 }) });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result).toEqual({
      status: 'error',
      message: `mlmon 2.0.0 at ${SERVICE_URL} serves API version 2, but this plugin supports API version 1. Install the plugin release that matches the service.`,
    });
  });

  it('refuses a service that is not mlmon', async () => {
    serve({ '/info': () => ({ name: 'something else' }) });
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result).toEqual({ status: 'error', message: `${SERVICE_URL} answered /api/ml-monitoring/info, but not as an mlmon service. Check the URL.` });
  });

  it('reports a network failure that never reached the proxy', async () => {
    mockFetch.mockImplementation(() => throwError(() => new TypeError('Failed to fetch')));
    const result = await new MlmonDataSource(instanceSettings()).testDatasource();
    expect(result).toEqual({ status: 'error', message: 'Request to the mlmon service failed: Failed to fetch' });
  });
});
