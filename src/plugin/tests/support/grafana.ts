import { DataQueryRequest, DataSourceInstanceSettings, dateTime, ScopedVars } from '@grafana/data';
import { BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';
import { Observable, of, throwError } from 'rxjs';

import { MlmonDataSourceOptions, MlmonQuery } from '../../src/types';

/** What the data source sees of Grafana in tests: a proxy URL and the configured service URL. */
export const PROXY_URL = '/api/datasources/proxy/uid/mlmon-test';
export const SERVICE_URL = 'http://mlmon.test:8080';

export function instanceSettings(jsonData: MlmonDataSourceOptions = { url: SERVICE_URL }): DataSourceInstanceSettings<MlmonDataSourceOptions> {
  return {
    id: 1,
    uid: 'mlmon-test',
    type: 'mlmon-predictions-datasource',
    name: 'mlmon',
    url: PROXY_URL,
    jsonData,
    access: 'proxy',
    readOnly: false,
    meta: {} as DataSourceInstanceSettings['meta'],
  };
}

export function dataQueryRequest(
  targets: MlmonQuery[],
  { from, to, intervalMs = 60_000, scopedVars = {} }: { from: string; to: string; intervalMs?: number; scopedVars?: ScopedVars },
): DataQueryRequest<MlmonQuery> {
  const range = { from: dateTime(from), to: dateTime(to), raw: { from, to } };
  return {
    requestId: 'Q100',
    interval: `${intervalMs / 1000}s`,
    intervalMs,
    range,
    scopedVars,
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  };
}

export function fetchResponse<T>(data: T, config: BackendSrvRequest): FetchResponse<T> {
  return {
    data,
    status: 200,
    statusText: 'OK',
    ok: true,
    headers: new Headers(),
    redirected: false,
    type: 'basic',
    url: config.url,
    config,
  };
}

/** Errors the way Grafana's backendSrv.fetch reports a non-2xx answer. */
export function fetchError(status: number, data: unknown, config: BackendSrvRequest): FetchError {
  return { status, statusText: `HTTP ${status}`, data, config };
}

/** A backendSrv.fetch stand-in that answers each API path (relative to /api/ml-monitoring) from `routes`. */
export function fakeFetch(routes: Record<string, (params: Record<string, unknown>) => unknown>) {
  return jest.fn((config: BackendSrvRequest): Observable<FetchResponse> => {
    const prefix = `${PROXY_URL}/mlmon/api/ml-monitoring`;
    const path = config.url.startsWith(prefix) ? config.url.slice(prefix.length) : config.url;
    const route = routes[path];
    if (!route) {
      return throwError(() => fetchError(404, { statusCode: 404, error: 'Not Found', message: `Route GET:${path} not found` }, config));
    }
    try {
      return of(fetchResponse(route(config.params ?? {}), config));
    } catch (error) {
      return throwError(() => error);
    }
  });
}

interface FakeVariable {
  name: string;
  /** The selected value(s); the string `$__all` stands for "All". */
  current: string | string[];
  options: string[];
  /** A custom "All" value, which Grafana passes through without formatting. */
  allValue?: string;
}

/**
 * Enough of Grafana's template service for interpolation tests: `$name` and `${name}` are replaced
 * with the variable's value through the given formatter; "All" expands to every option unless the
 * variable has a custom all value.
 */
export function fakeTemplateSrv(variables: FakeVariable[]) {
  return {
    getVariables: () => variables.map(({ name }) => ({ name })),
    replace: (target = '', _scopedVars?: ScopedVars, format?: string | ((value: string | string[]) => string)) =>
      target.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced: string | undefined, bare: string | undefined) => {
        const variable = variables.find((candidate) => candidate.name === (braced ?? bare));
        if (!variable) {
          return match;
        }
        const isAll = variable.current === '$__all' || (Array.isArray(variable.current) && variable.current.includes('$__all'));
        if (isAll && variable.allValue !== undefined) {
          return variable.allValue;
        }
        const value = isAll ? variable.options : variable.current;
        if (typeof format === 'function') {
          return format(value);
        }
        return Array.isArray(value) ? `{${value.join(',')}}` : value;
      }),
  };
}
