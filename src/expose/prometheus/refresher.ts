/** How long a refresh may take before the database counts as down (the last values stay served). */
const REFRESH_TIMEOUT_MS = 2000;

/**
 * Gauges are refreshed in the background only while somebody scrapes: Prometheus scrapes every
 * 15 s to 2 min, so after this long without a scrape the service stops reading the database.
 */
const SCRAPED_LATELY_MS = 5 * 60_000;

/** While refreshes keep failing (every few seconds in the background), one is reported per minute. */
const FAILURE_REPORT_INTERVAL_MS = 60_000;

export interface SnapshotRefresherOptions {
  /** How old the snapshot may be; 0 reads it during every scrape. */
  cacheSeconds: number;
  /** Reads the snapshot (the database) and sets the gauges from it; throws when it cannot. */
  read: () => Promise<void>;
  /** Whether the last read succeeded: false when it failed or took longer than REFRESH_TIMEOUT_MS. */
  onHealth: (up: boolean) => void;
  /** A failed refresh: the first of a run of failures, then at most one per minute. */
  onRefreshError?: (error: unknown) => void;
  /** The first successful refresh after failures, with how long they lasted. */
  onRefreshRecovered?: (failedForMs: number) => void;
}

/**
 * Keeps a snapshot read from the database fresh ahead of the scrapes: while /metrics is scraped it
 * is read every `cacheSeconds` in the background, so that a scrape never waits for the database.
 * The first scrape after a quiet spell (or every scrape with `cacheSeconds` 0) reads it first,
 * waiting at most REFRESH_TIMEOUT_MS before the last good values are served.
 */
export class SnapshotRefresher {
  private snapshotAtMs: number | null = null;
  /** Until the first successful read the snapshot served is empty, as old as the refresher. */
  private readonly startedAtMs = Date.now();
  private refreshing: Promise<void> | null = null;
  private lastScrapeAtMs = 0;
  /** Whether the snapshot is being kept fresh in the background (between scrapes, and during a refresh). */
  private keepingFresh = false;
  private nextRefresh: NodeJS.Timeout | undefined;
  private closed = false;
  private failingSinceMs: number | null = null;
  private failureReportedAtMs = 0;

  constructor(private readonly options: SnapshotRefresherOptions) {}

  /** Before a scrape is answered: reads the snapshot when it is stale and nothing keeps it fresh. */
  async beforeScrape(): Promise<void> {
    this.lastScrapeAtMs = Date.now();
    if (this.keepingFresh) return;
    const stale = this.snapshotAtMs === null || Date.now() - this.snapshotAtMs >= this.options.cacheSeconds * 1000;
    if (stale) await this.refreshWithin(REFRESH_TIMEOUT_MS);
    this.startKeepingFresh();
  }

  /** Seconds since the snapshot served was read (since the start until a first read succeeds). */
  ageSeconds(): number {
    return (Date.now() - (this.snapshotAtMs ?? this.startedAtMs)) / 1000;
  }

  /** Stops the background refresh; the last snapshot stays served. */
  close(): void {
    this.closed = true;
    clearTimeout(this.nextRefresh);
  }

  /** Refreshes every `cacheSeconds` until nobody has scraped for SCRAPED_LATELY_MS (one loop, however many scrapes start it). */
  private startKeepingFresh(): void {
    if (this.keepingFresh || this.closed || this.options.cacheSeconds === 0) return;
    this.keepingFresh = true;
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    this.nextRefresh = setTimeout(() => {
      if (Date.now() - this.lastScrapeAtMs > SCRAPED_LATELY_MS) {
        this.keepingFresh = false;
        return;
      }
      void this.refreshWithin(REFRESH_TIMEOUT_MS).then(() => {
        if (!this.closed) this.scheduleRefresh();
      });
    }, this.options.cacheSeconds * 1000);
    this.nextRefresh.unref();
  }

  private async refreshWithin(timeoutMs: number): Promise<void> {
    // One refresh at a time: concurrent scrapes share it; a slow one keeps running in the background.
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.options.onHealth(false);
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.refreshing, timeout]);
    clearTimeout(timer);
  }

  private async refresh(): Promise<void> {
    const readAtMs = Date.now();
    try {
      await this.options.read();
      this.options.onHealth(true);
      // The values are the database as of the read's start (their windows end there; a write
      // acknowledged while the read ran may be missing), so their age counts from then: from
      // its end, a scrape after the last write could serve values from before it as fresher.
      this.snapshotAtMs = readAtMs;
      if (this.failingSinceMs !== null) this.options.onRefreshRecovered?.(Date.now() - this.failingSinceMs);
      this.failingSinceMs = null;
    } catch (error) {
      this.options.onHealth(false);
      const now = Date.now();
      const firstFailure = this.failingSinceMs === null;
      this.failingSinceMs ??= now;
      if (firstFailure || now - this.failureReportedAtMs >= FAILURE_REPORT_INTERVAL_MS) {
        this.failureReportedAtMs = now;
        this.options.onRefreshError?.(error);
      }
    }
  }
}
