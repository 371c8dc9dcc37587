/**
 * The PostgreSQL the bench runs on: the service's embedded PostgreSQL (startEmbeddedPostgres from
 * dist/db/embedded.js) in a temporary folder, or an existing cluster given by its superuser URL.
 * Each phase gets its own database, created here, migrated by the service's migrate(), dropped at
 * the end.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { ServiceModules } from './service.js';

export interface BenchDatabase {
  name: string;
  url: string;
  sql: postgres.Sql;
}

export interface Cluster {
  adminUrl: string;
  embedded: boolean;
  serverVersion: string;
  settings: Record<string, string>;
  createDatabase(label: string): Promise<BenchDatabase>;
  dropDatabase(db: BenchDatabase): Promise<void>;
  stop(): Promise<void>;
}

const REPORTED_SETTINGS = ['shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'work_mem', 'max_connections'];

export async function openCluster(modules: ServiceModules, options: { adminUrl?: string; log: (line: string) => void }): Promise<Cluster> {
  let adminUrl = options.adminUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'mlmon-bench-pg-'));
    await chmod(dataDir, 0o755); // as root, PostgreSQL runs as the "postgres" OS user
    options.log(`starting embedded PostgreSQL in ${dataDir}`);
    const folder = dataDir;
    const embedded = await modules.embedded.startEmbeddedPostgres({ dataDir: folder }).catch(async (error: unknown) => {
      await rm(folder, { recursive: true, force: true });
      throw error;
    });
    adminUrl = embedded.url;
    stopEmbedded = () => embedded.stop();
  }
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const created = new Set<string>();
  try {
    const [version] = await admin<{ server_version: string }[]>`show server_version`;
    const rows = await admin<{ name: string; setting: string; unit: string | null }[]>`
      select name, setting, unit from pg_settings where name = any(${REPORTED_SETTINGS})`;
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
    const cluster: Cluster = {
      adminUrl,
      embedded: stopEmbedded !== undefined,
      serverVersion: version?.server_version ?? 'unknown',
      settings,
      async createDatabase(label) {
        const name = `mlmon_bench_${label}_${randomBytes(4).toString('hex')}`;
        await admin.unsafe(`create database ${name}`);
        created.add(name);
        const url = new URL(adminUrl!);
        url.pathname = `/${name}`;
        await modules.migrate.migrate(url.toString());
        // Not the service's application_name: pg_stat_activity samples must tell the two apart.
        const sql = postgres(url.toString(), {
          max: 10,
          onnotice: () => {},
          connection: { TimeZone: 'UTC', application_name: 'mlmon-bench' },
        });
        return { name, url: url.toString(), sql };
      },
      async dropDatabase(db) {
        await db.sql.end({ timeout: 5 });
        await admin.unsafe(`drop database if exists ${db.name} with (force)`);
        created.delete(db.name);
      },
      async stop() {
        for (const name of created) await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
        await admin.end({ timeout: 5 });
        if (stopEmbedded) await stopEmbedded();
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
    return cluster;
  } catch (error) {
    await admin.end({ timeout: 5 });
    if (stopEmbedded) await stopEmbedded();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
