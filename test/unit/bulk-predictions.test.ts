import { Readable } from 'node:stream';
import { checkedBulkLine, type BulkLine } from '../../src/validate/bulk-predictions.js';
import { ndjsonLines } from '../../src/validate/ndjson.js';

/** The lines of `text` as the bulk route checks them. */
async function checked(text: string, retentionDays?: number): Promise<BulkLine[]> {
  const out: BulkLine[] = [];
  for await (const entry of ndjsonLines(Readable.from([Buffer.from(text)]), 200)) out.push(checkedBulkLine(entry, retentionDays));
  return out;
}

const valid = { booking_id: 1, predicted_delay_minutes: 4.5, confidence: 0.8, risk_level: 'low' };

describe('checkedBulkLine (src/validate/bulk-predictions.ts)', () => {
  it('yields each non-blank line as a prediction or its problems, numbered as in the file', async () => {
    const lines = [
      JSON.stringify(valid),
      '',
      '{"booking_id": 2,',
      JSON.stringify({ ...valid, confidence: 2, extra: true }),
      '{"__proto__": {"x": 1}}',
      'x'.repeat(300),
      JSON.stringify({ ...valid, created_at: '2999-01-01T00:00:00Z' }),
    ];
    const result = await checked(lines.join('\n'));
    expect(result.map((entry) => [entry.line, 'prediction' in entry ? 'stored' : entry.problems.map((p) => p.field).join(',')])).toEqual([
      [1, 'stored'],
      [3, '(line)'],
      [4, 'extra,confidence'],
      [5, '__proto__,constructor'],
      [6, '(line)'],
      [7, 'created_at'],
    ]);
    expect(result[0]).toEqual({ line: 1, prediction: valid });
  });

  it('refuses a created_at before the retention window', async () => {
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const [kept] = await checked(JSON.stringify({ ...valid, created_at: old }));
    const [refused] = await checked(JSON.stringify({ ...valid, created_at: old }), 30);
    expect('prediction' in kept!).toBe(true);
    expect(refused).toMatchObject({ line: 1, problems: [{ field: 'created_at' }] });
  });
});
