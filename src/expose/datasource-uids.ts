/**
 * The uids provisioning/datasources/datasources.yml gives Grafana's data sources: the generated
 * dashboards and Grafana-managed alert rules refer to them (test/dashboards checks the file).
 */
export const DATASOURCE_UIDS = {
  prometheus: 'mlmon-prometheus',
  mlmonApi: 'mlmon-api',
} as const;
