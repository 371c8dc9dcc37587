/**
 * PostgreSQL's COPY text format: one line per row, tab-separated, \N for NULL, and backslash,
 * tab, newline and carriage return escaped inside values. JSON values are written as their text.
 */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  else if (typeof value === 'boolean') return value ? 't' : 'f';
  else if (value instanceof Date) return value.toISOString();
  else text = JSON.stringify(value);
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Yields COPY text lines in chunks, so a large input never becomes one huge string. */
export function* copyLines<T extends Record<string, unknown>>(rows: Iterable<T>, columns: readonly (keyof T)[], linesPerChunk = 500): Generator<string> {
  let chunk = '';
  let count = 0;
  for (const row of rows) {
    chunk += columns.map((column) => copyValue(row[column])).join('\t') + '\n';
    if (++count === linesPerChunk) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk) yield chunk;
}
