interface Waiting<Item, ItemResult> {
  items: Item[];
  resolve: (results: ItemResult[]) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  /** A group never grows past this many rows (one request larger than this goes alone). */
  maxRows?: number;
  /**
   * Transactions in flight at most. Only the first starts for any amount of waiting rows: a
   * further one starts only while a full group (maxRows) is waiting, because small groups cost
   * the database per statement and would only contend for the same hot rollup rows.
   */
  concurrency?: number;
  /**
   * Whether a failed group is worth retrying request by request (a bad row in one request);
   * false for failures every request would meet again (the database is down).
   */
  retryAlone?: (error: unknown) => boolean;
}

/**
 * Group commit for the write path. Requests that arrive while a transaction is in flight are
 * written together in the next one, so N concurrent single-row POSTs cost a few transactions
 * instead of N (each touching the same hot rollup row). A request is never split: it is stored
 * whole or not at all, and each is answered only after its transaction committed, with the
 * results of its own items (`write` returns one result per item, in order). At low load nothing
 * waits: the first request starts a transaction at once. Large batches may be written side by
 * side (see concurrency); small requests are merged into one transaction at a time, which makes
 * the groups larger and the database's work per row smaller.
 */
export class GroupCommit<Item, ItemResult> {
  private readonly queue: Waiting<Item, ItemResult>[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  private readonly maxRows: number;
  private readonly concurrency: number;
  private readonly retryAlone: (error: unknown) => boolean;

  constructor(
    private readonly write: (items: Item[]) => Promise<ItemResult[]>,
    { maxRows = 2000, concurrency = 2, retryAlone = () => true }: GroupCommitOptions = {},
  ) {
    this.maxRows = maxRows;
    this.concurrency = concurrency;
    this.retryAlone = retryAlone;
  }

  submit(items: Item[]): Promise<ItemResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queuedRows += items.length;
      if (this.mayStartAnother()) void this.drain();
    });
  }

  /** With one transaction in flight, the waiting requests join the next group instead. */
  private mayStartAnother(): boolean {
    if (this.inFlight === 0) return true;
    return this.inFlight < this.concurrency && this.queuedRows >= this.maxRows;
  }

  private takeGroup(): Waiting<Item, ItemResult>[] {
    const group: Waiting<Item, ItemResult>[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (group.length > 0 && rows + next.items.length > this.maxRows) break;
      group.push(this.queue.shift()!);
      rows += next.items.length;
    }
    this.queuedRows -= rows;
    return group;
  }

  private async drain(): Promise<void> {
    this.inFlight++;
    try {
      for (let group = this.takeGroup(); group.length > 0; group = this.keepsDraining() ? this.takeGroup() : []) {
        await this.commit(group);
      }
    } finally {
      this.inFlight--;
    }
  }

  /** After a commit: the only writer takes whatever waits, a side-by-side one only a full group. */
  private keepsDraining(): boolean {
    return this.inFlight === 1 || this.queuedRows >= this.maxRows;
  }

  private async commit(group: Waiting<Item, ItemResult>[]): Promise<void> {
    let results: ItemResult[];
    try {
      results = await this.write(group.flatMap((w) => w.items));
    } catch (error) {
      if (group.length === 1 || !this.retryAlone(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      // One request's failure must not fail its neighbours: retry each on its own.
      for (const waiting of group) await this.commit([waiting]);
      return;
    }
    let offset = 0;
    for (const { items, resolve } of group) {
      resolve(results.slice(offset, offset + items.length));
      offset += items.length;
    }
  }
}
