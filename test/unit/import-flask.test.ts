import { actualOf, predictionOf, type FlaskRow } from '../../src/cli/import-flask.js';

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
