import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { from, Observable } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { MlmonDataSource } from './datasource';
import { modelVersionsFrame } from './frames';
import { ModelVersionsVariableQuery } from './types';

/** Query variables of this data source list the model versions seen by the service. */
export class ModelVersionVariableSupport extends CustomVariableSupport<MlmonDataSource, ModelVersionsVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: MlmonDataSource) {
    super();
  }

  query(request: DataQueryRequest<ModelVersionsVariableQuery>): Observable<DataQueryResponse> {
    const hours = request.targets[0]?.hours;
    return from(this.datasource.fetchModelVersions(hours).then((versions) => ({ data: [modelVersionsFrame(versions)] })));
  }
}
