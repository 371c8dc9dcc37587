/** An element that must be escaped inside a quoted array element. */
const NEEDS_ESCAPE = /[\\"]/;

/**
 * A PostgreSQL array literal (`{1,"a b",NULL}`) for a parameter cast in SQL (`$1::text[]::int[]`).
 * Numbers go unquoted, strings quoted (escaped only when they hold `\` or `"`), anything else as
 * JSON text. postgres.js builds the same literal from a JS array, but escapes every element with
 * two regular expressions after a serializer call: for the 12 columns of a 1,000-row write that
 * was about a fifth of the service's CPU (BENCHMARKS.md). Numbers must be finite (validated
 * input): `NaN` would be read as text.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    const value = values[i];
    if (value === null || value === undefined) literal += 'NULL';
    else if (typeof value === 'number') literal += String(value);
    else if (typeof value === 'string') literal += NEEDS_ESCAPE.test(value) ? `"${value.replace(/[\\"]/g, '\\$&')}"` : `"${value}"`;
    // JSON text holds no control characters (JSON.stringify escapes them), so quoting it as a JSON
    // string escapes exactly `\` and `"`, as an array element needs, and faster than a replace.
    else literal += JSON.stringify(JSON.stringify(value));
  }
  return literal + '}';
}
