// Two projects: fast unit tests in jsdom, and the contract test in node against the real service
// (its global setup starts PostgreSQL and the service, so it only runs when that project does).
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

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testEnvironment: 'jsdom',
      roots: ['<rootDir>/src'],
      setupFilesAfterEnv: ['<rootDir>/tests/setup/jsdom.ts'],
      moduleNameMapper: {
        '\\.(css|scss|sass)$': '<rootDir>/tests/setup/style-stub.js',
        '^react-inlinesvg$': '<rootDir>/tests/setup/inline-svg-stub.js',
      },
    },
    {
      ...shared,
      displayName: 'contract',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests/contract'],
      globalSetup: '<rootDir>/tests/contract/global-setup.mjs',
      globalTeardown: '<rootDir>/tests/contract/global-teardown.mjs',
    },
  ],
};
