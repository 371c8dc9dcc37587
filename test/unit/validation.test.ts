import type { FastifySchemaValidationError } from 'fastify';
import { compileBodyValidator, describeValidation } from '../../src/server/validation.js';
import { invalidField, RequestProblem } from '../../src/server/errors.js';
import { PredictionBodySchema } from '../../src/validate/prediction.js';
import { ActualBodySchema } from '../../src/validate/actual.js';
import { isStorableTimestamp, TIMESTAMP_RULE } from '../../src/validate/limits.js';

// The body validator as the service configures it: strict types, all errors, its timestamp rule.
const validatePredictions = compileBodyValidator(PredictionBodySchema);
const validateActuals = compileBodyValidator(ActualBodySchema);

function describe_(validate: typeof validatePredictions, body: unknown) {
  expect(validate(body)).toBe(false);
  return describeValidation(validate.errors as unknown as FastifySchemaValidationError[], 'body', Array.isArray(body));
}

const good = { booking_id: 1, predicted_delay_minutes: 8.5, confidence: 0.9, risk_level: 'low' };

describe('isStorableTimestamp (src/validate/limits.ts)', () => {
  it('takes RFC 3339 as clients send it', () => {
    for (const text of [
      '2024-05-01T12:00:00Z',
      '2024-05-01t12:00:00z',
      '2024-05-01T12:00:00.123456+05:30',
      '2024-05-01T12:00:00.5-12:00',
      '2024-05-01T12:00:00+15:59',
      '1900-01-01T00:00:00Z',
      '1969-12-31T23:59:59.999999Z',
      '9998-12-31T23:59:59.999999Z',
    ]) expect([text, isStorableTimestamp(text)]).toEqual([text, true]);
  });

  it('refuses what JavaScript and PostgreSQL would read apart, or cannot store', () => {
    for (const text of [
      '2016-12-31T23:59:60Z', // a leap second: no Date holds it
      '2024-01-01T00:00:00+16:00', // beyond PostgreSQL's ±15:59
      '2024-01-01T00:00:00-23:59',
      '2021-05-31T23:59:59.9999995Z', // 7 digits: PostgreSQL rounds into June, JavaScript stays in May
      '0010-04-05 06:07:08Z', // a space: Node reads this as 2005
      '2024-05-01 12:00:00Z',
      '0077-06-15T12:00:00Z', // postgres.js reads years below 100 back as 19xx
      '0000-12-31T23:00:00-02:00', // year 0, which PostgreSQL does not have
      '1899-12-31T23:59:59Z',
      '9999-01-01T00:00:00Z', // a window ending there would need year 10000
      '2024-05-01T12:00:00', // no offset
      '2024-05-01',
    ]) expect([text, isStorableTimestamp(text)]).toEqual([text, false]);
  });
});

describe('validation error formatting (src/server/validation.ts)', () => {
  it('accepts a valid prediction and a valid batch', () => {
    expect(validatePredictions(good)).toBe(true);
    expect(validatePredictions([good, { ...good, booking_id: 2 }])).toBe(true);
  });

  it('names a missing field', () => {
    const { message, details } = describe_(validatePredictions, { booking_id: 1, confidence: 0.5, risk_level: 'x' });
    expect(details).toEqual([{ field: 'predicted_delay_minutes', message: 'is required' }]);
    expect(message).toBe('invalid body: body.predicted_delay_minutes is required');
  });

  it('names an unknown field', () => {
    const { details } = describe_(validatePredictions, { ...good, colour: 'red' });
    expect(details).toEqual([{ field: 'colour', message: 'is not a known field' }]);
  });

  it('in a batch, lists each bad row with its index and field, and not the if/then wrapper', () => {
    const { message, details } = describe_(validatePredictions, [good, { ...good, confidence: 1.5 }, good, { ...good, booking_id: 'x' }]);
    expect(details).toEqual([
      { index: 1, field: 'confidence', message: 'must be <= 1' },
      { index: 3, field: 'booking_id', message: 'must be integer' },
    ]);
    expect(message).toBe('invalid body: body[1].confidence must be <= 1; body[3].booking_id must be integer');
    expect(message).not.toContain('then');
  });

  it('names nested fields with a dotted path', () => {
    const { details } = describe_(validatePredictions, { ...good, contributing_factors: { rain: 'heavy' } });
    expect(details).toContainEqual({ field: 'contributing_factors.rain', message: 'must be number' });
  });

  it('summarises more than five problems and caps the list at 100', () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ ...good, booking_id: -1 - i }));
    const { message, details } = describe_(validatePredictions, rows);
    expect(details).toHaveLength(100);
    expect(details[0]).toEqual({ index: 0, field: 'booking_id', message: 'must be >= 0' });
    expect(message).toContain('(and 145 more)');
    expect(message.split(';')).toHaveLength(5);
  });

  it('reports a wrong body type at the body itself', () => {
    const { details } = describe_(validatePredictions, 'text');
    expect(details).toEqual([{ field: '(body)', message: 'must be object' }]);
  });

  it('an empty batch is refused', () => {
    const { details } = describe_(validatePredictions, []);
    expect(details[0]!.field).toBe('(body)');
  });

  it('refuses NUL bytes in strings, huge numbers and bad timestamps, naming the field', () => {
    expect(describe_(validatePredictions, { ...good, risk_level: 'lo\u0000w' }).details[0]!.field).toBe('risk_level');
    expect(describe_(validatePredictions, { ...good, request_id: 'a\u0000' }).details[0]!.field).toBe('request_id');
    expect(describe_(validatePredictions, { ...good, predicted_delay_minutes: Infinity }).details[0]!.field).toBe('predicted_delay_minutes');
    expect(describe_(validatePredictions, { ...good, created_at: '2024-02-30T00:00:00Z' }).details[0]!.field).toBe('created_at');
    expect(describe_(validatePredictions, { ...good, contributing_factors: { 'a\u0000': 1 } }).details[0]!.field).toContain('contributing_factors');
    expect(describe_(validateActuals, [{ booking_id: 1, actual_delay_minutes: 1, actual_pickup_at: 'yesterday' }]).details).toEqual([
      { index: 0, field: 'actual_pickup_at', message: TIMESTAMP_RULE },
    ]);
  });

  it('does not coerce types in bodies ("5" is not a number)', () => {
    expect(describe_(validatePredictions, { ...good, booking_id: '5' }).details).toEqual([{ field: 'booking_id', message: 'must be integer' }]);
  });
});

describe('invalidField (src/server/errors.ts)', () => {
  it('builds a 400 naming the field, with the row index when given', () => {
    const single = invalidField('query', 'cursor', 'is not a cursor');
    expect(single).toBeInstanceOf(RequestProblem);
    expect(single.statusCode).toBe(400);
    expect(single.message).toBe('invalid query: query.cursor is not a cursor');
    expect(single.details).toEqual([{ field: 'cursor', message: 'is not a cursor' }]);
    const row = invalidField('body', 'created_at', 'is in the future', 7);
    expect(row.message).toBe('invalid body: body[7].created_at is in the future');
    expect(row.details).toEqual([{ index: 7, field: 'created_at', message: 'is in the future' }]);
  });
});
