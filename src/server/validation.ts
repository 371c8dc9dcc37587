import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { isStorableTimestamp, MIN_MAGNITUDE, STORABLE_MODEL_VERSION, STORABLE_TEXT, TIMESTAMP_RULE } from '../validate/limits.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function ajvWith(options: ConstructorParameters<typeof Ajv>[0]): Ajv {
  const ajv = new Ajv({ strict: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats(ajv);
  // ajv-formats checks that the date exists; isStorableTimestamp, that JavaScript and PostgreSQL read it alike.
  const dateTime = ajv.formats['date-time'] as { validate: (value: string) => boolean; compare: (a: string, b: string) => number | undefined };
  ajv.addFormat('date-time', { ...dateTime, validate: (value: string) => dateTime.validate(value) && isStorableTimestamp(value) });
  ajv.addKeyword({
    keyword: 'minMagnitude',
    type: 'number',
    schemaType: 'number',
    validate: (minimum: number, value: number) => value === 0 || Math.abs(value) >= minimum,
  });
  return ajv;
}

/**
 * Bodies are validated strictly: no type coercion ("5" is not a number), unknown fields are errors,
 * and every error is reported so that a rejected batch lists each bad row. Query strings are text,
 * so they are coerced.
 */
const bodyAjv = ajvWith({ coerceTypes: false, allErrors: true });
const queryAjv = ajvWith({ coerceTypes: true, allErrors: false });

export function installValidators(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
}

/** The body validator, for payloads validated outside Fastify's request cycle (NDJSON lines). */
export function compileBodyValidator(schema: object) {
  return bodyAjv.compile(schema);
}

export interface FieldProblem {
  /** Row index in an array body. */
  index?: number;
  field: string;
  message: string;
}

/** The field name of a problem with the body as a whole (e.g. not an object). */
const WHOLE_BODY = '(body)';

/** At most this many problems are listed; the count of the rest is given. */
const MAX_LISTED = 100;

function problemOf(error: FastifySchemaValidationError | ErrorObject, bodyIsArray: boolean): FieldProblem | null {
  // The if/then/else wrapper repeats the branch's failure as 'must match "then" schema'.
  if (error.keyword === 'if') return null;
  const path = (error.instancePath ?? '').split('/').slice(1);
  const params = error.params as Record<string, unknown>;
  const extra = (params.missingProperty ?? params.additionalProperty ?? params.propertyName) as string | undefined;
  if (extra !== undefined) path.push(extra === '' ? '""' : extra); // an empty name, not the whole body
  let index: number | undefined;
  if (bodyIsArray && path.length > 0 && /^\d+$/.test(path[0]!)) index = Number(path.shift());
  const field = path.join('.') || WHOLE_BODY;
  let message = error.message ?? 'is invalid';
  if (params.additionalProperty !== undefined) message = 'is not a known field';
  if (params.missingProperty !== undefined) message = 'is required';
  if (error.keyword === 'not') message = 'is a reserved value';
  if (error.keyword === 'minMagnitude') message = `must be 0 or at least ${MIN_MAGNITUDE} in magnitude`;
  if (error.keyword === 'format' && params.format === 'date-time') message = TIMESTAMP_RULE;
  if (error.keyword === 'pattern' && params.pattern === STORABLE_TEXT) message = 'must not contain NUL characters or unpaired surrogates (invalid Unicode)';
  if (error.keyword === 'pattern' && params.pattern === STORABLE_MODEL_VERSION) {
    message = 'must not contain commas, NUL characters or unpaired surrogates, nor start or end with whitespace';
  }
  return { ...(index === undefined ? {} : { index }), field, message };
}

/** One problem per distinct (row, field, message), in the validator's order. */
export function fieldProblems(errors: (FastifySchemaValidationError | ErrorObject)[], bodyIsArray: boolean): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const problem = problemOf(error, bodyIsArray);
    if (!problem) continue;
    const key = `${problem.index}|${problem.field}|${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

export function describeValidation(
  errors: FastifySchemaValidationError[],
  context: string,
  bodyIsArray: boolean,
): { message: string; details: FieldProblem[] } {
  const problems = fieldProblems(errors, bodyIsArray);
  const listed = problems.slice(0, MAX_LISTED);
  const part = context === 'querystring' ? 'query' : context;
  const where = (p: FieldProblem) =>
    `${part}${p.index === undefined ? '' : `[${p.index}]`}${p.field === WHOLE_BODY ? '' : `.${p.field}`}`;
  const summary = listed.slice(0, 5).map((p) => `${where(p)} ${p.message}`).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return { message: `invalid ${part}: ${summary}${more}`, details: listed };
}
