/**
 * Time windows in epoch microseconds (PostgreSQL's timestamp resolution), half-open [start, end).
 * A window is read as whole buckets of the rollup tiers (day, hour, 10 minutes, minute) plus the
 * partial minutes at its edges from raw rows, so results are exact for the window, not rounded to
 * the minute.
 */
export const MICROS_PER_MS = 1000;
export const MINUTE_US = 60_000_000;
export const HOUR_US = 60 * MINUTE_US;
export const DAY_US = 24 * HOUR_US;

export interface Range {
  start: number;
  end: number;
}

export interface TieredPlan {
  /** Per rollup tier (coarsest first, as given): the ranges read from that tier's buckets. */
  tiers: { stepUs: number; ranges: Range[] }[];
  /** What no tier covers whole: read from raw rows. */
  raw: Range[];
}

/**
 * Splits a window over rollup tiers, coarsest first: the whole buckets of the coarsest tier, then
 * the edges left over by the next finer tier, and so on; what remains comes from raw rows. Each
 * tier's step must be a multiple of the next. A 30-day window on hours and minutes reads ~720
 * hours, at most ~120 minutes and two partial minutes of raw rows.
 */
export function planTiers(range: Range, stepsUs: number[]): TieredPlan {
  const tiers = stepsUs.map((stepUs) => ({ stepUs, ranges: [] as Range[] }));
  const raw: Range[] = [];
  const place = ({ start, end }: Range, level: number): void => {
    if (end <= start) return;
    if (level === stepsUs.length) {
      raw.push({ start, end });
      return;
    }
    const step = stepsUs[level]!;
    const firstWhole = Math.ceil(start / step) * step;
    const lastWholeEnd = Math.floor(end / step) * step;
    if (firstWhole >= lastWholeEnd) {
      place({ start, end }, level + 1);
      return;
    }
    place({ start, end: firstWhole }, level + 1);
    tiers[level]!.ranges.push({ start: firstWhole, end: lastWholeEnd });
    place({ start: lastWholeEnd, end }, level + 1);
  };
  place(range, 0);
  return { tiers, raw };
}

/**
 * Plans consecutive pieces [b0, b1), [b1, b2), ... (boundaries never decreasing; an empty piece
 * reads nothing) like one window each, so that no bucket read straddles a boundary, then joins the ranges of a tier that
 * touch: a whole bucket then belongs to the piece its start lies in, and the reader tells pieces
 * apart by position, not by one range per piece. Thirty whole days read as one run of days.
 */
export function planPieces(boundaries: number[], stepsUs: number[]): TieredPlan {
  const plans = boundaries.slice(1).map((end, i) => planTiers({ start: boundaries[i]!, end }, stepsUs));
  return {
    tiers: stepsUs.map((stepUs, level) => ({ stepUs, ranges: joinTouching(plans.flatMap((plan) => plan.tiers[level]!.ranges)) })),
    raw: joinTouching(plans.flatMap((plan) => plan.raw)),
  };
}

/** Ranges in order, those that touch joined into one. */
function joinTouching(ranges: Range[]): Range[] {
  const joined: Range[] = [];
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = joined[joined.length - 1];
    if (last && last.end === range.start) last.end = range.end;
    else joined.push({ ...range });
  }
  return joined;
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

/**
 * The instant of an ISO-8601 timestamp in microseconds: `Date.parse` reads milliseconds, the
 * fraction's 4th to 6th digits are added (the inverse of isoMicros, so a bound sent back keeps it).
 */
export function microsOfIso(iso: string): number {
  const fraction = /T\d\d:\d\d:\d\d\.(\d+)/i.exec(iso)?.[1] ?? '';
  return Date.parse(iso) * MICROS_PER_MS + Number(fraction.padEnd(6, '0').slice(3, 6));
}

export function floorTo(us: number, stepUs: number): number {
  return Math.floor(us / stepUs) * stepUs;
}
