/**
 * Retries: the same batch sent twice concurrently, and again after a client-side timeout (the
 * client gave up after sending the whole body; the service may or may not have committed it).
 * Each prediction is stored once and counted once: table, rollups, the API's metrics, and the
 * /metrics gauges and counters.
 */
import { request as httpRequest } from 'node:http';
import { API, call, prediction, sample, sleep, storedFor, uniqueTag, useServiceOnTestDatabase } from './support.js';

/** Sends the body completely, then abandons the request before the answer (a client timeout). */
function sendAndGiveUp(base: string, token: string, body: string): Promise<string> {
  const url = new URL(`${base}${API}/predictions`);
  return new Promise((resolve) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: url.pathname,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(`answered ${res.statusCode} before the client gave up`);
    });
    req.on('error', () => resolve('gave up'));
    req.on('finish', () => setTimeout(() => req.destroy(), 5));
    req.end(body);
  });
}

describe('retried batches', () => {
  const running = useServiceOnTestDatabase({ MLMON_METRICS_CACHE_SECONDS: '0' });

  it('twice concurrently and again after a client timeout: stored once, counted once everywhere', async () => {
    const s = running();
    const version = uniqueTag('retry');
    const batchA = Array.from({ length: 500 }, (_, i) => prediction(version, `${version}-a-${i}`));
    const batchB = Array.from({ length: 2000 }, (_, i) => prediction(version, `${version}-b-${i}`));
    const total = batchA.length + batchB.length;

    // 1. the same batch twice at once
    const [first, second] = await Promise.all([
      call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: batchA }),
      call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: batchA }),
    ]);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.json.accepted + second.json.accepted).toBe(batchA.length);
    expect(first.json.duplicates + second.json.duplicates).toBe(batchA.length);

    // 2. a client timeout, then the retry (while the abandoned request may still be running), then another
    const abandoned = await sendAndGiveUp(s.baseUrl, s.ingestToken, JSON.stringify(batchB));
    const retry = await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: batchB });
    await sleep(500);
    const retryAgain = await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: batchB });
    const retryA = await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: batchA });
    expect(retry.status).toBe(201);
    expect(retry.json.accepted + retry.json.duplicates).toBe(batchB.length);
    expect(retryAgain.json).toEqual({ accepted: 0, duplicates: batchB.length });
    expect(retryA.json).toEqual({ accepted: 0, duplicates: batchA.length });

    // 3. counted once everywhere
    const stored = await storedFor(running.database().url, version);
    const doubled = [...stored.rows.values()].filter((n) => n > 1).length;
    const rows = [...stored.rows.values()].reduce((a, b) => a + b, 0);
    const api = await call(s.baseUrl, 'GET', `${API}/metrics?hours=1&model_version=${version}`, { token: s.readToken });
    const prom = await call(s.baseUrl, 'GET', '/metrics');
    const gauge = sample(prom.text, 'ml_prediction_window_predictions', `window="1h",model_version="${version}"`);
    const counter = sample(prom.text, 'ml_predictions_ingested_total', `model_version="${version}"`);
    const report = {
      sent: 2 * batchA.length + 3 * batchB.length + batchA.length, distinct: total, abandoned,
      retryAfterTimeout: retry.json, rows, doubled, rollup: stored.rollupPredictions, apiPredictions: api.json?.predictions, gauge, counter,
    };
    console.log(`retries: ${JSON.stringify(report)}`);
    expect(stored.rows.size).toBe(total);
    expect(rows).toBe(total);
    expect(doubled).toBe(0);
    expect(stored.rollupPredictions).toBe(total);
    expect(api.json.predictions).toBe(total);
    expect(gauge).toBe(total);
    expect(counter).toBe(total);
  }, 60_000);
});
