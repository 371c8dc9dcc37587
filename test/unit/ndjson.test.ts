import { Readable } from 'node:stream';
import { ndjsonLines, type NdjsonLine } from '../../src/validate/ndjson.js';

async function linesOf(chunks: string[], maxLineBytes = 100): Promise<NdjsonLine[]> {
  const out: NdjsonLine[] = [];
  for await (const line of ndjsonLines(Readable.from(chunks.map((c) => Buffer.from(c))), maxLineBytes)) out.push(line);
  return out;
}

describe('ndjsonLines', () => {
  it('numbers lines as in the file, across chunk boundaries, skipping blank lines (empty or only whitespace)', async () => {
    expect(await linesOf(['{"a":', '1}\n\n{"b"', ':2}\r\n', '  \t\r\n', '{"c":3}'])).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 3, text: '{"b":2}' },
      { line: 5, text: '{"c":3}' },
    ]);
  });

  it('reports a line over the limit without buffering it, and goes on', async () => {
    const long = 'x'.repeat(250);
    expect(await linesOf(['{"a":1}\n', long.slice(0, 120), long.slice(120) + '\n{"b":2}\n'])).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, unreadable: 'is longer than 100 bytes' },
      { line: 3, text: '{"b":2}' },
    ]);
  });

  it('reports a line that is not UTF-8 instead of decoding it to replacement characters', async () => {
    const bad = Buffer.concat([Buffer.from('{"r":"b'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"a":1}\n')]);
    const out: NdjsonLine[] = [];
    for await (const line of ndjsonLines(Readable.from([bad]), 100)) out.push(line);
    expect(out).toEqual([{ line: 1, unreadable: 'is not valid UTF-8' }, { line: 2, text: '{"a":1}' }]);
  });

  it('keeps multi-byte characters split between chunks intact', async () => {
    const bytes = Buffer.from('{"r":"é€"}\n');
    const out: NdjsonLine[] = [];
    for await (const line of ndjsonLines(Readable.from([bytes.subarray(0, 8), bytes.subarray(8)]), 100)) out.push(line);
    expect(out).toEqual([{ line: 1, text: '{"r":"é€"}' }]);
  });

  it('takes a line of exactly maxLineBytes, refuses one byte more', async () => {
    expect(await linesOf(['x'.repeat(100) + '\n' + 'y'.repeat(101) + '\n' + 'z'.repeat(100)])).toEqual([
      { line: 1, text: 'x'.repeat(100) },
      { line: 2, unreadable: 'is longer than 100 bytes' },
      { line: 3, text: 'z'.repeat(100) },
    ]);
  });

  it('reports an over-long last line that has no newline after it', async () => {
    expect(await linesOf(['{"a":1}\n', 'x'.repeat(150)])).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, unreadable: 'is longer than 100 bytes' },
    ]);
  });
});
