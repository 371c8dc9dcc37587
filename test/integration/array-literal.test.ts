/**
 * arrayLiteral (src/store/array-literal.ts) builds the array literals a write sends instead of
 * letting postgres.js serialize JS arrays: PostgreSQL must read back every element exactly,
 * whatever quotes, backslashes, braces, commas, spaces or the word NULL it holds.
 */
import fc from 'fast-check';
import { arrayLiteral } from '../../src/store/array-literal.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const awkward = fc.constantFrom('', ' ', ' a ', 'NULL', 'null', '"', '\\', '\\"', '"\\', '{', '}', ',', 'a,b', '{1,2}', '{"a":"b\\"c"}', '\t\n', 'é😀');
/** Any ASCII but NUL (which PostgreSQL text cannot hold): control characters included. */
const asciiWithControls = fc.string({ unit: fc.integer({ min: 1, max: 0x7f }).map((code) => String.fromCharCode(code)) });
const element = fc.oneof(
  awkward,
  fc.string(),
  asciiWithControls,
  fc.string({ unit: 'grapheme' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  // JSON values may hold anything, NUL and lone surrogates included: JSON.stringify escapes them.
  fc.dictionary(fc.string(), fc.oneof(fc.string({ unit: 'binary' }), asciiWithControls, fc.double({ noNaN: true, noDefaultInfinity: true }))),
);

/** What PostgreSQL should hold for a value: strings as they are, numbers as JS prints them, the rest as JSON. */
const expectedText = (value: unknown) => (value === null ? null : typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value));

describe('arrayLiteral', () => {
  it('is read back by PostgreSQL element for element', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 20 }), async (values) => {
        // element by element, in SQL: postgres.js would parse a NULL element of a text[] as 'NULL'
        const rows = await db.sql<{ element: string | null }[]>`
          select element from unnest(${arrayLiteral(values)}::text[]) with ordinality as e(element, n) order by n`;
        expect(rows.map((r) => r.element)).toEqual(values.map(expectedText));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps numbers unquoted and casts them as numbers', async () => {
    expect(arrayLiteral([1, -2.5, 1e-7, null])).toBe('{1,-2.5,1e-7,NULL}');
    const [row] = await db.sql<{ numbers: number[] }[]>`select ${arrayLiteral([1, -2.5, 1e-7])}::text[]::float8[] as numbers`;
    expect(row!.numbers).toEqual([1, -2.5, 1e-7]);
  });

  it('writes an absent optional field as NULL', async () => {
    // A write maps each column over its rows, so a field left out of a request arrives as undefined.
    const rows = await db.sql<{ element: string | null }[]>`
      select element from unnest(${arrayLiteral([undefined, 'a', undefined])}::text[]) with ordinality as e(element, n) order by n`;
    expect(rows.map((r) => r.element)).toEqual([null, 'a', null]);
  });
});
