import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

/** A bulk load's answer lists this many line problems at most (the API contract; import-flask relies on it). */
export const MAX_LISTED_LINE_PROBLEMS = 1000;

/** A line's text, or why it cannot be read (said of the line: "is longer than …"). */
export type NdjsonLine = { line: number; text: string } | { line: number; unreadable: string };

/**
 * Splits a byte stream into lines, skipping blank ones, without ever holding more than one line (at most
 * `maxLineBytes`) plus one chunk in memory. A longer line is reported and skipped, not buffered;
 * so is one that is not UTF-8 (decoding would store replacement characters in its place).
 */
export async function* ndjsonLines(stream: Readable, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  let line = 0;
  const finish = function* (): Generator<NdjsonLine> {
    line++;
    if (skipping) yield { line, unreadable: `is longer than ${maxLineBytes} bytes` };
    else if (size > 0) {
      const bytes = Buffer.concat(parts);
      if (!isUtf8(bytes)) yield { line, unreadable: 'is not valid UTF-8' };
      else {
        const text = bytes.toString('utf8').replace(/\r$/, '');
        if (text.trim() !== '') yield { line, text }; // a line of spaces is as blank as an empty one
      }
    }
    parts = [];
    size = 0;
    skipping = false;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      append(chunk.subarray(start, newline));
      yield* finish();
      start = newline + 1;
    }
    append(chunk.subarray(start));
  }
  if (size > 0 || skipping) yield* finish();

  function append(piece: Buffer): void {
    if (skipping || piece.length === 0) return;
    if (size + piece.length > maxLineBytes) {
      skipping = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  }
}
