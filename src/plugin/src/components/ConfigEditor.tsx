import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { InlineField, Input, SecretInput, Stack } from '@grafana/ui';

import { API_BASE_PATH, MlmonDataSourceOptions, MlmonSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<MlmonDataSourceOptions, MlmonSecureJsonData>;

const LABEL_WIDTH = 16;
const INPUT_WIDTH = 48;

/** What is wrong with a service URL as typed, before Save & test has to find out; null when nothing is. */
export function serviceUrlProblem(url: string): string | null {
  if (url === '') return null; // the field is marked required
  if (!/^https?:\/\/[^/\s]+/i.test(url)) return 'Use an http:// or https:// URL, e.g. http://mlmon:8080';
  if (url.replace(/\/$/, '').endsWith(API_BASE_PATH)) return `Leave out ${API_BASE_PATH}: the plugin adds it`;
  return null;
}

/**
 * The service URL (used by the proxy route, as seen from the Grafana server) and the read token,
 * which Grafana stores encrypted and never sends back to the browser.
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const onUrlChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, jsonData: { ...options.jsonData, url: event.target.value.trim() } });
  };

  const onReadTokenChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...options.secureJsonData, readToken: event.target.value } });
  };

  // Resetting must clear both the "configured" flag and any unsaved value, or Grafana keeps the old token.
  const onReadTokenReset = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, readToken: false },
      secureJsonData: { ...options.secureJsonData, readToken: '' },
    });
  };

  const urlProblem = serviceUrlProblem(options.jsonData.url ?? '');

  return (
    <Stack direction="column" gap={1}>
      <InlineField
        label="URL"
        labelWidth={LABEL_WIDTH}
        tooltip="Base URL of the mlmon service as reached from the Grafana server, without /api/ml-monitoring"
        required
        invalid={urlProblem !== null}
        error={urlProblem}
      >
        <Input
          id="mlmon-config-url"
          aria-label="Service URL"
          width={INPUT_WIDTH}
          placeholder="http://mlmon:8080"
          value={options.jsonData.url ?? ''}
          onChange={onUrlChange}
        />
      </InlineField>
      <InlineField
        label="Read token"
        labelWidth={LABEL_WIDTH}
        tooltip="The service's MLMON_READ_TOKEN. Grafana's proxy sends it as a Bearer token; browsers never see it."
        required
      >
        <SecretInput
          id="mlmon-config-read-token"
          aria-label="Read token"
          width={INPUT_WIDTH}
          placeholder="MLMON_READ_TOKEN"
          isConfigured={Boolean(options.secureJsonFields?.readToken)}
          value={options.secureJsonData?.readToken ?? ''}
          onChange={onReadTokenChange}
          onReset={onReadTokenReset}
        />
      </InlineField>
    </Stack>
  );
}
