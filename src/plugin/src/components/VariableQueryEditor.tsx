import React, { useState } from 'react';
import { QueryEditorProps } from '@grafana/data';
import { InlineField, Input } from '@grafana/ui';

import type { MlmonDataSource } from '../datasource';
import { MlmonDataSourceOptions, MlmonQuery, ModelVersionsVariableQuery } from '../types';
import { parseOptionalNumber } from './numbers';

type Props = QueryEditorProps<MlmonDataSource, MlmonQuery, MlmonDataSourceOptions, ModelVersionsVariableQuery>;

/** Edits the look-back window of a variable that lists model versions. */
export function VariableQueryEditor({ query, onChange }: Props) {
  // Kept as text while typing so that an unfinished number is not reformatted under the cursor.
  const [hours, setHours] = useState(query.hours?.toString() ?? '');

  return (
    <InlineField
      label="Seen in the last"
      labelWidth={20}
      tooltip="Lists the model versions that made predictions within this many hours (service default: 168, one week)"
    >
      <Input
        aria-label="Look-back hours"
        type="number"
        min={1}
        width={16}
        placeholder="168"
        suffix="hours"
        value={hours}
        onChange={(event) => setHours(event.currentTarget.value)}
        onBlur={() => onChange({ ...query, hours: parseOptionalNumber(hours) })}
      />
    </InlineField>
  );
}
