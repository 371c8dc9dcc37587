import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Sql } from '../../db/connect.js';
import type { Access } from '../../server/auth.js';
import type { ErrorRules } from '../../aggregate/contribution.js';
import type { Exporter } from '../prometheus/exporter.js';

/** Where the monitoring API is mounted (the CLI and the demo call it there). */
export const API_PREFIX = '/api/ml-monitoring';

/** What the API's route plugins are given: their dependencies, explicitly. */
export interface ApiOptions {
  /** Writes (and the flag, read with them). */
  sql: Sql;
  /** Reads of predictions and metrics: their own pool, with a statement timeout. */
  readSql: Sql;
  rules: ErrorRules;
  guards: Record<Access, (request: FastifyRequest, reply: FastifyReply) => Promise<void>>;
  exporter: Exporter;
  version: string;
  /** MLMON_RETENTION_DAYS: predictions older than this are refused (they would be dropped). */
  retentionDays?: number;
}
