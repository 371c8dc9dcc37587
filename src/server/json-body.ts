import sjson from 'secure-json-parse';
import type { FastifyInstance } from 'fastify';
import { RequestProblem } from './errors.js';

const POISONING = /prototype/;

/**
 * Fastify's own JSON parser answers every failure with one generic sentence. This one says what is
 * wrong: where the JSON breaks, or which field name is refused (keys that would pollute object
 * prototypes, `__proto__` and `constructor.prototype`).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new RequestProblem(400, 'invalid body: the body is empty; send a JSON object or array'), undefined);
      return;
    }
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (POISONING.test(reason)) {
        done(
          new RequestProblem(400, 'invalid body: the field names "__proto__" and "constructor.prototype" are not allowed', [
            { field: '__proto__', message: 'is not an allowed field name' },
            { field: 'constructor', message: 'may not contain "prototype"' },
          ]),
          undefined,
        );
      } else {
        done(new RequestProblem(400, `invalid body: not valid JSON (${reason})`), undefined);
      }
    }
  });
}
