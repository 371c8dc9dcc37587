import { request } from 'node:http';

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  /** Parsed JSON when the answer says it is JSON, else the text. */
  data: unknown;
}

/**
 * A plain HTTP/1.1 request with node:http. The suites that use it run in jsdom (Grafana's packages
 * need a window), which has no usable fetch towards another origin.
 */
export function httpRequest(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = { ...options.headers, ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) };
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? 'GET', headers, timeout: options.timeoutMs ?? 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const contentType = String(response.headers['content-type'] ?? '');
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          headers: Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, String(value)])),
          data: contentType.includes('json') && text !== '' ? JSON.parse(text) : text,
        });
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`timeout after ${options.timeoutMs ?? 10_000} ms`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
