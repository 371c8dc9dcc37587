import { API_PREFIX } from '../expose/api/options.js';
import { readStoredIngestToken, tokenFileOf } from '../server/tokens.js';
import { UsageError } from './entry-point.js';

/** How the CLI's commands reach the running service: its URL and the ingest token they act with. */
export interface ServiceTarget {
  url: string;
  ingestToken: string;
}

/**
 * The ingest token given (an option or the environment), else the one the service generated into
 * `<dataDir>/tokens.json`. `howToGiveOne` ends in front of "the data directory of a service ...".
 */
export async function ingestTokenOf(given: string | undefined, dataDir: string, howToGiveOne: string): Promise<string> {
  if (given) return given;
  const stored = await readStoredIngestToken(dataDir);
  if (stored === null) {
    throw new UsageError(`no ingest token: ${howToGiveOne} the data directory of a service that generated one (${tokenFileOf(dataDir)} has none)`);
  }
  return stored;
}

function messageOf(answer: string): string {
  try {
    return String((JSON.parse(answer) as { message?: unknown }).message ?? answer);
  } catch {
    return answer.slice(0, 300); // not JSON: a proxy's error page, say
  }
}

/**
 * One request to the service's API (under /api/ml-monitoring); its JSON answer. An unreachable
 * service and a refusal are errors that say which, with the service's own message.
 */
export async function callService<T>(target: ServiceTarget, method: 'POST' | 'PUT', path: string, body: string, contentType = 'application/json'): Promise<T> {
  const response = await fetch(`${target.url}${API_PREFIX}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.ingestToken}`, 'content-type': contentType },
    body,
  }).catch((error: unknown) => {
    throw new Error(`cannot reach the service at ${target.url} (${error instanceof Error ? error.message : String(error)}); is it running? use --url`);
  });
  const answer = await response.text();
  if (!response.ok) throw new Error(`the service refused ${method} ${path}: ${response.status} ${messageOf(answer)}`);
  return JSON.parse(answer) as T;
}
