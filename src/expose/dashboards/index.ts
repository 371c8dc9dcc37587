/** Every generated dashboard, and its canonical JSON text (what dashboards/*.json must contain). */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { healthDashboard } from './health.js';
import { qualityDashboard } from './quality.js';

export interface GeneratedDashboard {
  fileName: string;
  dashboard: Dashboard;
}

export function buildDashboards(): GeneratedDashboard[] {
  return [
    { fileName: 'ml-prediction-quality.json', dashboard: qualityDashboard() },
    { fileName: 'mlmon-service-health.json', dashboard: healthDashboard() },
  ];
}

/** Stable text: two-space JSON and a final newline (functions such as cog variant markers drop out). */
export function renderDashboard(dashboard: Dashboard): string {
  return JSON.stringify(dashboard, null, 2) + '\n';
}
