import { HOUR_US, MICROS_PER_MS, microsOfIso } from '../../aggregate/window.js';
import { invalidField } from '../../server/errors.js';
import { MAX_WINDOW_HOURS } from '../../validate/limits.js';

export interface WindowParams {
  hours?: number;
  from?: string;
  to?: string;
}

export interface RequestedWindow {
  fromUs: number;
  toUs: number;
}


/**
 * `from` and `to` (both, ISO) as the exact range (from, to], e.g. a Grafana panel's time range;
 * undefined when neither is given.
 */
export function parseRange(params: Pick<WindowParams, 'from' | 'to'>): RequestedWindow | undefined {
  const { from, to } = params;
  if (from === undefined && to === undefined) return undefined;
  if (from === undefined) throw invalidField('query', 'from', 'is required with to');
  if (to === undefined) throw invalidField('query', 'to', 'is required with from');
  const range = { fromUs: microsOfIso(from), toUs: microsOfIso(to) };
  if (!(range.toUs > range.fromUs)) throw invalidField('query', 'to', 'must be after from');
  return range;
}

/**
 * (now - hours, now] by default; `from` and `to` select an exact range instead (parseRange).
 * Mixing them is ambiguous and refused. A window spans at most 366 days.
 */
export function parseWindow(params: WindowParams, nowUs: number, defaultHours: number): RequestedWindow {
  const { hours, from, to } = params;
  if (from === undefined && to === undefined) {
    // Whole microseconds (PostgreSQL's resolution): hours=7.5e-9 is 27.125 µs, read as 27.
    return { fromUs: nowUs - Math.round((hours ?? defaultHours) * HOUR_US), toUs: nowUs };
  }
  if (hours !== undefined) throw invalidField('query', 'hours', 'cannot be combined with from/to');
  const window = parseRange(params)!;
  if (window.toUs - window.fromUs > MAX_WINDOW_HOURS * HOUR_US) throw invalidField('query', 'from', 'must be at most 366 days before to');
  return window;
}

export const nowMicros = () => Date.now() * MICROS_PER_MS;
