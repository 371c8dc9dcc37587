import { isFetchError } from '@grafana/runtime';

/** A failed service request, with a message that tells the user what to change. */
export class MlmonRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlmonRequestError';
  }
}

/** The error body the service sends (docs/api.md); anything else came from Grafana's proxy. */
interface ServiceErrorBody {
  statusCode: number;
  message: string;
}

function isServiceErrorBody(data: unknown): data is ServiceErrorBody {
  return typeof data === 'object' && data !== null && 'statusCode' in data && typeof (data as ServiceErrorBody).message === 'string';
}

/**
 * Grafana's data source proxy turns the service's 401 into a 400 with this plain text
 * (pkg/api/pluginproxy/ds_proxy.go), so a rejected token never reaches the browser as a 401.
 */
export const PROXY_AUTH_FAILURE = 'Authentication to data source failed';

function isProxiedAuthFailure(status: number, data: unknown): boolean {
  if (status !== 400) return false;
  const text = typeof data === 'string' ? data : typeof data === 'object' && data !== null ? (data as { message?: unknown }).message : undefined;
  return typeof text === 'string' && text.includes(PROXY_AUTH_FAILURE);
}

/** Statuses Grafana's data source proxy answers with when it cannot get a response from the service. */
const UNREACHABLE_STATUSES = new Set([502, 503]);
/** The proxy's answer when the service took too long (its dataproxy timeout, 30 s by default). */
const PROXY_TIMEOUT = 504;
/** Every mlmon answers this path: a 404 there, even in mlmon's words, means the URL is not its base URL. */
const INFO_PATH = '/info';

/**
 * Turns a failed `getBackendSrv().fetch` into an actionable message. `serviceUrl` is the configured
 * URL, named in messages because the browser only ever sees the proxy URL.
 */
export function describeRequestFailure(error: unknown, path: string, serviceUrl: string | undefined): MlmonRequestError {
  const where = serviceUrl ?? 'the configured URL';
  if (!isFetchError(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new MlmonRequestError(`Request to the mlmon service failed: ${reason}`);
  }
  const { status, data } = error;
  const fromService = isServiceErrorBody(data);
  if (status === 401 || isProxiedAuthFailure(status, data)) {
    return new MlmonRequestError(
      'The read token was rejected by the mlmon service. Enter the service\'s read token ' +
        '(MLMON_READ_TOKEN) under "Read token" in the data source settings and save.',
    );
  }
  if (!fromService && (status <= 0 || UNREACHABLE_STATUSES.has(status))) {
    return new MlmonRequestError(
      `Grafana could not reach the mlmon service at ${where} (HTTP ${status}). Check the URL, that the ` +
        'service is running, and that the Grafana server (not only your browser) can connect to it.',
    );
  }
  if (!fromService && status === PROXY_TIMEOUT) {
    return new MlmonRequestError(
      `Grafana's proxy gave up waiting for the mlmon service at ${where} (HTTP 504). A slow query (anomalies ` +
        'below the 5-minute threshold over a long range walk every prediction in it), or an overloaded service or database.',
    );
  }
  if (status === 404 && (!fromService || path.endsWith(INFO_PATH))) {
    return new MlmonRequestError(
      `${where} answered but has no mlmon API at ${path} (HTTP 404). The URL must be the service's base ` +
        'URL, e.g. http://mlmon:8080, without /api/ml-monitoring.',
    );
  }
  const detail = fromService ? data.message : error.statusText || error.message || 'no details';
  return new MlmonRequestError(`The mlmon service answered HTTP ${status} to ${path}: ${detail}`);
}
