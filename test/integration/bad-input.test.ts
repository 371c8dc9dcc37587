/**
 * Bad input of every kind gets a 4xx naming the field, never a 5xx, and nothing is stored.
 * One test per case, so that each failure names exactly the input that broke the contract.
 */
import { API, startTestApp, tableCounts, type RawRequest, type Reply, type TestApp } from '../support/app-harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // something to read, so that read routes do real work
  await t.post(`${API}/predictions`, { booking_id: 1, predicted_delay_minutes: 3, confidence: 0.5, risk_level: 'low', model_version: 'v1' });
  await t.post(`${API}/actuals`, { booking_id: 1, actual_delay_minutes: 10 });
});
afterAll(() => t?.close());

const good = { booking_id: 42, predicted_delay_minutes: 8.5, confidence: 0.9, risk_level: 'low' };
const goodJson = JSON.stringify(good);
/** Replaces the value of one field in the JSON text (to send what JSON.stringify cannot, e.g. 1e400). */
const withRaw = (field: string, rawValue: string) => goodJson.replace(/}$/, `,"${field}":${rawValue}}`).replace(new RegExp(`"${field}":[^,}]*,`), '');

interface Case {
  name: string;
  request: RawRequest;
  /** Exact status expected (else any 4xx); 'not-5xx' where the contract leaves it open. */
  status?: number | 'not-5xx';
  /** The field the error must name (in details[].field or the message). */
  field?: string;
}

