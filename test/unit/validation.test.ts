import type { FastifySchemaValidationError } from 'fastify';
import { compileBodyValidator, describeValidation } from '../../src/server/validation.js';
import { invalidField, RequestProblem } from '../../src/server/errors.js';
import { createdAtProblem, isLive, LIVE_AGE_MS, MAX_BATCH, PredictionBodySchema } from '../../src/validate/prediction.js';
import { ActualBodySchema } from '../../src/validate/actual.js';
import { isStorableTimestamp, MAX_FUTURE_SKEW_MS, MIN_MAGNITUDE, TIMESTAMP_RULE } from '../../src/validate/limits.js';

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

describe('field limits (src/validate/limits.ts, prediction.ts, actual.ts)', () => {
  const accepts = (validate: typeof validatePredictions, body: unknown) => validate(body) === true;
  const refusedField = (validate: typeof validatePredictions, body: unknown) => describe_(validate, body).details.map((d) => d.field);

  it('each bounded number takes its bounds and refuses just past them', () => {
    const cases: [string, number, number][] = [
      // field, the bound (accepted), just past it (refused)
      ['booking_id', Number.MAX_SAFE_INTEGER, 2 ** 53],
      ['predicted_delay_minutes', 1_000_000, 1_000_000.5],
      ['predicted_delay_minutes', -1_000_000, -1_000_000.5],
      ['confidence', 0, -0.001],
      ['confidence', 1, 1.001],
      ['prediction_time_ms', 0, -0.001],
      ['prediction_time_ms', 3_600_000, 3_600_000.5],
      ['traffic_percentage', 100, 101],
      ['traffic_percentage', 0, -1],
      ['driver_id', 0, -1],
    ];
    for (const [field, ok, bad] of cases) {
      expect([field, ok, accepts(validatePredictions, { ...good, [field]: ok })]).toEqual([field, ok, true]);
      expect([field, bad, refusedField(validatePredictions, { ...good, [field]: bad })]).toEqual([field, bad, [field]]);
    }
    expect(refusedField(validatePredictions, { ...good, traffic_percentage: 50.5 })).toEqual(['traffic_percentage']);
  });

  it('refuses non-zero magnitudes below 1e-100 (their squares underflow in PostgreSQL), takes 0', () => {
    expect(MIN_MAGNITUDE).toBe(1e-100);
    expect(accepts(validatePredictions, { ...good, predicted_delay_minutes: 0, confidence: 0, prediction_time_ms: 0 })).toBe(true);
    expect(accepts(validatePredictions, { ...good, predicted_delay_minutes: -1e-100, confidence: 1e-100 })).toBe(true);
    expect(describe_(validatePredictions, { ...good, predicted_delay_minutes: 1e-101 }).details).toEqual([
      { field: 'predicted_delay_minutes', message: 'must be 0 or at least 1e-100 in magnitude' },
    ]);
    expect(refusedField(validatePredictions, { ...good, confidence: 5e-324 })).toEqual(['confidence']);
    expect(refusedField(validatePredictions, { ...good, prediction_time_ms: 1e-200 })).toEqual(['prediction_time_ms']);
    expect(refusedField(validateActuals, { booking_id: 1, actual_delay_minutes: -1e-150 })).toEqual(['actual_delay_minutes']);
    // Factors are never squared, but the documented rule holds for every number sent.
    expect(refusedField(validatePredictions, { ...good, contributing_factors: { a: 1e-101 } })).toEqual(['contributing_factors.a']);
    expect(accepts(validatePredictions, { ...good, contributing_factors: { a: 0, b: -1e-100 } })).toBe(true);
  });

  it('text fields: length bounds, and no unpaired surrogates (PostgreSQL cannot store them)', () => {
    expect(accepts(validatePredictions, { ...good, risk_level: 'r'.repeat(20), request_id: 'q'.repeat(100), model_version: 'v'.repeat(50) })).toBe(true);
    expect(refusedField(validatePredictions, { ...good, risk_level: 'r'.repeat(21) })).toEqual(['risk_level']);
    expect(refusedField(validatePredictions, { ...good, risk_level: '' })).toEqual(['risk_level']);
    expect(refusedField(validatePredictions, { ...good, request_id: 'q'.repeat(101) })).toEqual(['request_id']);
    expect(refusedField(validatePredictions, { ...good, request_id: '' })).toEqual(['request_id']);
    expect(refusedField(validatePredictions, { ...good, model_version: 'v'.repeat(51) })).toEqual(['model_version']);
    expect(refusedField(validatePredictions, { ...good, model_version: '' })).toEqual(['model_version']);
    expect(accepts(validatePredictions, { ...good, risk_level: 'é€😀' })).toBe(true); // a surrogate pair is fine
    expect(refusedField(validatePredictions, { ...good, risk_level: 'lo\uD800w' })).toEqual(['risk_level']);
    expect(refusedField(validatePredictions, { ...good, request_id: '\uDC00' })).toEqual(['request_id']);
    expect(refusedField(validatePredictions, { ...good, model_version: 'v\u0000' })).toEqual(['model_version']);
  });

  it("model_version is never the fleet's 'all' nor 'other'", () => {
    for (const reserved of ['all', 'other']) {
      expect(describe_(validatePredictions, { ...good, model_version: reserved }).details).toEqual([{ field: 'model_version', message: 'is a reserved value' }]);
    }
    expect(accepts(validatePredictions, { ...good, model_version: 'All' })).toBe(true);
  });

  it('model_version has no commas nor surrounding whitespace: the multi-version read filters could not select it', () => {
    const rule = 'must not contain commas, NUL characters or unpaired surrogates, nor start or end with whitespace';
    for (const bad of ['v3,beta', ' all', 'v2 ', '\tv1', 'v1\n', 'a\n ']) {
      expect([bad, describe_(validatePredictions, { ...good, model_version: bad }).details]).toEqual([bad, [{ field: 'model_version', message: rule }]]);
    }
    for (const ok of ['v2 beta', 'v1.2-rc.3', 'x', 'é€😀']) expect([ok, accepts(validatePredictions, { ...good, model_version: ok })]).toEqual([ok, true]);
  });

  it('contributing_factors: at most 100 names of at most 100 characters, values within ±1e12', () => {
    const factors = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
    expect(accepts(validatePredictions, { ...good, contributing_factors: { ...factors(98), ['n'.repeat(100)]: 1e12, m: -1e12 } })).toBe(true);
    expect(refusedField(validatePredictions, { ...good, contributing_factors: factors(101) })).toEqual(['contributing_factors']);
    expect(refusedField(validatePredictions, { ...good, contributing_factors: { ['n'.repeat(101)]: 1 } })[0]).toContain('contributing_factors');
    expect(refusedField(validatePredictions, { ...good, contributing_factors: { a: 1.5e12 } })).toEqual(['contributing_factors.a']);
    expect(refusedField(validatePredictions, { ...good, contributing_factors: { a: -1.5e12 } })).toEqual(['contributing_factors.a']);
  });

  it('batches of 1 to 10,000 rows, predictions and actuals', () => {
    expect(MAX_BATCH).toBe(10_000);
    const predictions = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ ...good, booking_id: i }));
    expect(accepts(validatePredictions, predictions.slice(0, MAX_BATCH))).toBe(true);
    expect(refusedField(validatePredictions, predictions)).toEqual(['(body)']);
    const actuals = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ booking_id: i, actual_delay_minutes: 1 }));
    expect(accepts(validateActuals, actuals.slice(0, MAX_BATCH))).toBe(true);
    expect(refusedField(validateActuals, actuals)).toEqual(['(body)']);
    expect(refusedField(validateActuals, [])).toEqual(['(body)']);
  });

  it('actuals: known fields only, bounded id and delay', () => {
    const actual = { booking_id: 1, actual_delay_minutes: -1_000_000, actual_pickup_at: '2024-05-01T12:00:00Z' };
    expect(accepts(validateActuals, actual)).toBe(true);
    expect(describe_(validateActuals, { ...actual, colour: 'red' }).details).toEqual([{ field: 'colour', message: 'is not a known field' }]);
    expect(refusedField(validateActuals, { ...actual, actual_delay_minutes: 1_000_001 })).toEqual(['actual_delay_minutes']);
    expect(refusedField(validateActuals, { ...actual, booking_id: -1 })).toEqual(['booking_id']);
    expect(refusedField(validateActuals, { ...actual, booking_id: 2 ** 53 })).toEqual(['booking_id']);
  });

});

