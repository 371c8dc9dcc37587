/**
 * The service needs no superuser: a role that only owns its database migrates it, writes, reads,
 * labels and applies retention (deployments should connect as such a role, not as the superuser
 * the postgres image creates). The test cluster's superuser only creates the role and the database.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { buildApp } from '../../src/app.js';
import { connect } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { applyRetention } from '../../src/store/partitions.js';

const suffix = randomBytes(4).toString('hex');
const ROLE = `mlmon_owner_${suffix}`;
const DATABASE = `mlmon_owned_${suffix}`;
const PASSWORD = randomBytes(12).toString('hex');
const TOKENS = { ingest: 'i'.repeat(24), read: 'r'.repeat(24), metrics: undefined };

describe('a database owned by a role without superuser rights', () => {
  const adminUrl = process.env.MLMON_TEST_DATABASE_URL!;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  let ownerUrl: string;

  beforeAll(async () => {
    await admin.unsafe(`create role ${ROLE} login password '${PASSWORD}' nosuperuser nocreatedb nocreaterole`);
    await admin.unsafe(`create database ${DATABASE} owner ${ROLE}`);
    const url = new URL(adminUrl);
    url.username = ROLE;
    url.password = PASSWORD;
    url.pathname = `/${DATABASE}`;
    ownerUrl = url.toString();
  });
  afterAll(async () => {
    await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
    await admin.unsafe(`drop role if exists ${ROLE}`);
    await admin.end({ timeout: 5 });
  });

  it('is enough to migrate, write, label, read and apply retention', async () => {
    const [role] = await admin<{ rolsuper: boolean }[]>`select rolsuper from pg_roles where rolname = ${ROLE}`;
    expect(role?.rolsuper).toBe(false);
    await migrate(ownerUrl);
    const sql = connect(ownerUrl);
    const app = await buildApp({ sql, tokens: TOKENS, rules: { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 }, metricsCacheSeconds: 0, version: 'test' });
    try {
      // Over a real socket: app.inject cannot load under Jest's ESM mode.
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const send = async (method: string, url: string, token: string, payload?: unknown) => {
        const response = await fetch(`${base}${url}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        });
        const body = (await response.json()) as Record<string, unknown>;
        return { statusCode: response.status, json: () => body };
      };
      const stored = await send('POST', '/api/ml-monitoring/predictions', TOKENS.ingest, [
        { booking_id: 1, predicted_delay_minutes: 3, confidence: 0.5, risk_level: 'low', request_id: 'a' },
        { booking_id: 2, predicted_delay_minutes: 9, confidence: 0.5, risk_level: 'high', created_at: new Date(Date.now() - 400 * 86_400_000).toISOString() },
      ]);
      expect([stored.statusCode, stored.json()]).toEqual([201, { accepted: 2, duplicates: 0 }]);
      expect((await send('POST', '/api/ml-monitoring/actuals', TOKENS.ingest, { booking_id: 1, actual_delay_minutes: 4 })).statusCode).toBe(200);
      const summary = (await send('GET', '/api/ml-monitoring/summary', TOKENS.read)).json();
      expect(summary).toMatchObject({ total_predictions: 2, metrics_24h: { count: 1, mae: 1 } });
      // retention drops the old month's partition (and forgets its request ids) as this role
      const retention = await applyRetention(sql, 183);
      expect(retention.droppedPartitions.length).toBeGreaterThan(0);
      const listed = (await send('GET', '/api/ml-monitoring/predictions?limit=10', TOKENS.read)).json() as unknown as { booking_id: number }[];
      expect(listed.map((p) => p.booking_id)).toEqual([1]);
    } finally {
      await app.close();
      await sql.end({ timeout: 5 });
    }
  });
});