const json = (method: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): RawRequest => ({
  method,
  path,
  body,
  headers: { 'content-type': 'application/json', ...headers },
});
const postPrediction = (body: unknown) => json('POST', `${API}/predictions`, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
const postActual = (body: unknown) => json('POST', `${API}/actuals`, typeof body === 'string' ? body : JSON.stringify(body));

const writeCases: Case[] = [
  // malformed
  { name: 'malformed JSON', request: postPrediction('{"booking_id":'), status: 400 },
  { name: 'empty body with JSON content type', request: postPrediction(''), status: 400 },
  { name: 'JSON null', request: postPrediction('null'), status: 400 },
  { name: 'a JSON string', request: postPrediction('"hello"'), status: 400 },
  { name: 'a JSON number', request: postPrediction('42'), status: 400 },
  { name: 'an empty array', request: postPrediction('[]'), status: 400 },
  { name: 'an array of non-objects', request: postPrediction('[1,2]'), status: 400 },
  { name: 'deeply nested arrays (100,000 levels)', request: postPrediction('['.repeat(100_000) + ']'.repeat(100_000)), status: 400 },
  { name: 'deeply nested object in contributing_factors', request: postPrediction(goodJson.replace(/}$/, `,"contributing_factors":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`)), status: 400, field: 'contributing_factors' },
  { name: '__proto__ key', request: postPrediction(goodJson.replace(/}$/, ',"__proto__":{"admin":true}}')), status: 400, field: '__proto__' },
  { name: 'constructor.prototype key', request: postPrediction(goodJson.replace(/}$/, ',"constructor":{"prototype":{"x":1}}}')), status: 400, field: 'constructor' },
  { name: 'duplicate keys (the last, a string, wins)', request: postPrediction('{"booking_id":1,"booking_id":"1","predicted_delay_minutes":1,"confidence":0.5,"risk_level":"a"}'), status: 400, field: 'booking_id' },
  // wrong types
  { name: 'booking_id as a string', request: postPrediction({ ...good, booking_id: '42' }), status: 400, field: 'booking_id' },
  { name: 'booking_id as a float', request: postPrediction({ ...good, booking_id: 4.2 }), status: 400, field: 'booking_id' },
  { name: 'confidence as a string', request: postPrediction({ ...good, confidence: '0.5' }), status: 400, field: 'confidence' },
  { name: 'risk_level as a number', request: postPrediction({ ...good, risk_level: 5 }), status: 400, field: 'risk_level' },
  { name: 'feature_flag_enabled as "true"', request: postPrediction({ ...good, feature_flag_enabled: 'true' }), status: 400, field: 'feature_flag_enabled' },
  { name: 'contributing_factors as an array', request: postPrediction({ ...good, contributing_factors: [1] }), status: 400, field: 'contributing_factors' },
  { name: 'contributing_factors with a string value', request: postPrediction({ ...good, contributing_factors: { rain: 'heavy' } }), status: 400, field: 'contributing_factors' },
  { name: 'created_at as a number', request: postPrediction({ ...good, created_at: 1700000000 }), status: 400, field: 'created_at' },
  { name: 'created_at without a timezone', request: postPrediction({ ...good, created_at: '2024-01-01T00:00:00' }), status: 400, field: 'created_at' },
  { name: 'created_at 30 February', request: postPrediction({ ...good, created_at: '2024-02-30T00:00:00Z' }), status: 400, field: 'created_at' },
  { name: 'created_at NaN-like text', request: postPrediction({ ...good, created_at: 'NaN' }), status: 400, field: 'created_at' },
  // RFC 3339 has leap seconds; a JavaScript Date does not
  // timestamps JavaScript and PostgreSQL would read apart (each was a 500, or a wrong instant stored)
  { name: 'created_at with an offset of +16:00', request: postPrediction({ ...good, created_at: '2024-01-01T00:00:00+16:00' }), status: 400, field: 'created_at' },
  { name: 'created_at in year 0 by its offset', request: postPrediction({ ...good, created_at: '0000-12-31T23:00:00-02:00' }), status: 400, field: 'created_at' },
  { name: 'created_at with 7 fraction digits at a month end', request: postPrediction({ ...good, created_at: '2021-05-31T23:59:59.9999995Z' }), status: 400, field: 'created_at' },
  { name: 'created_at with a space, year 0010', request: postPrediction({ ...good, created_at: '0010-04-05 06:07:08Z' }), status: 400, field: 'created_at' },
  { name: 'created_at in year 0077', request: postPrediction({ ...good, created_at: '0077-06-15T12:00:00Z' }), status: 400, field: 'created_at' },
  { name: 'actual: actual_pickup_at with an offset of -23:59', request: postActual({ booking_id: 1, actual_delay_minutes: 1, actual_pickup_at: '2024-01-01T00:00:00-23:59' }), status: 400, field: 'actual_pickup_at' },
  { name: 'an empty model_version', request: postPrediction({ ...good, model_version: '' }), status: 400, field: 'model_version' },
  { name: 'model_version "other" (the overflow label on /metrics)', request: postPrediction({ ...good, model_version: 'other' }), status: 400, field: 'model_version' },
  { name: 'created_at on a leap second', request: postPrediction({ ...good, created_at: '2016-12-31T23:59:60Z' }), status: 400, field: 'created_at' },
  { name: 'created_at on a leap second, in a batch', request: postPrediction([good, { ...good, created_at: '2016-12-31T23:59:60Z' }]), status: 400, field: 'created_at' },
  { name: 'predicted_delay_minutes as "NaN"', request: postPrediction({ ...good, predicted_delay_minutes: 'NaN' }), status: 400, field: 'predicted_delay_minutes' },
  { name: 'predicted_delay_minutes as "Infinity"', request: postPrediction({ ...good, predicted_delay_minutes: 'Infinity' }), status: 400, field: 'predicted_delay_minutes' },
  { name: 'predicted_delay_minutes null', request: postPrediction({ ...good, predicted_delay_minutes: null }), status: 400, field: 'predicted_delay_minutes' },
  // missing / unknown
  { name: 'booking_id missing', request: postPrediction({ predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' }), status: 400, field: 'booking_id' },
  { name: 'an unknown field', request: postPrediction({ ...good, colour: 'red' }), status: 400, field: 'colour' },
  { name: 'an SQL-looking unknown field', request: postPrediction({ ...good, "risk_level'; DROP TABLE users; --": 'x' }), status: 400, field: "risk_level'; DROP TABLE users; --" },
  { name: 'SQL-looking text in risk_level is stored as text', request: postPrediction({ ...good, risk_level: "'; DROP--" }), status: 201 },
  // out of range
  { name: 'huge number 1e400 (parses to Infinity)', request: postPrediction(withRaw('predicted_delay_minutes', '1e400')), status: 400, field: 'predicted_delay_minutes' },
  { name: 'huge negative -1e400', request: postPrediction(withRaw('predicted_delay_minutes', '-1e400')), status: 400, field: 'predicted_delay_minutes' },
  { name: 'predicted_delay_minutes 1e308', request: postPrediction({ ...good, predicted_delay_minutes: 1e308 }), status: 400, field: 'predicted_delay_minutes' },
  { name: 'booking_id 1e400', request: postPrediction(withRaw('booking_id', '1e400')), status: 400, field: 'booking_id' },
  { name: 'booking_id above 2^53', request: postPrediction(withRaw('booking_id', '9007199254740993')), status: 400, field: 'booking_id' },
  { name: 'booking_id negative', request: postPrediction({ ...good, booking_id: -1 }), status: 400, field: 'booking_id' },
  { name: 'driver_id 1e30', request: postPrediction({ ...good, driver_id: 1e30 }), status: 400, field: 'driver_id' },
  { name: 'confidence above 1', request: postPrediction({ ...good, confidence: 1.0000001 }), status: 400, field: 'confidence' },
  { name: 'confidence below 0', request: postPrediction({ ...good, confidence: -0.1 }), status: 400, field: 'confidence' },
  { name: 'traffic_percentage 101', request: postPrediction({ ...good, traffic_percentage: 101 }), status: 400, field: 'traffic_percentage' },
  { name: 'traffic_percentage 50.5', request: postPrediction({ ...good, traffic_percentage: 50.5 }), status: 400, field: 'traffic_percentage' },
  { name: 'prediction_time_ms negative', request: postPrediction({ ...good, prediction_time_ms: -1 }), status: 400, field: 'prediction_time_ms' },
  { name: 'contributing factor 1e300', request: postPrediction({ ...good, contributing_factors: { x: 1e300 } }), status: 400, field: 'contributing_factors' },
  { name: 'risk_level empty', request: postPrediction({ ...good, risk_level: '' }), status: 400, field: 'risk_level' },
  { name: 'risk_level 21 characters', request: postPrediction({ ...good, risk_level: 'x'.repeat(21) }), status: 400, field: 'risk_level' },
  { name: 'model_version 51 characters', request: postPrediction({ ...good, model_version: 'v'.repeat(51) }), status: 400, field: 'model_version' },
  { name: 'request_id 101 characters', request: postPrediction({ ...good, request_id: 'r'.repeat(101) }), status: 400, field: 'request_id' },
  { name: 'a 1 MB string', request: postPrediction({ ...good, risk_level: 'x'.repeat(1 << 20) }), status: 400, field: 'risk_level' },
  { name: 'created_at 10 minutes in the future', request: postPrediction({ ...good, created_at: new Date(Date.now() + 600_000).toISOString() }), status: 400, field: 'created_at' },
  { name: 'created_at in year 9999', request: postPrediction({ ...good, created_at: '9999-12-31T23:59:59Z' }), status: 400, field: 'created_at' },
  { name: 'created_at in year 0000 (no such year in PostgreSQL)', request: postPrediction({ ...good, created_at: '0000-01-01T00:00:00Z' }), status: 400, field: 'created_at' },
  // NUL bytes (PostgreSQL refuses them in text and jsonb)
  { name: 'NUL in risk_level', request: postPrediction({ ...good, risk_level: 'lo\u0000w' }), status: 400, field: 'risk_level' },
  { name: 'NUL in model_version', request: postPrediction({ ...good, model_version: 'v\u0000' }), status: 400, field: 'model_version' },
  { name: 'NUL in request_id', request: postPrediction({ ...good, request_id: '\u0000' }), status: 400, field: 'request_id' },
  { name: 'NUL in a contributing factor name', request: postPrediction({ ...good, contributing_factors: { 'a\u0000b': 1 } }), status: 400, field: 'contributing_factors' },
  // unpaired UTF-16 surrogates (valid JSON escapes, invalid Unicode; PostgreSQL's jsonb refuses them)
  { name: 'lone surrogate \\ud800 in risk_level', request: postPrediction(goodJson.replace('"low"', '"\\ud800"')), status: 400, field: 'risk_level' },
  { name: 'lone surrogate \\udc00 in model_version', request: postPrediction(goodJson.replace(/}$/, ',"model_version":"v\\udc00"}')), status: 400, field: 'model_version' },
  { name: 'lone surrogate in request_id', request: postPrediction(goodJson.replace(/}$/, ',"request_id":"\\ud83d"}')), status: 400, field: 'request_id' },
  { name: 'lone surrogate in a contributing factor name', request: postPrediction(goodJson.replace(/}$/, ',"contributing_factors":{"\\udfff":1}}')), status: 400, field: 'contributing_factors' },
  // batches
  { name: 'a batch of 10,001', request: postPrediction(Array.from({ length: 10_001 }, (_, i) => ({ ...good, booking_id: i }))), status: 400 },
  // content types and sizes
  { name: 'text/plain body', request: { method: 'POST', path: `${API}/predictions`, body: goodJson, headers: { 'content-type': 'text/plain' } }, status: 415, field: 'Content-Type' },
  { name: 'form-encoded body', request: { method: 'POST', path: `${API}/predictions`, body: 'booking_id=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415, field: 'Content-Type' },
  { name: 'XML body', request: { method: 'POST', path: `${API}/predictions`, body: '<p/>', headers: { 'content-type': 'application/xml' } }, status: 415, field: 'Content-Type' },
  { name: 'no content type', request: { method: 'POST', path: `${API}/predictions`, body: goodJson, headers: {} }, status: 415, field: 'Content-Type' },
  // bytes that are not UTF-8 would be stored as replacement characters
  { name: 'invalid UTF-8 in risk_level', request: postPrediction(Buffer.concat([Buffer.from(goodJson.replace('"low"', '"lo')), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), status: 400 },
  // bodies are read as sent: a compressed one is refused, not read as garbage
  { name: 'a gzip Content-Encoding', request: { ...postPrediction(good), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }, status: 415, field: 'Content-Encoding' },
  { name: 'a br Content-Encoding on NDJSON', request: { method: 'POST', path: `${API}/predictions/bulk`, body: goodJson + '\n', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'br' } }, status: 415, field: 'Content-Encoding' },
  { name: 'an empty field name', request: postPrediction(goodJson.replace(/}$/, ',"":1}')), status: 400, field: '""' },
  // NDJSON is read by /predictions/bulk only
  { name: 'an NDJSON file sent as JSON to the bulk route', request: { method: 'POST', path: `${API}/predictions/bulk`, body: `${goodJson}\n${goodJson}\n`, headers: { 'content-type': 'application/json' } }, status: 415, field: 'Content-Type' },
  { name: 'text/plain to the bulk route', request: { method: 'POST', path: `${API}/predictions/bulk`, body: `${goodJson}\n`, headers: { 'content-type': 'text/plain' } }, status: 415, field: 'application/x-ndjson' },
  { name: 'an NDJSON body on the JSON route', request: { method: 'POST', path: `${API}/predictions`, body: goodJson, headers: { 'content-type': 'application/x-ndjson' } }, status: 415, field: 'Content-Type' },
  { name: 'a 33 MB body on a write route', request: postPrediction(JSON.stringify({ ...good, risk_level: 'x'.repeat(33 * 1024 * 1024) })), status: 413 },
  // actuals
  { name: 'actual: malformed JSON', request: postActual('[{'), status: 400 },
  { name: 'actual: missing actual_delay_minutes', request: postActual({ booking_id: 1 }), status: 400, field: 'actual_delay_minutes' },
  { name: 'actual: 1e400', request: postActual('{"booking_id":1,"actual_delay_minutes":1e400}'), status: 400, field: 'actual_delay_minutes' },
  { name: 'actual: booking_id as string', request: postActual({ booking_id: '1', actual_delay_minutes: 1 }), status: 400, field: 'booking_id' },
  { name: 'actual: unknown field', request: postActual({ booking_id: 1, actual_delay_minutes: 1, note: 'x' }), status: 400, field: 'note' },
  { name: 'actual: bad actual_pickup_at', request: postActual({ booking_id: 1, actual_delay_minutes: 1, actual_pickup_at: 'soon' }), status: 400, field: 'actual_pickup_at' },
  { name: 'actual: actual_dropoff_at on a leap second', request: postActual({ booking_id: 1, actual_delay_minutes: 1, actual_dropoff_at: '2016-12-31T23:59:60Z' }), status: 400, field: 'actual_dropoff_at' },
  { name: 'actual: actual_pickup_at in year 0000', request: postActual({ booking_id: 1, actual_delay_minutes: 1, actual_pickup_at: '0000-01-01T00:00:00Z' }), status: 400, field: 'actual_pickup_at' },
  { name: 'actual: an NDJSON body', request: { method: 'POST', path: `${API}/actuals`, body: '{"booking_id":1,"actual_delay_minutes":1}', headers: { 'content-type': 'application/x-ndjson' } }, status: 415, field: 'Content-Type' },
  { name: 'actual: text/plain', request: { method: 'POST', path: `${API}/actuals`, body: '{}', headers: { 'content-type': 'text/plain' } }, status: 415, field: 'Content-Type' },
  // flags and failures
  { name: 'flags: empty object', request: json('PUT', `${API}/feature-flags`, '{}'), status: 400 },
  { name: 'flags: percentage 101', request: json('PUT', `${API}/feature-flags`, '{"ml_traffic_percentage":101}'), status: 400, field: 'ml_traffic_percentage' },
  { name: 'flags: percentage 1e400', request: json('PUT', `${API}/feature-flags`, '{"ml_traffic_percentage":1e400}'), status: 400, field: 'ml_traffic_percentage' },
  { name: 'flags: ml_enabled "yes"', request: json('PUT', `${API}/feature-flags`, '{"ml_enabled":"yes"}'), status: 400, field: 'ml_enabled' },
  // A misspelt field next to a valid one must not pass as a change of the valid one only.
  { name: 'flags: unknown field beside a valid one', request: json('PUT', `${API}/feature-flags`, '{"ml_enabled":true,"ml_traffic_percent":50}'), status: 400, field: 'ml_traffic_percent' },
  { name: 'flags: percentage "50"', request: json('PUT', `${API}/feature-flags`, '{"ml_traffic_percentage":"50"}'), status: 400, field: 'ml_traffic_percentage' },
  { name: 'flags: percentage 12.5', request: json('PUT', `${API}/feature-flags`, '{"ml_traffic_percentage":12.5}'), status: 400, field: 'ml_traffic_percentage' },
  { name: 'flags: a 2 MB body', request: json('PUT', `${API}/feature-flags`, JSON.stringify({ ml_enabled: true, pad: 'x'.repeat(2 << 20) })), status: 413 },
  { name: 'failures: count 0', request: json('POST', `${API}/prediction-failures`, '{"count":0}'), status: 400, field: 'count' },
  { name: 'failures: count 1e400', request: json('POST', `${API}/prediction-failures`, '{"count":1e400}'), status: 400, field: 'count' },
  { name: 'failures: NUL in reason', request: json('POST', `${API}/prediction-failures`, JSON.stringify({ reason: '\u0000' })), status: 400, field: 'reason' },
];

const from = '2026-01-01T00:00:00Z';
const to = '2026-01-01T06:00:00Z';
const get = (path: string): RawRequest => ({ method: 'GET', path });
const readCases: Case[] = [
  { name: 'metrics: hours=0', request: get(`${API}/metrics?hours=0`), status: 400, field: 'hours' },
  { name: 'metrics: hours=-1', request: get(`${API}/metrics?hours=-1`), status: 400, field: 'hours' },
  { name: 'metrics: hours=abc', request: get(`${API}/metrics?hours=abc`), status: 400, field: 'hours' },
  { name: 'metrics: hours=NaN', request: get(`${API}/metrics?hours=NaN`), status: 400, field: 'hours' },
  { name: 'metrics: hours=Infinity', request: get(`${API}/metrics?hours=Infinity`), status: 400, field: 'hours' },
  { name: 'metrics: hours=1e400', request: get(`${API}/metrics?hours=1e400`), status: 400, field: 'hours' },
  { name: 'metrics: hours=8785', request: get(`${API}/metrics?hours=8785`), status: 400, field: 'hours' },
  { name: 'metrics: hours given twice', request: get(`${API}/metrics?hours=1&hours=2`), status: 400, field: 'hours' },
  { name: 'metrics: from without to', request: get(`${API}/metrics?from=${from}`), status: 400, field: 'to' },
  { name: 'metrics: to before from', request: get(`${API}/metrics?from=${to}&to=${from}`), status: 400, field: 'to' },
  { name: 'metrics: from garbage', request: get(`${API}/metrics?from=yesterday&to=${to}`), status: 400, field: 'from' },
  { name: 'metrics: from on a leap second', request: get(`${API}/metrics?from=2016-12-31T23:59:60Z&to=2017-01-01T01:00:00Z`), status: 400, field: 'from' },
  { name: 'timeseries: to on a leap second', request: get(`${API}/timeseries?from=2016-12-31T22:00:00Z&to=2016-12-31T23:59:60Z`), status: 400, field: 'to' },
  { name: 'predictions: to on a leap second', request: get(`${API}/predictions?from=2016-12-31T22:00:00Z&to=2016-12-31T23:59:60Z`), status: 400, field: 'to' },
  { name: 'metrics: a range ending in year 10000', request: get(`${API}/metrics?from=9998-12-31T23:00:00Z&to=9998-12-31T23:30:00-15:00`), status: 400, field: 'to' },
  { name: 'predictions: a cursor before year 1', request: get(`${API}/predictions?cursor=${Buffer.from('-99999999999999999:1').toString('base64url')}`), status: 400, field: 'cursor' },
  { name: 'anomalies: a cursor before year 1', request: get(`${API}/anomalies?cursor=${Buffer.from('-99999999999999999:1').toString('base64url')}`), status: 400, field: 'cursor' },
  { name: 'metrics: hours with from/to', request: get(`${API}/metrics?hours=1&from=${from}&to=${to}`), status: 400, field: 'hours' },
  { name: 'metrics: a range over 366 days', request: get(`${API}/metrics?from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z`), status: 400, field: 'from' },
  { name: 'metrics: unknown parameter', request: get(`${API}/metrics?window=24h`), status: 400, field: 'window' },
  { name: 'metrics: model_version 51 characters', request: get(`${API}/metrics?model_version=${'v'.repeat(51)}`), status: 400, field: 'model_version' },
  { name: 'metrics: an empty model_version', request: get(`${API}/metrics?model_version=`), status: 400, field: 'model_version' },
  { name: 'metrics: NUL in model_version', request: get(`${API}/metrics?model_version=%00`), status: 400, field: 'model_version' },
  { name: 'metrics: SQL in model_version is just a name', request: get(`${API}/metrics?model_version=${encodeURIComponent("x' or '1'='1")}`), status: 200 },
  { name: 'daily: days=0', request: get(`${API}/daily?days=0`), status: 400, field: 'days' },
  { name: 'daily: days=367', request: get(`${API}/daily?days=367`), status: 400, field: 'days' },
  { name: 'daily: days=1.5', request: get(`${API}/daily?days=1.5`), status: 400, field: 'days' },
  { name: 'timeseries: no from/to', request: get(`${API}/timeseries`), status: 400, field: 'from' },
  { name: 'timeseries: step=90', request: get(`${API}/timeseries?from=${from}&to=${to}&step=90`), status: 400, field: 'step' },
  { name: 'timeseries: step=0', request: get(`${API}/timeseries?from=${from}&to=${to}&step=0`), status: 400, field: 'step' },
  { name: 'timeseries: too many points', request: get(`${API}/timeseries?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z&step=60`), status: 400, field: 'step' },
  { name: 'timeseries: a version of 51 characters', request: get(`${API}/timeseries?from=${from}&to=${to}&model_version=a,${'v'.repeat(51)}`), status: 400, field: 'model_version' },
  { name: 'timeseries: NUL in model_version', request: get(`${API}/timeseries?from=${from}&to=${to}&model_version=%00`), status: 400, field: 'model_version' },
  { name: 'predictions: limit=0', request: get(`${API}/predictions?limit=0`), status: 400, field: 'limit' },
  { name: 'predictions: limit=1001', request: get(`${API}/predictions?limit=1001`), status: 400, field: 'limit' },
  { name: 'predictions: limit=abc', request: get(`${API}/predictions?limit=abc`), status: 400, field: 'limit' },
  { name: 'predictions: bad cursor', request: get(`${API}/predictions?cursor=not-a-cursor`), status: 400, field: 'cursor' },
  { name: 'predictions: cursor of garbage base64', request: get(`${API}/predictions?cursor=${Buffer.from('1:2:3').toString('base64url')}`), status: 400, field: 'cursor' },
  { name: 'predictions: cursor with a NUL', request: get(`${API}/predictions?cursor=%00`), status: 400, field: 'cursor' },
  { name: 'predictions: a 200-character cursor', request: get(`${API}/predictions?cursor=${'A'.repeat(200)}`), status: 400, field: 'cursor' },
  { name: 'predictions: from without to', request: get(`${API}/predictions?from=${from}`), status: 400, field: 'to' },
  { name: 'predictions: to without from', request: get(`${API}/predictions?to=${to}`), status: 400, field: 'from' },
  { name: 'predictions: to equal to from', request: get(`${API}/predictions?from=${from}&to=${from}`), status: 400, field: 'to' },
  { name: 'predictions: to garbage', request: get(`${API}/predictions?from=${from}&to=tomorrow`), status: 400, field: 'to' },
  { name: 'predictions: hours with from/to', request: get(`${API}/predictions?hours=24&from=${from}&to=${to}`), status: 400, field: 'hours' },
  { name: 'predictions: hours=0', request: get(`${API}/predictions?hours=0`), status: 400, field: 'hours' },
  { name: 'anomalies: threshold=-1', request: get(`${API}/anomalies?threshold=-1`), status: 400, field: 'threshold' },
  { name: 'anomalies: threshold=abc', request: get(`${API}/anomalies?threshold=abc`), status: 400, field: 'threshold' },
  { name: 'anomalies: limit=10001', request: get(`${API}/anomalies?limit=10001`), status: 400, field: 'limit' },
  { name: 'decision: booking_id=abc', request: get(`${API}/feature-flags/decision?booking_id=abc`), status: 400, field: 'booking_id' },
  { name: 'decision: booking_id=1e400', request: get(`${API}/feature-flags/decision?booking_id=1e400`), status: 400, field: 'booking_id' },
  { name: 'model-versions: hours=-5', request: get(`${API}/model-versions?hours=-5`), status: 400, field: 'hours' },
  // Undecodable query text: the contract does not say whether it is refused or taken literally.
  { name: 'invalid percent-encoding in the query', request: get(`${API}/metrics?model_version=%E0%A4%A`), status: 'not-5xx' },
  { name: 'invalid UTF-8 in the query', request: get(`${API}/metrics?model_version=%ED%A0%80`), status: 'not-5xx' },
  { name: 'invalid UTF-8 in a timeseries version list', request: get(`${API}/timeseries?from=${from}&to=${to}&model_version=%ED%A0%80,%FF`), status: 'not-5xx' },
];

function namesField(res: Reply, field: string): boolean {
  const body = res.json<{ message?: string; details?: { field: string }[] }>();
  return (body.details ?? []).some((d) => d.field === field || d.field.startsWith(`${field}.`)) || (body.message ?? '').includes(field);
}

async function check(c: Case, write: boolean): Promise<void> {
  const before = write ? await tableCounts(t.db) : undefined;
  const flagsBefore = write ? (await t.get(`${API}/feature-flags`)).json() : undefined;
  const auth = { authorization: `Bearer ${t.tokens.ingest}` };
  const res = await t.raw({ ...c.request, headers: { ...c.request.headers, ...auth } });
  const summary = `${res.statusCode} ${res.body.slice(0, 300)}`;
  expect({ case: c.name, status: res.statusCode < 500 ? 'not 5xx' : summary }).toEqual({ case: c.name, status: 'not 5xx' });
  if (c.status === 'not-5xx') {
    // the contract does not say; only "never a 5xx" applies
  } else if (c.status !== undefined) expect({ case: c.name, status: res.statusCode }).toEqual({ case: c.name, status: c.status });
  else expect(res.statusCode >= 400 && res.statusCode < 500 ? 'a 4xx' : summary).toBe('a 4xx');
  if (res.statusCode >= 400) {
    const body = res.json();
    expect(body).toEqual(expect.objectContaining({ statusCode: res.statusCode, error: expect.any(String), message: expect.any(String) }));
    expect(res.body).not.toMatch(/\bat .*\.(js|ts):\d+|select |insert into|ml_prediction/i); // no stack traces, no SQL
  }
  if (c.field) expect({ case: c.name, namesField: namesField(res, c.field), body: res.body.slice(0, 300) }).toEqual({ case: c.name, namesField: true, body: res.body.slice(0, 300) });
  if (write && res.statusCode >= 400) {
    expect(await tableCounts(t.db)).toEqual(before);
    expect((await t.get(`${API}/feature-flags`)).json()).toEqual(flagsBefore);
  }
}

describe('bad writes: 4xx naming the field, never 5xx, nothing stored', () => {
  it.each(writeCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => check(c, true));
});

describe('bad query parameters: 4xx naming the parameter, never 5xx', () => {
  it.each(readCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => check(c, false));
});

// Non-zero numbers whose squares underflow (|x| < ~1e-154) made PostgreSQL raise "value out of
// range: underflow" in the rollup merge and in window reads: a 500 on the request, and a pending
// actual of that size poisoned its booking's later predictions. Either refusing them (400 naming
// the field) or storing them is acceptable; a 5xx, or a poisoned booking or window, is not.
describe('tiny numbers', () => {
  const notServerError = (res: Reply, what: string) => expect({ what, status: res.statusCode < 500 ? 'not 5xx' : `${res.statusCode} ${res.body.slice(0, 200)}` }).toEqual({ what, status: 'not 5xx' });
  const refusedNaming = (res: Reply, field: string) => {
    if (res.statusCode >= 400) expect(namesField(res, field)).toBe(true);
  };

  it('an actual of 1e-200 for a booking whose minute already has a labelled prediction', async () => {
    await t.post(`${API}/predictions`, [
      { ...good, booking_id: 61, model_version: 'tiny' },
      { ...good, booking_id: 62, model_version: 'tiny' },
    ]);
    expect((await t.post(`${API}/actuals`, { booking_id: 61, actual_delay_minutes: 0 })).statusCode).toBe(200);
    const res = await t.post(`${API}/actuals`, { booking_id: 62, actual_delay_minutes: 1e-200 });
    notServerError(res, 'actual 1e-200');
    refusedNaming(res, 'actual_delay_minutes');
    expect((await t.get(`${API}/metrics?model_version=tiny`)).statusCode).toBe(200);
  });

  it('a pending actual of 5e-324 (the smallest double) does not make its booking\'s predictions fail', async () => {
    await t.post(`${API}/predictions`, { ...good, booking_id: 63, model_version: 'tiny-pending' }); // the minute's rollup row exists
    await t.post(`${API}/actuals`, { booking_id: 63, actual_delay_minutes: 0 });
    const actual = await t.post(`${API}/actuals`, { booking_id: 64, actual_delay_minutes: 5e-324 });
    notServerError(actual, 'pending actual 5e-324');
    refusedNaming(actual, 'actual_delay_minutes');
    const res = await t.post(`${API}/predictions`, { ...good, booking_id: 64, model_version: 'tiny-pending' });
    expect({ status: res.statusCode, body: res.body.slice(0, 200) }).toEqual({ status: 201, body: expect.any(String) });
  });

  it('a prediction error of 1e-170 in a window edge: /metrics still answers', async () => {
    const res = await t.post(`${API}/predictions`, { ...good, booking_id: 65, predicted_delay_minutes: 1e-170, model_version: 'tiny-error' });
    notServerError(res, 'predicted 1e-170');
    refusedNaming(res, 'predicted_delay_minutes');
    await t.post(`${API}/actuals`, { booking_id: 65, actual_delay_minutes: 0 });
    const metrics = await t.get(`${API}/metrics?model_version=tiny-error`);
    expect({ status: metrics.statusCode, body: metrics.body.slice(0, 200) }).toEqual({ status: 200, body: expect.any(String) });
    expect((await t.get(`${API}/metrics`)).statusCode).toBe(200);
  });

  it.each([
    ['predicted_delay_minutes', 1e-160],
    ['confidence', 5e-324],
    ['prediction_time_ms', 1e-300],
  ])('%s = %s: never a 5xx', async (fieldName, value) => {
    const res = await t.post(`${API}/predictions`, { ...good, booking_id: 66, model_version: 'tiny-fields', [fieldName]: value });
    notServerError(res, `${fieldName}=${value}`);
    refusedNaming(res, fieldName);
    expect((await t.get(`${API}/metrics?model_version=tiny-fields`)).statusCode).toBe(200);
  });
});

describe('after all of it', () => {
  it('the service is still up and the data untouched', async () => {
    expect((await t.get('/healthz', null)).statusCode).toBe(200);
    expect((await t.get('/readyz', null)).statusCode).toBe(200);
    // the seed row and the one valid write among the cases (SQL-looking risk_level, stored as text)
    const m2 = (await t.get(`${API}/metrics?model_version=v1`)).json();
    expect(m2).toMatchObject({ predictions: 1, count: 1, mae: 7 });
    const stored = (await t.get(`${API}/predictions?model_version=unknown&limit=1000`)).json();
    expect(stored.map((p: { risk_level: string }) => p.risk_level)).toContain("'; DROP--");
  });
});