describe('createdAtProblem and isLive (src/validate/prediction.ts)', () => {
  const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
  const at = (ms: number) => ({ ...good, created_at: new Date(ms).toISOString() });

  it('takes created_at up to 5 minutes ahead of the clock, not 1 ms more', () => {
    expect(createdAtProblem(good, NOW, 30)).toBeNull();
    expect(createdAtProblem(at(NOW + MAX_FUTURE_SKEW_MS), NOW, undefined)).toBeNull();
    expect(createdAtProblem(at(NOW + MAX_FUTURE_SKEW_MS + 1), NOW, undefined)).toBe('must not be more than 5 minutes in the future');
    expect(MAX_FUTURE_SKEW_MS).toBe(5 * 60_000);
  });

  it('with a retention, refuses what is older than it (to the millisecond); without one, takes any age', () => {
    const retention = 30 * 86_400_000;
    expect(createdAtProblem(at(NOW - retention), NOW, 30)).toBeNull();
    expect(createdAtProblem(at(NOW - retention - 1), NOW, 30)).toMatch(/^must not be older than the retention \(MLMON_RETENTION_DAYS=30 days\)/);
    expect(createdAtProblem(at(Date.UTC(1901, 0, 1)), NOW, undefined)).toBeNull();
  });

  it('is live without created_at, or up to 5 minutes old; older is history', () => {
    expect(isLive(good, NOW)).toBe(true);
    expect(isLive(at(NOW + 60_000), NOW)).toBe(true);
    expect(isLive(at(NOW - LIVE_AGE_MS), NOW)).toBe(true);
    expect(isLive(at(NOW - LIVE_AGE_MS - 1), NOW)).toBe(false);
    expect(LIVE_AGE_MS).toBe(5 * 60_000);
  });
});
