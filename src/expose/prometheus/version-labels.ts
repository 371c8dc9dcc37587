/**
 * How many `model_version` label values /metrics carries. Versions come from clients: one that
 * sends a build hash or a timestamp per deploy would otherwise add ~40 series per version (nine
 * gauges in three windows, the histogram, the counter), and the counters never drop theirs.
 */
import { mergeAll, type Aggregate } from '../../aggregate/moments.js';
import { FLEET, OTHER_VERSIONS } from '../../validate/limits.js';

/**
 * The gauges' per-version aggregates in each window, limited to the `max` versions with the most
 * predictions in the widest window (the last one), the rest merged into `other`. The fleet stays
 * as it is. Versions without predictions in the widest window are left out: they have gone.
 */
export function limitVersions(windows: Map<string, Aggregate>[], max: number): Map<string, Aggregate>[] {
  const widest = windows[windows.length - 1];
  if (!widest) return windows;
  const seen = [...widest].filter(([version, aggregate]) => version !== FLEET && aggregate.predictions > 0);
  // Ties by name, so that the same data always gives the same series.
  seen.sort(([a, x], [b, y]) => y.predictions - x.predictions || (a < b ? -1 : a > b ? 1 : 0));
  const own = seen.slice(0, max).map(([version]) => version);
  const rest = seen.slice(max).map(([version]) => version);
  return windows.map((window) => {
    const limited = new Map<string, Aggregate>();
    const fleet = window.get(FLEET);
    if (fleet) limited.set(FLEET, fleet);
    for (const version of own) {
      const aggregate = window.get(version);
      if (aggregate) limited.set(version, aggregate);
    }
    if (rest.length > 0) limited.set(OTHER_VERSIONS, mergeAll(rest.flatMap((version) => window.get(version) ?? [])));
    return limited;
  });
}

/**
 * The label of a version on the counters and the histogram: the first `max` versions this process
 * stores get their own, later ones share `other` (a process restart starts over). History (an
 * import of old rows) takes a place only while fewer than half of them, rounded down, are taken,
 * so that last year's versions cannot crowd out today's.
 */
export class CounterVersionLabels {
  private readonly own = new Set<string>();

  constructor(private readonly max: number) {}

  labelOf(version: string, live: boolean): string {
    if (this.own.has(version)) return version;
    if (this.own.size >= (live ? this.max : Math.floor(this.max / 2))) return OTHER_VERSIONS;
    this.own.add(version);
    return version;
  }
}
