// Three projects: unit tests; the contract test against the real service (its global setup starts
// PostgreSQL and the service, so that only happens when the contract project runs); and checks of
// the built dist/ folder (npm test builds first).
const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', tsx: true },
      transform: { react: { runtime: 'classic' } },
      target: 'es2020',
    },
    module: { type: 'commonjs' },
  },
];

const shared = {
  rootDir: __dirname,
  // .mjs/.js of ESM-only packages (d3-color, d3-interpolate, ...) must be transformed to CommonJS too.
  transform: { '^.+\\.(t|j)sx?$': swcTransform, '^.+\\.mjs$': swcTransform },
  transformIgnorePatterns: ['/node_modules/(?!(d3-[^/]+|internmap|ol|marked|marked-mangle|react-calendar|get-user-locale|memoize|mimic-function|@wojtekmaj)/)'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'jsx', 'json'],
};

// Grafana's packages expect a browser (window, document) even where no component renders, so both
// projects run in jsdom; the contract suite talks to the service through node:http.
const browserLike = {
  testEnvironment: 'jsdom',
  setupFilesAfterEnv: ['<rootDir>/tests/setup/jsdom.ts'],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': '<rootDir>/tests/setup/style-stub.js',
    '^react-inlinesvg$': '<rootDir>/tests/setup/inline-svg-stub.js',
  },
};

module.exports = {
  projects: [
    {
      ...shared,
      ...browserLike,
      displayName: 'unit',
      roots: ['<rootDir>/src'],
    },
    {
      ...shared,
      ...browserLike,
      displayName: 'contract',
      roots: ['<rootDir>/tests/contract'],
      globalSetup: '<rootDir>/tests/contract/global-setup.mjs',
      globalTeardown: '<rootDir>/tests/contract/global-teardown.mjs',
    },
    {
      ...shared,
      ...browserLike,
      displayName: 'dist',
      roots: ['<rootDir>/tests/dist'],
    },
  ],
};
