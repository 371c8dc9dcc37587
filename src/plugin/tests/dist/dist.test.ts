/**
 * Checks the built plugin directory (run after `npm run build`): what Grafana loads from it must
 * be there, and module.js must be an AMD module that works with Grafana's own packages.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import Ajv from 'ajv';

import packageJson from '../../package.json';
import schema from '../../schema/plugin.schema.json';

const DIST = path.join(__dirname, '../../dist');

interface BuiltModule {
  plugin: {
    DataSourceClass: new (settings: object) => { query: unknown; testDatasource: unknown };
    components: Record<string, unknown>;
  };
}

/** Runs module.js like Grafana's loader: AMD `define` with the shared packages as dependencies. */
function loadBuiltModule(): { dependencies: string[]; exports: BuiltModule } {
  const code = readFileSync(path.join(DIST, 'module.js'), 'utf8');
  let loaded: { dependencies: string[]; exports: BuiltModule } | undefined;
  const define = (dependencies: string[], factory: (...modules: unknown[]) => BuiltModule) => {
    loaded = { dependencies, exports: factory(...dependencies.map((name) => require(name))) };
  };
  new Function('define', code)(define);
  if (!loaded) {
    throw new Error('module.js did not call define()');
  }
  return loaded;
}

describe('dist/', () => {
  it('holds what Grafana loads as a plugin directory', () => {
    for (const file of ['plugin.json', 'module.js', 'img/logo.svg', 'README.md']) {
      expect(existsSync(path.join(DIST, file)) ? file : `missing ${file}`).toBe(file);
    }
  });

  it('has a plugin.json with the version and date filled in, valid against the schema', () => {
    const pluginJson = JSON.parse(readFileSync(path.join(DIST, 'plugin.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    expect(validate(pluginJson) ? [] : validate.errors).toEqual([]);
    expect(pluginJson.info.version).toBe(packageJson.version);
    expect(pluginJson.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('has an AMD module.js that takes Grafana\'s packages from the host and exports the plugin', () => {
    const { dependencies, exports } = loadBuiltModule();
    expect([...dependencies].sort()).toEqual(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react', 'rxjs']);
    const datasource = new exports.plugin.DataSourceClass({ url: '/api/datasources/proxy/uid/x', jsonData: { url: 'http://mlmon:8080' } });
    expect(typeof datasource.query).toBe('function');
    expect(typeof datasource.testDatasource).toBe('function');
    expect(Object.keys(exports.plugin.components).sort()).toEqual(['ConfigEditor', 'QueryEditor']);
  });
});
