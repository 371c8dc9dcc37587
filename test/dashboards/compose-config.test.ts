/**
 * `docker-compose config` (Debian's docker-compose 1.29) interpolates and validates the compose file
 * without a Docker engine: the closest this machine can get to `docker compose up`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describeWhenInstalled } from '../support/required-tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const available = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const INSTALL_HINT = 'Install it with: sudo apt-get install -y docker-compose (Debian/Ubuntu); without it the compose file is not validated.';

function config(env: Record<string, string>) {
  return spawnSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    // Only PATH from the outside: a developer's own .env values must not decide the outcome.
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

const SECRETS = {
  MLMON_INGEST_TOKEN: 'ingest-token-0123456789',
  MLMON_READ_TOKEN: 'read-token-0123456789ab',
  POSTGRES_PASSWORD: 'postgres-password-123',
  GRAFANA_ADMIN_PASSWORD: 'grafana-password-123',
};

describeWhenInstalled('docker-compose config', available ? [] : ['docker-compose'], INSTALL_HINT, () => {
  it('renders the stack with the secrets set, each service with its healthcheck', () => {
    const result = config(SECRETS);
    expect({ status: result.status, stderr: result.stderr.trim() }).toEqual({ status: 0, stderr: '' });
    const rendered = parse(result.stdout) as { services: Record<string, { healthcheck?: { test?: unknown } }> };
    for (const service of ['postgres', 'mlmon', 'prometheus', 'alertmanager', 'grafana']) {
      expect({ service, healthcheck: Boolean(rendered.services[service]?.healthcheck?.test) }).toEqual({ service, healthcheck: true });
    }
    expect(result.stdout).toContain(SECRETS.MLMON_READ_TOKEN);
  });

  it.each(Object.keys(SECRETS))('refuses to render without %s (no secret has a default)', (name) => {
    const env: Record<string, string> = { ...SECRETS };
    delete env[name];
    const result = config(env);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(name);
  });
});
