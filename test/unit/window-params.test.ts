import { HOUR_US } from '../../src/aggregate/window.js';
import { parseRange, parseWindow } from '../../src/expose/api/window-params.js';
import { RequestProblem } from '../../src/server/errors.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0) * 1000; // µs
const T0 = Date.UTC(2026, 0, 1) * 1000;

/** The field a refusal names (the API's 400 names the same one). */
function refusedField(parse: () => unknown): string | undefined {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestProblem);
    return (error as RequestProblem).details?.[0]?.field;
  }
  return undefined;
}

describe('parseWindow (src/expose/api/window-params.ts)', () => {
  it('ends the default window now and starts it the route’s default hours before', () => {
    expect(parseWindow({}, NOW, 6)).toEqual({ fromUs: NOW - 6 * HOUR_US, toUs: NOW });
    expect(parseWindow({ hours: 2 }, NOW, 6)).toEqual({ fromUs: NOW - 2 * HOUR_US, toUs: NOW });
  });

  it('rounds a fraction of a microsecond to the nearest whole one', () => {
    // 27.6 µs and 27.4 µs: truncating would read both as 27.
    expect(parseWindow({ hours: 27.6 / HOUR_US }, NOW, 24).fromUs).toBe(NOW - 28);
    expect(parseWindow({ hours: 27.4 / HOUR_US }, NOW, 24).fromUs).toBe(NOW - 27);
  });

  it('takes from and to to the microsecond, from excluded and to included by the caller', () => {
    expect(parseWindow({ from: '2026-01-01T00:00:00.000001Z', to: '2026-01-01T06:00:00Z' }, NOW, 24)).toEqual({
      fromUs: T0 + 1,
      toUs: T0 + 6 * HOUR_US,
    });
  });

  it('accepts a range of exactly 366 days and refuses one a microsecond longer', () => {
    // 2024 is a leap year: 2024-01-01 to 2025-01-01 is 366 days, the longest a calendar year gets.
    expect(parseWindow({ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, NOW, 24).toUs).toBe(Date.UTC(2025, 0, 1) * 1000);
    expect(refusedField(() => parseWindow({ from: '2023-12-31T23:59:59.999999Z', to: '2025-01-01T00:00:00Z' }, NOW, 24))).toBe('from');
  });

  it('refuses hours beside from/to, naming hours', () => {
    expect(refusedField(() => parseWindow({ hours: 1, from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }, NOW, 24))).toBe('hours');
  });
});

describe('parseRange', () => {
  it('is undefined without from and to, and names the missing one otherwise', () => {
    expect(parseRange({})).toBeUndefined();
    expect(refusedField(() => parseRange({ to: '2026-01-01T00:00:00Z' }))).toBe('from');
    expect(refusedField(() => parseRange({ from: '2026-01-01T00:00:00Z' }))).toBe('to');
  });

  it('needs to after from, by a microsecond at least', () => {
    expect(parseRange({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00.000001Z' })).toEqual({ fromUs: T0, toUs: T0 + 1 });
    expect(refusedField(() => parseRange({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }))).toBe('to');
  });
});
