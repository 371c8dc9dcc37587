import React from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { fakeTemplateSrv } from '../../tests/support/grafana';
import type { MlmonDataSource } from '../datasource';
import { MlmonQuery, QueryType } from '../types';
import { QueryEditor } from './QueryEditor';

const mockTemplateSrv = fakeTemplateSrv([{ name: 'model_version', current: 'v1', options: ['v1'] }]);

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => mockTemplateSrv,
}));

function renderEditor(query: MlmonQuery, fetchModelVersions = jest.fn().mockResolvedValue(['v1', 'v2'])) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const datasource = { fetchModelVersions } as unknown as MlmonDataSource;
  render(<QueryEditor datasource={datasource} query={query} onChange={onChange} onRunQuery={onRunQuery} />);
  return { onChange, onRunQuery, fetchModelVersions };
}

describe('QueryEditor', () => {
  it('switches the query type and runs the query', async () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A' });
    expect(screen.getByRole('radio', { name: 'Time series' })).toBeChecked();
    await userEvent.click(screen.getByRole('radio', { name: 'Daily' }));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: QueryType.Daily });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('shows only the fields that apply to each query type', () => {
    const labels = (queryType: QueryType) => {
      const { unmount } = render(<QueryEditor datasource={{} as MlmonDataSource} query={{ refId: 'A', queryType }} onChange={jest.fn()} onRunQuery={jest.fn()} />);
      const shown = ['Model version', 'Metrics', 'Days', 'Limit', 'Threshold'].filter((label) => screen.queryByLabelText(label));
      unmount();
      return shown;
    };
    expect(labels(QueryType.Timeseries)).toEqual(['Model version', 'Metrics']);
    expect(labels(QueryType.Window)).toEqual(['Model version', 'Metrics']);
    expect(labels(QueryType.Daily)).toEqual(['Model version', 'Metrics', 'Days']);
    expect(labels(QueryType.Predictions)).toEqual(['Model version', 'Limit']);
    expect(labels(QueryType.Anomalies)).toEqual(['Model version', 'Limit', 'Threshold']);
    expect(labels(QueryType.Summary)).toEqual([]);
  });

  it('offers dashboard variables and the service\'s versions for the model version', async () => {
    const { onChange, onRunQuery, fetchModelVersions } = renderEditor({ refId: 'A', queryType: QueryType.Window });
    await userEvent.click(screen.getByLabelText('Model version'));
    expect(await screen.findByRole('option', { name: /\$model_version/ })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: 'v2' })).toBeInTheDocument();
    expect(fetchModelVersions).toHaveBeenCalled();
    await userEvent.click(screen.getByRole('option', { name: 'v2' }));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: QueryType.Window, modelVersion: 'v2' });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('still offers variables when the service cannot list versions', async () => {
    renderEditor({ refId: 'A' }, jest.fn().mockRejectedValue(new Error('unreachable')));
    await userEvent.click(screen.getByLabelText('Model version'));
    expect(await screen.findByRole('option', { name: /\$model_version/ })).toBeInTheDocument();
    expect(screen.queryByRole('option', { name: 'v1' })).not.toBeInTheDocument();
  });

  it('accepts a typed list of versions', async () => {
    const { onChange } = renderEditor({ refId: 'A' });
    await userEvent.type(screen.getByLabelText('Model version'), 'v1,v3');
    await waitFor(() => expect(screen.getByRole('option', { name: /v1,v3/ })).toBeInTheDocument());
    await userEvent.keyboard('{Enter}');
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', modelVersion: 'v1,v3' });
  });

  it('selects metrics', async () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: QueryType.Timeseries, metrics: ['mae'] });
    await userEvent.click(screen.getByLabelText('Metrics'));
    await userEvent.click(await screen.findByRole('option', { name: /R²/ }));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: QueryType.Timeseries, metrics: ['mae', 'r2'] });
  });

  it('commits numbers when a field loses focus, and empties to the default', async () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A', queryType: QueryType.Anomalies, limit: 50 });
    await userEvent.type(screen.getByLabelText('Threshold'), '7.5');
    expect(onChange).not.toHaveBeenCalled();
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: QueryType.Anomalies, limit: 50, threshold: 7.5 });
    await userEvent.clear(screen.getByLabelText('Limit'));
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: QueryType.Anomalies, limit: undefined });
    expect(onRunQuery).toHaveBeenCalledTimes(2);
  });

  it('accepts a threshold of 0 (every error), but not 0 days', async () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: QueryType.Anomalies });
    await userEvent.type(screen.getByLabelText('Threshold'), '0');
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: QueryType.Anomalies, threshold: 0 });
    const daily = renderEditor({ refId: 'B', queryType: QueryType.Daily });
    await userEvent.type(screen.getByLabelText('Days'), '0');
    await userEvent.tab();
    expect(daily.onChange).toHaveBeenLastCalledWith({ refId: 'B', queryType: QueryType.Daily, days: undefined });
  });

  it('sets the number of days of a daily query', async () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: QueryType.Daily });
    await userEvent.type(screen.getByLabelText('Days'), '30');
    await userEvent.tab();
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: QueryType.Daily, days: 30 });
  });
});
