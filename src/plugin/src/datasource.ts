import {
  CoreApp,
  DataFrame,
  DataQueryError,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceApi,
  DataSourceInstanceSettings,
  ScopedVars,
  TestDataSourceResponse,
} from '@grafana/data';
import { getBackendSrv, getTemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of } from 'rxjs';

import { describeRequestFailure } from './errors';
import { anomalyEvents, toFrames } from './frames';
import { ApiRequest, buildRequests, QueryContext } from './requests';
import {
  API_BASE_PATH,
  InfoResponse,
  MlmonDataSourceOptions,
  MlmonQuery,
  ModelVersionsResponse,
  PROXY_ROUTE,
  QueryType,
  SUPPORTED_API_VERSION,
} from './types';
import { ModelVersionVariableSupport } from './variables';

/**
 * Multi-value variables reach the formatter as arrays; the plugin's model version filter is a
 * comma-separated list, which is also what `/timeseries` accepts.
 */
function formatModelVersions(value: string | string[]): string {
  return Array.isArray(value) ? value.join(',') : value;
}

export class MlmonDataSource extends DataSourceApi<MlmonQuery, MlmonDataSourceOptions> {
  /** Every request goes through Grafana's data source proxy, whose route adds the read token. */
  private readonly apiUrl: string;
  /** The service URL as configured, for messages: the browser itself only sees the proxy. */
  private readonly serviceUrl: string | undefined;

  constructor(instanceSettings: DataSourceInstanceSettings<MlmonDataSourceOptions>) {
    super(instanceSettings);
    this.apiUrl = `${instanceSettings.url ?? ''}/${PROXY_ROUTE}${API_BASE_PATH}`;
    this.serviceUrl = instanceSettings.jsonData.url || undefined;
    this.variables = new ModelVersionVariableSupport(this);
    this.annotations = {
      getDefaultQuery: () => ({ queryType: QueryType.Anomalies }),
      // Grafana shows getDefaultQuery in the editor but runs the saved target as it is, which is
      // empty until a control is touched: run that as the anomalies it showed.
      prepareQuery: (annotation) => ({ refId: 'Anno', queryType: QueryType.Anomalies, ...annotation.target }),
      processEvents: (_annotation, frames) => of(anomalyEvents(frames)),
    };
  }

  override getDefaultQuery(_app: CoreApp): Partial<MlmonQuery> {
    return { queryType: QueryType.Timeseries };
  }

  override filterQuery(query: MlmonQuery): boolean {
    return !query.hide;
  }

  applyTemplateVariables(query: MlmonQuery, scopedVars: ScopedVars): MlmonQuery {
    if (!query.modelVersion) {
      return query;
    }
    return { ...query, modelVersion: getTemplateSrv().replace(query.modelVersion, scopedVars, formatModelVersions) };
  }

  /**
   * Grafana calls this when a panel's queries leave their dashboard (Explore, "Copy to Explore"),
   * where the dashboard variables no longer exist to be interpolated.
   */
  override interpolateVariablesInQueries(queries: MlmonQuery[], scopedVars: ScopedVars): MlmonQuery[] {
    return queries.map((query) => this.applyTemplateVariables(query, scopedVars));
  }

  async query(request: DataQueryRequest<MlmonQuery>): Promise<DataQueryResponse> {
    const context: QueryContext = {
      fromMs: request.range.from.valueOf(),
      toMs: request.range.to.valueOf(),
      intervalMs: request.intervalMs,
      nowMs: Date.now(),
    };
    const queries = request.targets
      .filter((query) => this.filterQuery(query))
      .map((query) => this.applyTemplateVariables(query, request.scopedVars));
    // One failing query must not blank the others: its error is reported under its refId.
    const outcomes = await Promise.allSettled(
      queries.map((query) => this.runQuery(query, context, `${request.requestId}-${query.refId}`)),
    );
    const data: DataFrame[] = [];
    const errors: DataQueryError[] = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        data.push(...outcome.value);
      } else {
        const reason: unknown = outcome.reason;
        errors.push({ refId: queries[index]?.refId, message: reason instanceof Error ? reason.message : String(reason) });
      }
    });
    return errors.length > 0 ? { data, errors } : { data };
  }

  private async runQuery(query: MlmonQuery, context: QueryContext, requestId: string): Promise<DataFrame[]> {
    const requests = buildRequests(query, context);
    const bodies = await Promise.all(requests.map((request, index) => this.get(request, `${requestId}-${index}`)));
    return requests.flatMap((request, index) => toFrames(query, request, bodies[index], context));
  }

  /** Model versions seen in the last `hours` (the service's default window when absent). */
  async fetchModelVersions(hours?: number): Promise<string[]> {
    const body = await this.get<ModelVersionsResponse>({ path: '/model-versions', params: hours ? { hours } : {} });
    return body.model_versions;
  }

  /**
   * Reachable, token accepted, API version compatible: `/info` needs the read token like every API
   * route, so one request answers all three.
   */
  async testDatasource(): Promise<TestDataSourceResponse> {
    if (!this.serviceUrl) {
      return { status: 'error', message: 'Set the URL of the mlmon service (e.g. http://mlmon:8080) and save.' };
    }
    let info: InfoResponse;
    try {
      info = await this.get<InfoResponse>({ path: '/info', params: {} });
    } catch (error) {
      return { status: 'error', message: error instanceof Error ? error.message : String(error) };
    }
    if (info?.service !== 'mlmon') {
      return {
        status: 'error',
        message: `${this.serviceUrl} answered ${API_BASE_PATH}/info, but not as an mlmon service. Check the URL.`,
      };
    }
    if (info.api_version !== SUPPORTED_API_VERSION) {
      return {
        status: 'error',
        message:
          `mlmon ${info.version} at ${this.serviceUrl} serves API version ${info.api_version}, but this plugin ` +
          `supports API version ${SUPPORTED_API_VERSION}. Install the plugin release that matches the service.`,
      };
    }
    return {
      status: 'success',
      message: `Connected to mlmon ${info.version} (API version ${info.api_version}); the read token was accepted.`,
    };
  }

  private async get<T = unknown>(request: ApiRequest, requestId?: string): Promise<T> {
    try {
      const response = await lastValueFrom(
        getBackendSrv().fetch<T>({
          url: `${this.apiUrl}${request.path}`,
          method: 'GET',
          params: request.params,
          // Failures are reported on the panel or the health check, not as a global toast.
          showErrorAlert: false,
          // Names the request (panel run, query, part) for Grafana's query inspector. Unique per run, so it
          // cancels nothing: a panel re-run drops the older run's results itself.
          requestId,
        }),
      );
      return response.data;
    } catch (error) {
      throw describeRequestFailure(error, `${API_BASE_PATH}${request.path}`, this.serviceUrl);
    }
  }
}
