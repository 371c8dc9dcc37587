import { GroupCommit } from '../../src/store/group-commit.js';
import { attributeInserts } from '../../src/store/predictions.js';
import type { PredictionInput } from '../../src/validate/prediction.js';

const prediction = (booking_id: number, request_id?: string): PredictionInput => ({
  booking_id,
  predicted_delay_minutes: 5,
  confidence: 0.5,
  risk_level: 'low',
  ...(request_id === undefined ? {} : { request_id }),
});

/** A writer that stores every request_id once, remembers each call, and can be held open. */
function fakeWriter() {
  const seen = new Set<string>();
  const calls: PredictionInput[][] = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  return {
    calls,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    async write(predictions: PredictionInput[]): Promise<boolean[]> {
      calls.push(predictions);
      await gate;
      const returned = predictions.map((p) => p.request_id ?? null).filter((id) => {
        if (id === null) return true;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      return attributeInserts(predictions, returned);
    },
  };
}

describe('attributeInserts', () => {
  it('credits the first row of a repeated request_id, and every row without one', () => {
    const rows = [prediction(1, 'a'), prediction(2), prediction(3, 'a'), prediction(4, 'b'), prediction(5, 'c')];
    expect(attributeInserts(rows, ['a', null, 'c'])).toEqual([true, true, false, false, true]);
  });
});

describe('GroupCommit', () => {
  it('writes requests that arrive during a transaction together in the next one', async () => {
    const writer = fakeWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 1 });
    writer.hold();
    const first = commit.submit([prediction(1)]);
    const rest = Array.from({ length: 10 }, (_, i) => commit.submit([prediction(10 + i)]));
    writer.release();
    await Promise.all([first, ...rest]);
    expect(writer.calls.map((c) => c.length)).toEqual([1, 10]);
  });

  it('answers each request with the results of its own items, duplicates included', async () => {
    const writer = fakeWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 1 });
    writer.hold();
    const blocker = commit.submit([prediction(0)]);
    const a = commit.submit([prediction(1, 'x'), prediction(2, 'y')]);
    const b = commit.submit([prediction(3, 'x')]);
    writer.release();
    await blocker;
    expect(await a).toEqual([true, true]);
    expect(await b).toEqual([false]);
  });

  it('never splits a request and respects maxRows between requests', async () => {
    const writer = fakeWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 1, maxRows: 5 });
    writer.hold();
    const blocker = commit.submit([prediction(0)]);
    const sizes = [3, 3, 7, 1];
    const pending = sizes.map((n, r) => commit.submit(Array.from({ length: n }, (_, i) => prediction(100 * r + i))));
    writer.release();
    await Promise.all([blocker, ...pending]);
    expect(writer.calls.map((c) => c.length)).toEqual([1, 3, 3, 7, 1]);
  });

  it('merges small requests into one transaction at a time, even when more may be in flight', async () => {
    const writer = fakeWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 2, maxRows: 100 });
    writer.hold();
    const first = commit.submit([prediction(1)]);
    const rest = Array.from({ length: 30 }, (_, i) => commit.submit([prediction(10 + i)]));
    await Promise.resolve();
    expect(writer.calls.map((c) => c.length)).toEqual([1]);
    writer.release();
    await Promise.all([first, ...rest]);
    expect(writer.calls.map((c) => c.length)).toEqual([1, 30]);
  });

  it('writes a full group side by side, and the last writer left takes what waits', async () => {
    const writer = fakeWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 2, maxRows: 10 });
    writer.hold();
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => prediction(from + i));
    const pending = [commit.submit(batch(0, 4)), commit.submit(batch(100, 6))];
    await Promise.resolve();
    // 6 rows wait: not a full group, so they wait for the first writer.
    expect(writer.calls.map((c) => c.length)).toEqual([4]);
    pending.push(commit.submit(batch(200, 4)));
    // 10 rows wait: a second writer takes them.
    expect(writer.calls.map((c) => c.length)).toEqual([4, 10]);
    pending.push(commit.submit(batch(300, 3)));
    pending.push(commit.submit(batch(400, 2)));
    writer.release();
    await Promise.all(pending);
    expect(writer.calls.map((c) => c.length)).toEqual([4, 10, 5]);
  });

  it('fails every request of a failed transaction and keeps serving later ones', async () => {
    let fail = true;
    const commit = new GroupCommit(async (predictions: PredictionInput[]) => {
      if (fail) throw new Error('database down');
      return predictions.map(() => true);
    });
    await expect(commit.submit([prediction(1)])).rejects.toThrow('database down');
    fail = false;
    await expect(commit.submit([prediction(2)])).resolves.toEqual([true]);
  });
});

