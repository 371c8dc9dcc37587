import { actualOf, MORE_PROBLEMS_NOT_LISTED, predictionOf, refusedRowsOf, type FlaskRow } from '../../src/cli/import-flask.js';
import { MAX_LISTED_LINE_PROBLEMS } from '../../src/validate/ndjson.js';

const row = (changes: Partial<FlaskRow> = {}): FlaskRow => ({
  id: 41,
  booking_id: 7,
  driver_id: null,
  request_id: null,
  predicted_delay_minutes: 8.5,
  confidence: 0.9,
  risk_level: 'medium',
  contributing_factors: null,
  model_version: null,
  prediction_time_ms: null,
  feature_flag_enabled: null,
  traffic_percentage: null,
  actual_delay_minutes: null,
  actual_pickup_at: null,
  actual_dropoff_at: null,
  created_at: '2025-03-03T10:00:00.000000Z',
  ...changes,
});

describe('predictionOf', () => {
  it('leaves out what the Flask row did not know, and names the row flask-<id> when it had no request_id', () => {
    expect(predictionOf(row())).toEqual({
      booking_id: 7,
      request_id: 'flask-41',
      predicted_delay_minutes: 8.5,
      confidence: 0.9,
      risk_level: 'medium',
      created_at: '2025-03-03T10:00:00.000000Z',
    });
  });

  it('keeps the fields it had, its own request_id, and its factors parsed from JSON text', () => {
    expect(
      predictionOf(row({ request_id: 'r-1', driver_id: 3, model_version: 'v2', prediction_time_ms: 0, feature_flag_enabled: false, traffic_percentage: 0, contributing_factors: '{"rush_hour": -0.1}' })),
    ).toMatchObject({ request_id: 'r-1', driver_id: 3, model_version: 'v2', prediction_time_ms: 0, feature_flag_enabled: false, traffic_percentage: 0, contributing_factors: { rush_hour: -0.1 } });
  });

  it('keeps the request_id for the first row that has it, and names a later row sharing it flask-<id>', () => {
    const firstRowOfRequestId = new Map([['shared', 41]]);
    expect(predictionOf(row({ id: 41, request_id: 'shared' }), firstRowOfRequestId).request_id).toBe('shared');
    expect(predictionOf(row({ id: 52, request_id: 'shared' }), firstRowOfRequestId).request_id).toBe('flask-52');
    expect(predictionOf(row({ id: 52, request_id: 'own' }), firstRowOfRequestId).request_id).toBe('own');
  });

  it('sends no model_version for an empty one (mlmon stores unknown; an empty version is refused)', () => {
    expect(predictionOf(row({ model_version: '' }))).not.toHaveProperty('model_version');
  });

  it('sends factors that are not JSON as their text (for the service to refuse by name), and blank ones not at all', () => {
    expect(predictionOf(row({ contributing_factors: 'rush hour' })).contributing_factors).toBe('rush hour');
    expect(predictionOf(row({ contributing_factors: '  ' }))).not.toHaveProperty('contributing_factors');
  });
});

describe('actualOf', () => {
  it('is absent for an unlabelled row, and carries the ride times it has', () => {
    expect(actualOf(row())).toBeUndefined();
    expect(actualOf(row({ actual_delay_minutes: 0, actual_pickup_at: '2025-03-03T10:20:00.000000Z' }))).toEqual({
      booking_id: 7,
      actual_delay_minutes: 0,
      actual_pickup_at: '2025-03-03T10:20:00.000000Z',
    });
  });
});

describe('refusedRowsOf', () => {
  const rows = [row({ id: 7 }), row({ id: 8 }), row({ id: 12 })];

  it('names each refused row once, by Flask id, with every problem the service listed for its line', () => {
    const errors = [
      { line: 1, field: 'confidence', message: 'must be <= 1' },
      { line: 1, field: 'risk_level', message: 'must NOT have fewer than 1 characters' },
      { line: 3, field: 'contributing_factors', message: 'must be object' },
    ];
    expect(refusedRowsOf(rows, { accepted: 1, duplicates: 0, rejected: 2, errors })).toEqual([
      { id: 7, problems: ['confidence must be <= 1', 'risk_level must NOT have fewer than 1 characters'] },
      { id: 12, problems: ['contributing_factors must be object'] },
    ]);
  });

  it('says of the last row named in a full list that its further problems may be cut', () => {
    const many = Array.from({ length: MAX_LISTED_LINE_PROBLEMS }, (_, i) => row({ id: 100 + i }));
    const errors = many.slice(0, MAX_LISTED_LINE_PROBLEMS / 2).flatMap((_, i) => [
      { line: i + 1, field: 'confidence', message: 'must be <= 1' },
      { line: i + 1, field: 'risk_level', message: 'must NOT have fewer than 1 characters' },
    ]);
    const named = refusedRowsOf(many, { accepted: 0, duplicates: 0, rejected: MAX_LISTED_LINE_PROBLEMS, errors });
    expect(named).toHaveLength(MAX_LISTED_LINE_PROBLEMS / 2);
    expect(named[0]!.problems).toHaveLength(2);
    expect(named.at(-1)).toEqual({ id: 100 + MAX_LISTED_LINE_PROBLEMS / 2 - 1, problems: ['confidence must be <= 1', 'risk_level must NOT have fewer than 1 characters', MORE_PROBLEMS_NOT_LISTED] });
  });
});
