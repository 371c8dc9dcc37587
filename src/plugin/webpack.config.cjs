// Plain CommonJS on purpose: a TypeScript webpack config would need ts-node, which trips over
// Node 20's ESM loader. Follows the create-plugin conventions: one AMD module, Grafana's shared
// packages left to the host.
const path = require('node:path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const { version } = require('./package.json');
const { id: pluginId } = require('./src/plugin.json');

const SOURCE_DIR = path.join(__dirname, 'src');
const OUTPUT_DIR = path.join(__dirname, 'dist');

/** Modules Grafana provides to plugins at run time (through SystemJS); bundling them would duplicate state. */
const SHARED_BY_GRAFANA = ['react', 'react-dom', 'rxjs', 'lodash', '@emotion/css', '@emotion/react'];

/** Fills the placeholders create-plugin uses in plugin.json. */
function renderPluginJson(content) {
  const today = new Date().toISOString().slice(0, 10);
  return content.toString().replaceAll('%VERSION%', version).replaceAll('%TODAY%', today);
}

module.exports = (_env, argv) => {
  const production = argv.mode !== 'development';
  return {
    mode: production ? 'production' : 'development',
    context: SOURCE_DIR,
    entry: { module: './module.ts' },
    devtool: production ? 'source-map' : 'eval-source-map',
    output: {
      path: OUTPUT_DIR,
      filename: '[name].js',
      library: { type: 'amd' },
      // Chunks (if any) load from where Grafana serves the plugin's files.
      publicPath: `public/plugins/${pluginId}/`,
      uniqueName: pluginId,
      clean: true,
    },
    externals: [
      ...SHARED_BY_GRAFANA,
      ({ request }, callback) => (/^@grafana\//.test(request) ? callback(undefined, request) : callback()),
    ],
    resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
    module: {
      rules: [
        {
          test: /\.[jt]sx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                parser: { syntax: 'typescript', tsx: true },
                // The classic runtime only needs `react` (shared by Grafana 12 and 13) and not
                // `react/jsx-runtime`, which would otherwise be bundled in its React 18 version.
                transform: { react: { runtime: 'classic' } },
                target: 'es2020',
              },
            },
          },
        },
      ],
    },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: 'plugin.json', to: '.', transform: renderPluginJson },
          { from: 'img', to: 'img' },
          { from: '../README.md', to: '.' },
        ],
      }),
    ],
    performance: { hints: false },
  };
};