describe('GroupCommit isolation', () => {
  it('fails only the request whose rows the database refuses, not the others of its group', async () => {
    const calls: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = new GroupCommit(
      async (predictions: PredictionInput[]) => {
        calls.push(predictions.map((p) => p.booking_id));
        if (calls.length === 1) await gate;
        if (predictions.some((p) => p.booking_id === 666)) throw new Error('invalid input value');
        return predictions.map(() => true);
      },
      { concurrency: 1 },
    );
    const blocker = commit.submit([prediction(1)]);
    const good = commit.submit([prediction(2)]);
    const bad = commit.submit([prediction(666)]);
    const alsoGood = commit.submit([prediction(3)]);
    release();
    await blocker;
    await expect(good).resolves.toEqual([true]);
    await expect(bad).rejects.toThrow('invalid input value');
    await expect(alsoGood).resolves.toEqual([true]);
    expect(calls).toEqual([[1], [2, 666, 3], [2], [666], [3]]);
  });
});

describe('GroupCommit when every request would fail again', () => {
  it('fails the whole group at once instead of retrying each request', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = new GroupCommit<PredictionInput, boolean>(
      async () => {
        calls++;
        if (calls === 1) await gate;
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      { concurrency: 1, retryAlone: (error) => (error as { code?: string }).code !== 'ECONNREFUSED' },
    );
    const blocker = commit.submit([prediction(1)]);
    const group = [commit.submit([prediction(2)]), commit.submit([prediction(3)])];
    release();
    await expect(blocker).rejects.toThrow('ECONNREFUSED');
    await expect(Promise.all(group)).rejects.toThrow('ECONNREFUSED');
    expect(calls).toBe(2);
  });
});

/** A writer whose every call waits until the test releases that call by its index. */
function perCallWriter() {
  const calls: number[] = [];
  const releases: (() => void)[] = [];
  return {
    calls,
    release: (call: number) => releases[call]!(),
    async write(predictions: PredictionInput[]): Promise<boolean[]> {
      calls.push(predictions.length);
      await new Promise<void>((resolve) => releases.push(resolve));
      return predictions.map(() => true);
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const rowsFrom = (from: number, n: number) => Array.from({ length: n }, (_, i) => prediction(from + i));

describe('GroupCommit concurrency', () => {
  it('never has more transactions in flight than concurrency, however many full groups wait', async () => {
    const writer = perCallWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 2, maxRows: 10 });
    const pending = [0, 100, 200].map((from) => commit.submit(rowsFrom(from, 10)));
    await settle();
    expect(writer.calls).toEqual([10, 10]);
    writer.release(0);
    await settle();
    expect(writer.calls).toEqual([10, 10, 10]);
    writer.release(1);
    writer.release(2);
    await Promise.all(pending);
  });

  it('keeps a side-by-side writer going while a group of exactly maxRows waits', async () => {
    const writer = perCallWriter();
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p), { concurrency: 2, maxRows: 10 });
    const pending = [commit.submit(rowsFrom(0, 4)), commit.submit(rowsFrom(100, 10))];
    await settle();
    pending.push(commit.submit(rowsFrom(200, 10)));
    await settle();
    expect(writer.calls).toEqual([4, 10]);
    // The first writer is still busy, so only the one that just finished can take the full group.
    writer.release(1);
    await settle();
    expect(writer.calls).toEqual([4, 10, 10]);
    writer.release(0);
    writer.release(2);
    await Promise.all(pending);
  });

  it('by default groups up to 2000 rows and writes a full group beside a running one', async () => {
    const writer = perCallWriter();
    // The ingest routes rely on these defaults, so they are pinned here.
    const commit = new GroupCommit((p: PredictionInput[]) => writer.write(p));
    const pending = [commit.submit(rowsFrom(0, 1)), commit.submit(rowsFrom(1000, 1999))];
    await settle();
    expect(writer.calls).toEqual([1]);
    pending.push(commit.submit(rowsFrom(5000, 1)));
    await settle();
    expect(writer.calls).toEqual([1, 2000]);
    writer.release(0);
    writer.release(1);
    await Promise.all(pending);
  });

  it('retries the requests of a failed group one transaction at a time', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const commit = new GroupCommit(
      async (predictions: PredictionInput[]) => {
        calls++;
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          if (calls === 1) await gate;
          await settle();
          if (predictions.some((p) => p.booking_id === 666)) throw new Error('invalid input value');
          return predictions.map(() => true);
        } finally {
          inFlight--;
        }
      },
      { concurrency: 1 },
    );
    const blocker = commit.submit([prediction(1)]);
    const group = [commit.submit([prediction(2)]), commit.submit([prediction(666)]), commit.submit([prediction(3)])];
    release();
    await blocker;
    await Promise.allSettled(group);
    expect(calls).toBe(5);
    expect(mostInFlight).toBe(1);
  });
});
