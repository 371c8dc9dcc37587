import Ajv, { ValidateFunction } from 'ajv';

import packageJson from '../package.json';
import schema from '../schema/plugin.schema.json';
import pluginJson from './plugin.json';
import { PROXY_ROUTE } from './types';

type PluginJson = typeof pluginJson;

function validator(): ValidateFunction {
  return new Ajv({ allErrors: true, strict: true }).compile(schema);
}

/** A deep copy of plugin.json with one change, to show the schema notices it. */
function variant(change: (copy: PluginJson & Record<string, unknown>) => void): unknown {
  const copy = JSON.parse(JSON.stringify(pluginJson)) as PluginJson & Record<string, unknown>;
  change(copy);
  return copy;
}

describe('plugin.json', () => {
  it('is valid against the project schema', () => {
    const validate = validator();
    expect(validate(pluginJson) ? [] : validate.errors).toEqual([]);
  });

  it('is the mlmon-predictions-datasource data source, with metrics and annotations', () => {
    expect(pluginJson).toMatchObject({ id: 'mlmon-predictions-datasource', type: 'datasource', metrics: true, annotations: true, backend: false });
  });

  it('declares the proxy route the data source uses, GET only, adding the read token as a Bearer header', () => {
    // GET only: whoever may query the data source must not be able to write through it, even
    // with the ingest token configured (Grafana restricts a route's methods only when it names one).
    expect(pluginJson.routes).toEqual([
      {
        path: PROXY_ROUTE,
        method: 'GET',
        url: '{{ .JsonData.url }}',
        headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.readToken }}' }],
      },
    ]);
  });

  it('requires at least the Grafana minor version the plugin is built against', () => {
    const [major, minor] = packageJson.dependencies['@grafana/data'].split('.');
    expect(pluginJson.dependencies.grafanaDependency).toBe(`>=${major}.${minor}.0`);
  });

  it.each<[string, (copy: PluginJson & Record<string, unknown>) => void, string]>([
    ['an id outside the naming convention', (copy) => (copy.id = 'MlmonDatasource'), '/id'],
    ['a data source id without the -datasource suffix', (copy) => (copy.id = 'mlmon-predictions-panel'), '/id'],
    ['an unknown type', (copy) => (copy.type = 'widget'), '/type'],
    ['a route without headers', (copy) => (copy.routes = [{ path: 'mlmon', url: 'x' } as never]), '/routes/0'],
    ['a route path with a leading slash', (copy) => (copy.routes[0]!.path = '/mlmon'), '/routes/0/path'],
    ['a grafanaDependency that is not a lower bound', (copy) => (copy.dependencies.grafanaDependency = '12.x'), '/dependencies/grafanaDependency'],
    ['a missing grafanaDependency', (copy) => delete (copy.dependencies as Partial<PluginJson['dependencies']>).grafanaDependency, '/dependencies'],
    ['a logo outside img/', (copy) => (copy.info.logos.small = 'logo.svg'), '/info/logos/small'],
  ])('the schema rejects %s', (_name, change, path) => {
    const validate = validator();
    expect(validate(variant(change))).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath)).toContain(path);
  });
});
