import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { describeValidation, type FieldProblem } from './validation.js';

/** A 4xx decided by a handler (a rule a schema cannot express), naming the field. */
export class RequestProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: FieldProblem[],
  ) {
    super(message);
  }
}

export function invalidField(context: 'query' | 'body', field: string, message: string, index?: number): RequestProblem {
  const at = `${context}${index === undefined ? '' : `[${index}]`}.${field}`;
  return new RequestProblem(400, `invalid ${context}: ${at} ${message}`, [
    { ...(index === undefined ? {} : { index }), field, message },
  ]);
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
]);

/** The database is down or refusing connections (not a bug in the request or the service). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  return CONNECTION_ERRORS.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);
}

/**
 * The client's connection closed before its body ended: it hung up, or the request timeout cut a
 * slow body off. Node reports it as ECONNRESET, a code the database client uses too, so the request
 * itself tells them apart: its body never arrived whole, and its connection is gone. (A client that
 * hung up on a complete request while the database was away still gets the database's name.)
 */
function isBodyCutOff(error: unknown, request: FastifyRequest): boolean {
  return (error as { code?: unknown })?.code === 'ECONNRESET' && request.raw.complete === false && request.raw.socket?.destroyed === true;
}

/** PostgreSQL cancelled the statement: on the read pool, its statement timeout (MLMON_READ_TIMEOUT_SECONDS). */
const QUERY_CANCELED = '57014';

export const RETRY_AFTER_SECONDS = 5;

/**
 * One error shape for every failure: {statusCode, error, message[, details]}. Clients get the
 * field that was wrong; they never get a stack trace or SQL.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | RequestProblem, request, reply) => {
    let statusCode = error.statusCode ?? 500;
    let message = error.message;
    let details: FieldProblem[] | undefined;
    if ('validation' in error && error.validation) {
      statusCode = 400;
      ({ message, details } = describeValidation(error.validation, error.validationContext ?? 'request', Array.isArray(request.body)));
    } else if (error instanceof RequestProblem) {
      details = error.details;
    } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      // Fastify's own text is only "Unsupported Media Type": say what was sent and what to send.
      const sent = request.headers['content-type'];
      message = `${sent ? `Content-Type ${sent} is` : 'a body without a Content-Type is'} not accepted here: send Content-Type: application/json`;
    } else if (isBodyCutOff(error, request)) {
      // Nobody is left to read an answer; logged, but not as the database's fault.
      statusCode = 408;
      message = 'the connection closed before the request body arrived';
      request.log.info('request body cut off: the connection closed before it ended');
    } else if ((error as { code?: string }).code === QUERY_CANCELED) {
      // Retrying it as it is would meet the same limit: say how to make it cheaper.
      statusCode = 504;
      message =
        'the database did not finish this read within MLMON_READ_TIMEOUT_SECONDS; narrow it: a shorter window, ' +
        'one model version, or on /anomalies a threshold of 5 minutes or more';
      request.log.warn({ url: request.url.split('?')[0] }, 'read cancelled by the statement timeout');
    } else if (isDatabaseUnavailable(error)) {
      statusCode = 503;
      message = 'the database is unavailable; retry later';
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      request.log.warn({ code: (error as { code?: string }).code }, 'database unavailable');
    } else if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
      statusCode = 500;
      message = 'internal error; see the service log';
    }
    if (statusCode === 401) reply.header('www-authenticate', 'Bearer');
    // Answered before the body ended (a bulk upload cut short by the database): the rest of the
    // body is still coming on this connection, half read, and a next request sent on it would wait
    // for ever. Closing it lets the client's next request start on a fresh one.
    if (request.raw.complete === false) reply.header('connection', 'close');
    reply.status(statusCode).send({
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message,
      ...(details ? { details } : {}),
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
