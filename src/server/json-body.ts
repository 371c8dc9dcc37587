import { isUtf8 } from 'node:buffer';
import sjson from 'secure-json-parse';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestProblem } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes no body as well as a JSON one (every field has a default): an empty body is none. */
    bodyOptional?: boolean;
  }
}

const POISONING = /prototype/;

/**
 * Bodies are read as sent: Fastify does not decompress them, so a compressed one would be read as
 * garbage. Refused with a 415 that says what to do.
 */
export function encodingProblem(request: FastifyRequest): RequestProblem | null {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return null;
  return new RequestProblem(415, `Content-Encoding ${encoding} is not supported: send the body uncompressed`);
}

/**
 * Fastify's own JSON parser answers every failure with one generic sentence. This one says what is
 * wrong: where the JSON breaks, or which field name is refused (keys that would pollute object
 * prototypes, `__proto__` and `constructor.prototype`).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const encoded = encodingProblem(request);
    if (encoded) {
      done(encoded, undefined);
      return;
    }
    const bytes = body as Buffer;
    // Decoding would turn invalid bytes into replacement characters, and store those.
    if (!isUtf8(bytes)) {
      done(new RequestProblem(400, 'invalid body: not valid UTF-8'), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    if (text.trim() === '') {
      if (request.routeOptions.config?.bodyOptional) done(null, undefined);
      else done(new RequestProblem(400, 'invalid body: the body is empty; send JSON'), undefined);
      return;
    }
    const parsed = parseJson(text);
    if ('value' in parsed) done(null, parsed.value);
    else if ('poisoned' in parsed) done(new RequestProblem(400, 'invalid body: the field names "__proto__" and "constructor.prototype" are not allowed', POISONED_FIELDS), undefined);
    else done(new RequestProblem(400, `invalid body: not valid JSON (${parsed.invalid})`), undefined);
  });
}

/** What a body naming `__proto__` or `constructor.prototype` is told, field by field. */
export const POISONED_FIELDS = [
  { field: '__proto__', message: 'is not an allowed field name' },
  { field: 'constructor', message: 'may not contain "prototype"' },
];

/**
 * JSON text read as every write route reads it (the JSON bodies and each NDJSON line): keys that
 * would pollute object prototypes are refused, not stored for a client to merge later.
 */
export function parseJson(text: string): { value: unknown } | { poisoned: true } | { invalid: string } {
  try {
    return { value: sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return POISONING.test(reason) ? { poisoned: true } : { invalid: reason };
  }
}
