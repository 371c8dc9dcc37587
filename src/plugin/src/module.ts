import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { MlmonDataSource } from './datasource';
import { MlmonDataSourceOptions, MlmonQuery, MlmonSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<MlmonDataSource, MlmonQuery, MlmonDataSourceOptions, MlmonSecureJsonData>(MlmonDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
