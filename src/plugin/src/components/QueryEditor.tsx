import React, { useCallback, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { Combobox, ComboboxOption, InlineField, InlineFieldRow, Input, MultiCombobox, RadioButtonGroup, Stack } from '@grafana/ui';

import type { MlmonDataSource } from '../datasource';
import { METRICS } from '../metrics';
import { DEFAULT_ANOMALIES_LIMIT, DEFAULT_PREDICTIONS_LIMIT, DEFAULT_QUERY_TYPE } from '../requests';
import { MetricName, MlmonDataSourceOptions, MlmonQuery, QueryType } from '../types';
import { parseOptionalNumber } from './numbers';

type Props = QueryEditorProps<MlmonDataSource, MlmonQuery, MlmonDataSourceOptions>;

const LABEL_WIDTH = 16;

const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  { value: QueryType.Timeseries, label: 'Time series', description: 'Metrics per interval over the panel range' },
  { value: QueryType.Window, label: 'Window', description: 'Metrics over the whole panel range, one row (stat panels)' },
  { value: QueryType.Daily, label: 'Daily', description: 'Metrics per UTC day' },
  { value: QueryType.Predictions, label: 'Predictions', description: 'The newest predictions in the time range (table)' },
  { value: QueryType.Anomalies, label: 'Anomalies', description: 'Predictions with an error above the threshold (table)' },
  { value: QueryType.Summary, label: 'Summary', description: 'Totals, 24 h and 7 d metrics, feature flag' },
];

const METRIC_OPTIONS: Array<ComboboxOption<MetricName>> = METRICS.map((metric) => ({
  value: metric.name,
  label: metric.displayName,
  description: metric.description,
}));

const TYPES_WITH_METRICS: readonly QueryType[] = [QueryType.Timeseries, QueryType.Window, QueryType.Daily];

/** Dashboard variables first, so `$model_version` is easy to pick, then the versions the service has seen. */
async function modelVersionOptions(datasource: MlmonDataSource, search: string): Promise<Array<ComboboxOption<string>>> {
  const variables = getTemplateSrv()
    .getVariables()
    .map((variable) => ({ value: `$${variable.name}`, description: 'Dashboard variable' }));
  let versions: Array<ComboboxOption<string>> = [];
  try {
    versions = (await datasource.fetchModelVersions()).map((version) => ({ value: version }));
  } catch {
    // The editor stays usable without the service: variables and typed values still work.
  }
  const needle = search.toLowerCase();
  return [...variables, ...versions].filter((option) => option.value.toLowerCase().includes(needle));
}

/** A number input that reports its value when it loses focus, so typing does not run a query per key. */
function NumberField(props: {
  label: string;
  tooltip: string;
  value: number | undefined;
  placeholder: string;
  suffix?: string;
  zeroAllowed?: boolean;
  onCommit: (value: number | undefined) => void;
}) {
  const [text, setText] = useState(props.value?.toString() ?? '');
  return (
    <InlineField label={props.label} labelWidth={LABEL_WIDTH} tooltip={props.tooltip}>
      <Input
        aria-label={props.label}
        type="number"
        min={0}
        width={16}
        placeholder={props.placeholder}
        suffix={props.suffix}
        value={text}
        onChange={(event) => setText(event.currentTarget.value)}
        onBlur={() => props.onCommit(parseOptionalNumber(text, { zeroAllowed: props.zeroAllowed }))}
      />
    </InlineField>
  );
}

export function QueryEditor({ datasource, query, onChange, onRunQuery }: Props) {
  const queryType = query.queryType ?? DEFAULT_QUERY_TYPE;

  const update = (changes: Partial<MlmonQuery>) => {
    onChange({ ...query, ...changes });
    onRunQuery();
  };

  const loadModelVersions = useCallback((search: string) => modelVersionOptions(datasource, search), [datasource]);

  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Query" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<QueryType>
            aria-label="Query type"
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            onChange={(value) => update({ queryType: value })}
          />
        </InlineField>
      </InlineFieldRow>
      {queryType !== QueryType.Summary && (
        <InlineFieldRow>
          <InlineField
            label="Model version"
            labelWidth={LABEL_WIDTH}
            tooltip="Empty (or all, or *) for the whole fleet; a version, a comma-separated list, or a variable such as $model_version"
          >
            <Combobox<string>
              id={`mlmon-model-version-${query.refId}`}
              aria-label="Model version"
              width={32}
              placeholder="All versions (fleet)"
              options={loadModelVersions}
              value={query.modelVersion ?? null}
              createCustomValue
              isClearable
              onChange={(option) => update({ modelVersion: option?.value || undefined })}
            />
          </InlineField>
        </InlineFieldRow>
      )}
      {TYPES_WITH_METRICS.includes(queryType) && (
        <InlineFieldRow>
          <InlineField label="Metrics" labelWidth={LABEL_WIDTH} tooltip="Fields to return; empty returns every metric">
            <MultiCombobox<MetricName>
              id={`mlmon-metrics-${query.refId}`}
              aria-label="Metrics"
              width="auto"
              minWidth={32}
              placeholder="All metrics"
              options={METRIC_OPTIONS}
              value={query.metrics ?? []}
              isClearable
              onChange={(options) => update({ metrics: options.map((option) => option.value) })}
            />
          </InlineField>
        </InlineFieldRow>
      )}
      {queryType === QueryType.Daily && (
        <NumberField
          label="Days"
          tooltip="Number of UTC days ending today; empty covers the panel's time range"
          placeholder="panel range"
          value={query.days}
          onCommit={(days) => update({ days })}
        />
      )}
      {(queryType === QueryType.Predictions || queryType === QueryType.Anomalies) && (
        <InlineFieldRow>
          <NumberField
            label="Limit"
            tooltip="Maximum number of rows, newest first"
            placeholder={String(queryType === QueryType.Predictions ? DEFAULT_PREDICTIONS_LIMIT : DEFAULT_ANOMALIES_LIMIT)}
            value={query.limit}
            onCommit={(limit) => update({ limit })}
          />
          {queryType === QueryType.Anomalies && (
            <NumberField
              label="Threshold"
              tooltip="Lists predictions whose error is above this, in minutes; empty uses the service's configured threshold (5 minutes by default)"
              placeholder="service default"
              suffix="min"
              zeroAllowed
              value={query.threshold}
              onCommit={(threshold) => update({ threshold })}
            />
          )}
        </InlineFieldRow>
      )}
    </Stack>
  );
}
