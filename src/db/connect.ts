import postgres from 'postgres';

export type Sql = postgres.Sql;

export interface ConnectOptions {
  max?: number;
  /** Seconds to wait for a connection before failing the query (never hang a request). */
  connectTimeout?: number;
  /** PostgreSQL cancels a statement running longer than this (seconds); none by default. */
  statementTimeout?: number;
}

/** Connections of the read pool: reads cannot take the write pool's connections from ingest. */
export const READ_POOL_SIZE = 5;

/** A postgres.js pool with the service's conventions: UTC, quiet notices, bigint as number. */
export function connect(url: string, { max = 10, connectTimeout = 5, statementTimeout }: ConnectOptions = {}): Sql {
  return postgres(url, {
    max,
    connect_timeout: connectTimeout,
    idle_timeout: 60,
    // The driver's default reconnect backoff grows to 20 s, and queries wait for it: while the
    // database is down, answer 503 promptly and reconnect promptly when it is back.
    backoff: () => 0.25,
    onnotice: () => {},
    connection: {
      TimeZone: 'UTC',
      application_name: 'mlmon',
      ...(statementTimeout === undefined ? {} : { statement_timeout: statementTimeout * 1000 }),
    },
    // ids and counts fit in 2^53; JSON clients expect numbers, not strings.
    types: { bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
  });
}
