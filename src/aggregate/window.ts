/**
 * Time windows in epoch microseconds (PostgreSQL's timestamp resolution), half-open [start, end).
 * A window is read as whole minute buckets from the rollup plus the partial minutes at its edges
 * from raw rows, so results are exact for the window, not rounded to the minute.
 */
export const MICROS_PER_MS = 1000;
export const MINUTE_US = 60_000_000;
export const HOUR_US = 60 * MINUTE_US;
export const DAY_US = 24 * HOUR_US;

export interface Range {
  start: number;
  end: number;
}

export interface WindowPlan {
  /** Rollup buckets whose whole minute lies inside the window, or null when there are none. */
  buckets: Range | null;
  /** Raw-row ranges: the partial minutes at the edges (or the whole window when it is short). */
  raw: Range[];
}

export function planWindow({ start, end }: Range): WindowPlan {
  if (end <= start) return { buckets: null, raw: [] };
  const firstWhole = Math.ceil(start / MINUTE_US) * MINUTE_US;
  const lastWholeEnd = Math.floor(end / MINUTE_US) * MINUTE_US;
  if (firstWhole >= lastWholeEnd) return { buckets: null, raw: [{ start, end }] };
  const raw: Range[] = [];
  if (start < firstWhole) raw.push({ start, end: firstWhole });
  if (lastWholeEnd < end) raw.push({ start: lastWholeEnd, end });
  return { buckets: { start: firstWhole, end: lastWholeEnd }, raw };
}

/** The API's windows are (from, to] on microsecond timestamps: that is [from + 1µs, to + 1µs). */
export function openClosed(fromUs: number, toUs: number): Range {
  return { start: fromUs + 1, end: toUs + 1 };
}

export function microsOf(date: Date): number {
  return date.getTime() * MICROS_PER_MS;
}

/**
 * ISO-8601 with microseconds, for passing exact bounds to PostgreSQL. Send it as text
 * (`${iso}::text::timestamptz`): a parameter typed timestamptz is rounded to milliseconds by the
 * driver's Date serialisation.
 */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / MICROS_PER_MS);
  const rest = us - ms * MICROS_PER_MS;
  return new Date(ms).toISOString().replace('Z', String(rest).padStart(3, '0') + 'Z');
}

export function floorTo(us: number, stepUs: number): number {
  return Math.floor(us / stepUs) * stepUs;
}
