import { BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';
import { from, Observable } from 'rxjs';

import { PROXY_AUTH_FAILURE } from '../../src/errors';
import pluginJson from '../../src/plugin.json';
import { httpRequest } from './http';

/**
 * Stands in for Grafana's backendSrv.fetch plus its data source proxy, over real HTTP: it serves
 * `${proxyUrl}/<route path>/...` from the route in plugin.json, interpolating `{{ .JsonData.x }}`
 * and `{{ .SecureJsonData.x }}` in the route URL and headers as Grafana's proxy does. Like Grafana,
 * it answers 502 when the target cannot be reached, turns a 401 into its plain-text 400, and reports
 * non-2xx answers as FetchErrors.
 */
export function grafanaProxyFetch(options: {
  proxyUrl: string;
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
}) {
  const interpolate = (template: string) =>
    template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g, (_match, scope: string, key: string) =>
      (scope === 'JsonData' ? options.jsonData : options.secureJsonData)[key] ?? '',
    );

  async function proxy(config: BackendSrvRequest): Promise<FetchResponse> {
    const proxyPath = config.url.slice(options.proxyUrl.length + 1);
    const route = pluginJson.routes.find((candidate) => proxyPath.startsWith(candidate.path));
    if (!config.url.startsWith(`${options.proxyUrl}/`) || !route) {
      throw new Error(`no proxy route for ${config.url}`);
    }
    const target = new URL(interpolate(route.url) + proxyPath.slice(route.path.length));
    for (const [key, value] of Object.entries(config.params ?? {})) {
      target.searchParams.set(key, String(value));
    }
    const headers = Object.fromEntries(route.headers.map((header) => [header.name, interpolate(header.content)]));
    const answer = await httpRequest(target, { method: config.method, headers }).catch(() => undefined);
    if (!answer) {
      const unreachable: FetchError = { status: 502, statusText: 'Bad Gateway', data: { message: 'Bad Gateway' }, config };
      throw unreachable;
    }
    if (answer.status === 401) {
      // Grafana's proxy never passes a 401 on (the browser would log the user out): a plain-text 400.
      const rejected: FetchError = { status: 400, statusText: 'Bad Request', data: PROXY_AUTH_FAILURE, config };
      throw rejected;
    }
    if (answer.status < 200 || answer.status >= 300) {
      const failed: FetchError = { status: answer.status, statusText: answer.statusText, data: answer.data, config };
      throw failed;
    }
    return {
      data: answer.data,
      status: answer.status,
      statusText: answer.statusText,
      ok: true,
      headers: new Headers(answer.headers),
      redirected: false,
      type: 'basic',
      url: config.url,
      config,
    };
  }

  return (config: BackendSrvRequest): Observable<FetchResponse> => from(proxy(config));
}
