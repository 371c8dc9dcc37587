import { METRICS, selectMetrics } from './metrics';

describe('selectMetrics', () => {
  it('returns every metric when none is requested', () => {
    expect(selectMetrics(undefined).map((metric) => metric.name)).toEqual(METRICS.map((metric) => metric.name));
    expect(selectMetrics([])).toHaveLength(METRICS.length);
  });

  it('keeps catalogue order whatever the order requested', () => {
    expect(selectMetrics(['r2', 'mae']).map((metric) => metric.name)).toEqual(['mae', 'r2']);
  });
});
