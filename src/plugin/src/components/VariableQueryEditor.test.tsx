import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import type { MlmonDataSource } from '../datasource';
import { VariableQueryEditor } from './VariableQueryEditor';

const datasource = {} as MlmonDataSource;

describe('VariableQueryEditor', () => {
  it('stores the look-back hours when the input loses focus', async () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={datasource} query={{ refId: 'variable' }} onChange={onChange} onRunQuery={jest.fn()} />);
    await userEvent.type(screen.getByLabelText('Look-back hours'), '24');
    expect(onChange).not.toHaveBeenCalled();
    await userEvent.tab();
    expect(onChange).toHaveBeenCalledWith({ refId: 'variable', hours: 24 });
  });

  it('clears the hours back to the service default', async () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={datasource} query={{ refId: 'variable', hours: 72 }} onChange={onChange} onRunQuery={jest.fn()} />);
    const input = screen.getByLabelText('Look-back hours');
    expect(input).toHaveValue(72);
    await userEvent.clear(input);
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'variable', hours: undefined });
  });
});
