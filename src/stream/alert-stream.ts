/**
 * The live stream (Server-Sent Events): every client of a view receives the same bytes, built
 * once per batch of arrivals. Writing never waits: a client whose unsent bytes pile up beyond a
 * bound is too slow and is dropped (its browser reconnects), and the number of clients is capped.
 */
import type { ServerResponse } from 'node:http';
import type { StoredAlert } from '../domain/query';
import { tickerEntry } from '../api/format/alert-views';

/** The public view carries what retrieveAlertsJson carries (community alerts, no source address); the operator's carries more. */
export type StreamView = 'public' | 'operator';

export interface AlertStreamOptions {
  readonly maxClients: number;
  /** Unsent bytes a client may have queued before it counts as too slow and is dropped. */
  readonly maxQueuedBytes?: number;
  /** Comment lines keep idle connections open through proxies. */
  readonly keepAliveMs?: number;
}

/** One alert as the operator's stream carries it: the public entry plus who attacked which sensor. */
export function operatorEntry(alert: StoredAlert): Record<string, unknown> {
  const doc = alert.document;
  return {
    ...tickerEntry(alert),
    sourceEntryIp: doc.sourceEntryIp,
    sourceEntryPort: doc.sourceEntryPort,
    targetEntryPort: doc.targetEntryPort,
    peerIdent: doc.peerIdent,
    hostname: doc.hostname,
  };
}

const event = (entry: Record<string, unknown>): string => `event: alert\ndata: ${JSON.stringify(entry)}\n\n`;

export class AlertStream {
  private readonly clients = new Map<ServerResponse, StreamView>();
  private keepAlive: NodeJS.Timeout | undefined;
  private dropped = 0;

  /**
   * @param onClientsChanged told whether any client is connected, so the feed polls only then.
   * @param gauge shows the number of clients (metrics).
   */
  constructor(
    private readonly options: AlertStreamOptions,
    private readonly onClientsChanged: (any: boolean) => void = () => {},
    private readonly gauge: { set(value: number): void } | null = null,
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Clients dropped for being too slow since start. */
  get droppedCount(): number {
    return this.dropped;
  }

  /**
   * Takes over the response as an event stream of `view`; false (nothing written) when the
   * cap is reached, so the caller can answer 503.
   */
  attach(response: ServerResponse, view: StreamView, headers: Readonly<Record<string, string>> = {}): boolean {
    if (this.clients.size >= this.options.maxClients) return false;
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    this.clients.set(response, view);
    this.gauge?.set(this.clients.size);
    response.on('close', () => this.detach(response));
    if (this.clients.size === 1) {
      this.keepAlive = setInterval(() => this.send(':\n\n', ':\n\n'), this.options.keepAliveMs ?? 20_000).unref();
      this.onClientsChanged(true);
    }
    return true;
  }

  /** Sends a batch of arrivals: serialized once per view, the same bytes written to every client. */
  publish(alerts: readonly StoredAlert[]): void {
    if (this.clients.size === 0) return;
    let publicChunk = '';
    let operatorChunk = '';
    let wantsOperator = false;
    for (const view of this.clients.values()) if (view === 'operator') wantsOperator = true;
    for (const alert of alerts) {
      if (alert.document.clientDomain) publicChunk += event(tickerEntry(alert));
      if (wantsOperator) operatorChunk += event(operatorEntry(alert));
    }
    this.send(publicChunk, operatorChunk);
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    for (const response of [...this.clients.keys()]) response.end();
    this.clients.clear();
    clearInterval(this.keepAlive);
  }

  private send(publicChunk: string, operatorChunk: string): void {
    const bytes = {
      public: publicChunk === '' ? null : Buffer.from(publicChunk),
      operator: operatorChunk === '' ? null : Buffer.from(operatorChunk),
    };
    const limit = this.options.maxQueuedBytes ?? 1 << 20;
    for (const [response, view] of this.clients) {
      const chunk = bytes[view];
      if (chunk === null) continue;
      if (response.writableLength + chunk.length > limit) {
        this.dropped++;
        response.destroy();
        this.detach(response);
        continue;
      }
      response.write(chunk);
    }
  }

  private detach(response: ServerResponse): void {
    if (!this.clients.delete(response)) return;
    this.gauge?.set(this.clients.size);
    if (this.clients.size === 0) {
      clearInterval(this.keepAlive);
      this.onClientsChanged(false);
    }
  }
}
