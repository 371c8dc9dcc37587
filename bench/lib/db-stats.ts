import type postgres from 'postgres';

/** Rows in ml_prediction and the transaction id counter, read together. */
export interface TableState {
  rows: number;
  xid: number;
}

/**
 * Every writing transaction takes one transaction id, so the difference of the counter between
 * two readings is the number of write transactions in between (this reading takes one itself).
 */
export async function tableState(sql: postgres.Sql): Promise<TableState> {
  const [row] = await sql<{ rows: number; xid: string }[]>`
    select (select count(*)::int from ml_prediction) as rows, pg_current_xact_id()::text as xid`;
  return { rows: row!.rows, xid: Number(row!.xid) };
}

export interface WriteStats {
  rows: number;
  transactions: number;
  rowsPerTransaction: number;
}

export function writesBetween(before: TableState, after: TableState): WriteStats {
  const transactions = Math.max(0, after.xid - before.xid - 1);
  const rows = after.rows - before.rows;
  return { rows, transactions, rowsPerTransaction: transactions > 0 ? rows / transactions : Number.NaN };
}
