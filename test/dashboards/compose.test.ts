/** Static checks of docker-compose.yml (no Docker engine on these machines) and the provisioning it mounts. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DATASOURCE_UIDS } from '../../src/expose/datasource-uids.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const compose: any = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
const services: Record<string, any> = compose.services;
/** Build output mounted by compose; not committed (dist/ is ignored), built by `npm run build` in src/plugin. */
const BUILT = new Set(['./src/plugin/dist']);

describe('docker-compose.yml', () => {
  test('has the issue-5 services, each with a healthcheck and a pinned image', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'demo', 'grafana', 'mlmon', 'postgres', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      expect([name, Array.isArray(s.healthcheck?.test)]).toEqual([name, true]);
      expect([name, typeof s.image === 'string' && !/:latest$/.test(s.image) && s.image.includes(':')]).toEqual([name, true]);
    }
    expect(services.demo.profiles).toEqual(['demo']);
    expect(services.mlmon.build).toBe('.');
  });

  test('the services built from this repository run node itself, so that docker stop\'s SIGTERM reaches their handlers', () => {
    const dockerfileCmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    const ours = Object.entries(services).filter(([, s]) => s.build === '.');
    expect(ours.map(([name]) => name).sort()).toEqual(['demo', 'mlmon']);
    for (const [name, s] of ours) {
      const command: string[] = s.command ?? JSON.parse(dockerfileCmd![1]!);
      expect([name, command[0]]).toEqual([name, 'node']);
      // the script is the build output of a source in src/
      expect([name, existsSync(path.join(ROOT, command[1]!.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')))]).toEqual([name, true]);
    }
  });

  test('Grafana matches the plugin grafanaDependency and loads it unsigned', () => {
    const plugin = JSON.parse(readFileSync(path.join(ROOT, 'src/plugin/src/plugin.json'), 'utf8'));
    const min = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(plugin.dependencies.grafanaDependency);
    const tag = /^grafana\/grafana:(\d+)\.(\d+)\.(\d+)$/.exec(services.grafana.image);
    expect(min && tag).toBeTruthy();
    const num = (m: RegExpExecArray) => Number(m[1]) * 1e6 + Number(m[2]) * 1e3 + Number(m[3]);
    expect(num(tag!)).toBeGreaterThanOrEqual(num(min!));
    expect(services.grafana.environment.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe(plugin.id);
    expect(services.grafana.volumes).toContain(`./src/plugin/dist:/var/lib/grafana/plugins/${plugin.id}:ro`);
  });

  test('every bind-mounted path exists', () => {
    const missing = Object.values(services)
      .flatMap((s) => (s.volumes ?? []) as string[])
      .map((v) => v.split(':')[0]!)
      .filter((source) => source.startsWith('.') && !BUILT.has(source) && !existsSync(path.join(ROOT, source)));
    expect(missing).toEqual([]);
  });

  test('secrets come from the environment and are required, never committed', () => {
    const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const v of ['POSTGRES_PASSWORD', 'MLMON_INGEST_TOKEN', 'MLMON_READ_TOKEN', 'GRAFANA_ADMIN_PASSWORD']) expect(text).toMatch(new RegExp(`\\$\\{${v}:\\?`));
    const ds = readFileSync(path.join(ROOT, 'provisioning/datasources/datasources.yml'), 'utf8');
    expect(ds).toContain('readToken: ${MLMON_READ_TOKEN}');
    const uids = (parse(ds).datasources as any[]).map((d) => d.uid).sort();
    // The uids the dashboards and Grafana-managed rules refer to, plus the Alertmanager's.
    expect(uids).toEqual(['mlmon-alertmanager', ...Object.values(DATASOURCE_UIDS)].sort());
  });

  test('the monitoring side starts while the service is down: only the demo waits for mlmon', () => {
    // Prometheus must scrape a dead mlmon for MLServiceDown / MLDatabaseDown to fire at all.
    const waitingForMlmon = Object.entries(services).filter(([, s]) => s.depends_on?.mlmon !== undefined).map(([name]) => name);
    expect(waitingForMlmon).toEqual(['demo']);
  });

  test('Prometheus and Alertmanager, which have no authentication, are published on loopback only', () => {
    for (const name of ['prometheus', 'alertmanager']) {
      const ports = services[name].ports as string[];
      expect([name, ports.every((p) => p.startsWith('127.0.0.1:'))]).toEqual([name, true]);
    }
  });

  test('the documented secret files are outside the read-only mounts (Docker cannot create a mount point inside one)', () => {
    const readOnlyTargets = (service: string) =>
      (services[service].volumes as string[]).filter((v) => v.endsWith(':ro')).map((v) => v.split(':')[1]!);
    const secretPaths = (file: string) => [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/_file: (\/\S+)/g)].map((m) => m[1]!);
    const checked = [
      { service: 'alertmanager', paths: secretPaths('provisioning/alertmanager/receivers.example.yml') },
      { service: 'prometheus', paths: secretPaths('provisioning/prometheus/prometheus.yml') },
    ];
    for (const { service, paths } of checked) {
      expect([service, paths.length > 0]).toEqual([service, true]);
      const inside = paths.filter((p) => readOnlyTargets(service).some((target) => p.startsWith(target + '/')));
      expect([service, inside]).toEqual([service, []]);
    }
  });

  test('the dashboard provider reads the folder compose mounts dashboards/ at', () => {
    const provider = parse(readFileSync(path.join(ROOT, 'provisioning/dashboards/dashboards.yml'), 'utf8')).providers[0];
    expect(services.grafana.volumes).toContain(`./dashboards:${provider.options.path}:ro`);
  });

  test('the dashboards and the Grafana-managed rules land in one folder, both found by its title', () => {
    // Alert rule file provisioning names a folder by title only, and creates it with a random uid
    // when missing. A dashboard provider with a folderUid looks its folder up by that uid instead,
    // so after the rules made "mlmon" it creates a second folder of the same title (grafana/grafana#125079).
    const provider = parse(readFileSync(path.join(ROOT, 'provisioning/dashboards/dashboards.yml'), 'utf8')).providers[0];
    const rules = parse(readFileSync(path.join(ROOT, 'provisioning/alerting/mlmon-alert-rules.yml'), 'utf8'));
    const ruleFolders = [...new Set((rules.groups as Array<{ folder: string }>).map((group) => group.folder))];
    expect(ruleFolders).toEqual([provider.folder]);
    expect(provider).not.toHaveProperty('folderUid');
  });
});
