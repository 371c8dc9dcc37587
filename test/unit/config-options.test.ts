import { ConfigError, loadConfig } from '../../src/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('operational settings', () => {
  it('defaults: no retention, no request log, no CORS', () => {
    expect(loadConfig({})).toMatchObject({ retentionDays: undefined, logRequests: false, corsOrigins: [] });
  });

  it('reads them', () => {
    expect(
      loadConfig({ MLMON_RETENTION_DAYS: '183', MLMON_LOG_REQUESTS: 'true', MLMON_CORS_ORIGINS: 'https://grafana.example.com, http://localhost:3000' }),
    ).toMatchObject({ retentionDays: 183, logRequests: true, corsOrigins: ['https://grafana.example.com', 'http://localhost:3000'] });
  });

  // Written by hand in deployment manifests, where YAML habits (yes/no, True) are common.
  it.each([
    ['true', true], ['TRUE', true], ['1', true], ['yes', true], ['Yes', true],
    ['false', false], ['False', false], ['0', false], ['no', false], ['NO', false],
  ])('MLMON_LOG_REQUESTS=%s reads as %s', (value, expected) => {
    expect(loadConfig({ MLMON_LOG_REQUESTS: value }).logRequests).toBe(expected);
  });

  it('the smallest retention, one day, is accepted', () => {
    expect(loadConfig({ MLMON_RETENTION_DAYS: '1' }).retentionDays).toBe(1);
  });

  it.each([
    ['MLMON_RETENTION_DAYS', '0'],
    ['MLMON_RETENTION_DAYS', '1.5'],
    ['MLMON_RETENTION_DAYS', 'forever'],
    ['MLMON_LOG_REQUESTS', 'maybe'],
    ['MLMON_CORS_ORIGINS', 'https://grafana.example.com/d/abc'],
    ['MLMON_CORS_ORIGINS', '*'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });
});
