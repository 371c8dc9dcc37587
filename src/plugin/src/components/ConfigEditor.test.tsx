import React, { useState } from 'react';
import { DataSourceSettings } from '@grafana/data';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { MlmonDataSourceOptions, MlmonSecureJsonData } from '../types';
import { ConfigEditor, serviceUrlProblem } from './ConfigEditor';

type Settings = DataSourceSettings<MlmonDataSourceOptions, MlmonSecureJsonData>;

function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'mlmon',
    orgId: 1,
    name: 'mlmon',
    type: 'mlmon-predictions-datasource',
    typeName: 'mlmon predictions',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...overrides,
  };
}

/** Holds the settings like Grafana's settings page does, so inputs behave as controlled inputs there. */
function renderEditor(initial: Settings) {
  const changes: Settings[] = [];
  function Harness() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(next) => {
          changes.push(next);
          setOptions(next);
        }}
      />
    );
  }
  render(<Harness />);
  return { lastChange: () => changes[changes.length - 1] };
}

describe('ConfigEditor', () => {
  it('shows the saved URL and stores edits in jsonData.url, trimmed', async () => {
    const { lastChange } = renderEditor(settings({ jsonData: { url: 'http://old:8080' } }));
    const url = screen.getByLabelText('Service URL');
    expect(url).toHaveValue('http://old:8080');
    await userEvent.clear(url);
    await userEvent.type(url, 'http://mlmon:8080 ');
    expect(lastChange()?.jsonData).toEqual({ url: 'http://mlmon:8080' });
    expect(lastChange()?.url).toBe('');
  });

  it('says what is wrong with a URL as it is typed', async () => {
    expect(serviceUrlProblem('')).toBeNull();
    expect(serviceUrlProblem('http://mlmon:8080')).toBeNull();
    expect(serviceUrlProblem('https://mlmon.example.org/base')).toBeNull();
    expect(serviceUrlProblem('mlmon:8080')).toBe('Use an http:// or https:// URL, e.g. http://mlmon:8080');
    expect(serviceUrlProblem('http://mlmon:8080/api/ml-monitoring/')).toBe('Leave out /api/ml-monitoring: the plugin adds it');
    renderEditor(settings({ jsonData: { url: 'http://mlmon:8080/api/ml-monitoring' } }));
    expect(screen.getByText('Leave out /api/ml-monitoring: the plugin adds it')).toBeInTheDocument();
  });

  it('stores a new read token in secureJsonData only', async () => {
    const { lastChange } = renderEditor(settings());
    await userEvent.type(screen.getByLabelText('Read token'), 'r3ad-t0ken');
    expect(lastChange()?.secureJsonData).toEqual({ readToken: 'r3ad-t0ken' });
    expect(lastChange()?.jsonData).toEqual({});
  });

  it('shows a saved token as configured, and reset clears it', async () => {
    const { lastChange } = renderEditor(settings({ secureJsonFields: { readToken: true } }));
    expect(screen.getByDisplayValue('configured')).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(lastChange()?.secureJsonFields).toEqual({ readToken: false });
    expect(lastChange()?.secureJsonData).toEqual({ readToken: '' });
    expect(screen.getByLabelText('Read token')).toBeEnabled();
  });
});
