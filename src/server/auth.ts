import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tokens } from './tokens.js';
import { RequestProblem } from './errors.js';

export type Access = 'read' | 'ingest' | 'metrics';

const digest = (value: string) => hash('sha256', value, 'buffer');

/** Constant time whatever the lengths: compare fixed-size digests. */
function sameSecret(presented: Buffer, expected: Buffer): boolean {
  return timingSafeEqual(presented, expected);
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Builds the onRequest hook for each access level: ingest may read too; the metrics token (when
 * set) opens /metrics only. It runs before the body is read or validated, so a request without a
 * valid token gets 401 (the read token on a write, 403) whatever it carries. Tokens are never logged (the logger redacts them).
 */
export function accessGuards(tokens: Tokens): Record<Access, (request: FastifyRequest, reply: FastifyReply) => Promise<void>> {
  const ingest = digest(tokens.ingest);
  const read = digest(tokens.read);
  const metrics = tokens.metrics === undefined ? undefined : digest(tokens.metrics);
  const allowed: Record<Access, Buffer[] | null> = {
    ingest: [ingest],
    read: [read, ingest],
    metrics: metrics ? [metrics] : null,
  };
  const guard = (access: Access) => async (request: FastifyRequest) => {
    const accepted = allowed[access];
    if (accepted === null) return;
    const token = bearerOf(request);
    if (token === undefined) {
      throw new RequestProblem(401, `missing bearer token: send "Authorization: Bearer <${access} token>"`);
    }
    const presented = digest(token);
    // Check every candidate so timing does not reveal which one matched.
    const ok = accepted.map((expected) => sameSecret(presented, expected)).includes(true);
    if (!ok) {
      // A known token without the right is a 403 (RFC 9110): sending it again cannot help.
      if (access === 'ingest' && sameSecret(presented, read)) throw new RequestProblem(403, 'the read token cannot write: send the ingest token');
      throw new RequestProblem(401, 'the bearer token was rejected');
    }
  };
  return { ingest: guard('ingest'), read: guard('read'), metrics: guard('metrics') };
}
