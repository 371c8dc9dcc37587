import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One HTTP request Alertmanager made to the receiver. */
export interface ReceivedNotification {
  /** Request path, e.g. `/pager/webhook`: says which receiver and integration sent it. */
  path: string;
  receivedAtMs: number;
  body: unknown;
}

/** The payload of Alertmanager's webhook integration (the fields the tests read). */
export interface WebhookPayload {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }[];
  groupLabels: Record<string, string>;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>` */
  url: string;
  notifications(): readonly ReceivedNotification[];
  /** Resolves with the first notification (already received or future) that satisfies `match`. */
  waitFor(description: string, match: (notification: ReceivedNotification) => boolean, timeoutMs: number): Promise<ReceivedNotification>;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

/**
 * A stand-in for every notification endpoint (webhook, Slack, PagerDuty, Opsgenie): it records
 * each request on loopback and answers what those services answer on success.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedNotification[] = [];
  const waiters = new Set<() => void>();

  const server: Server = createServer((request, response) => {
    void readBody(request).then((text) => {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the raw text
      }
      received.push({ path: request.url ?? '/', receivedAtMs: Date.now(), body });
      for (const wake of waiters) wake();
      // PagerDuty answers 202 with a small JSON body; the others accept any 2xx.
      response.writeHead(request.url?.includes('pagerduty') ? 202 : 200, { 'content-type': 'application/json' });
      response.end('{"status":"success","message":"Event processed"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    notifications: () => received,
    waitFor(description, match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return;
          finish();
          resolve(found);
        };
        const timer = setTimeout(() => {
          finish();
          const seen = received.map((n) => `${n.path}: ${JSON.stringify(n.body).slice(0, 400)}`).join('\n');
          reject(new Error(`no notification matching "${description}" within ${timeoutMs} ms; received:\n${seen || '(nothing)'}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The alerts of a webhook-integration notification, or none for other integrations. */
export function webhookAlerts(notification: ReceivedNotification): WebhookPayload['alerts'] {
  const body = notification.body as Partial<WebhookPayload> | undefined;
  return Array.isArray(body?.alerts) ? body.alerts : [];
}
