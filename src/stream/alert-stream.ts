/**
 * The live stream (Server-Sent Events). Arrivals are sent in batches, at most one per
 * `flushMs`: each batch is serialized once per view and the same bytes are written to every
 * client of that view, so the cost per client is one socket write per batch, whatever the
 * ingest rate. A view carries at most `maxPerFlush` alerts per batch: above that (a flood no
 * screen could show), an evenly spread sample and a `skipped` event with the count of the rest.
 * Writing never waits: a client whose unsent bytes pile up beyond a bound is too slow and is
 * dropped (its browser reconnects), and the number of clients is capped.
 */
import type { ServerResponse } from 'node:http';
import type { StoredAlert } from '../domain/query';
import { tickerEntry } from '../api/format/alert-views';

/** The public view carries what retrieveAlertsJson carries (community alerts, no source address); the operator's carries more. */
export type StreamView = 'public' | 'operator';

export interface AlertStreamOptions {
  readonly maxClients: number;
  /** Most alerts of one view in one batch (the rest are counted in a `skipped` event). */
  readonly maxPerFlush?: number;
  /** Time between batches; 0 sends each publish at once (tests). */
  readonly flushMs?: number;
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

/** `count` alerts spread evenly over `alerts`, in order (all of them when there are fewer). */
function sample<T>(alerts: readonly T[], count: number): readonly T[] {
  if (alerts.length <= count) return alerts;
  return Array.from({ length: count }, (_, i) => alerts[Math.floor((i * alerts.length) / count)]!);
}

/** One view's part of a batch: its alerts as events, and a count of those left out. */
function viewChunk(alerts: readonly StoredAlert[], limit: number, entry: (alert: StoredAlert) => Record<string, unknown>): string {
  const shown = sample(alerts, limit);
  let chunk = '';
  for (const alert of shown) chunk += `event: alert\ndata: ${JSON.stringify(entry(alert))}\n\n`;
  if (shown.length < alerts.length) chunk += `event: skipped\ndata: ${alerts.length - shown.length}\n\n`;
  return chunk;
}

export class AlertStream {
  private readonly clients = new Map<ServerResponse, StreamView>();
  private keepAlive: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pending: StoredAlert[] = [];
  /** Alerts that did not even fit the pending buffer (a flood between two batches). */
  private overflow = 0;
  private dropped = 0;
  private lastFlush = 0;

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
      this.keepAlive = setInterval(() => this.send({ public: ':\n\n', operator: ':\n\n' }), this.options.keepAliveMs ?? 20_000).unref();
      this.onClientsChanged(true);
    }
    return true;
  }

  /** Queues arrivals for the next batch; never blocks and never grows without bound. */
  publish(alerts: readonly StoredAlert[]): void {
    if (this.clients.size === 0) return;
    const limit = this.maxPerFlush * 4;
    for (const alert of alerts) this.pending.push(alert);
    if (this.pending.length > limit) {
      this.overflow += this.pending.length - limit;
      this.pending = this.pending.slice(-limit);
    }
    const flushMs = this.options.flushMs ?? 250;
    if (flushMs === 0) this.flush();
    // A batch goes out as soon as the last one is flushMs old, not flushMs after this publish:
    // arrivals after a quiet spell go at once, and an alert waits at most one interval here.
    else this.flushTimer ??= setTimeout(() => this.flush(), Math.max(0, this.lastFlush + flushMs - Date.now())).unref();
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    for (const response of [...this.clients.keys()]) response.end();
    this.clients.clear();
    clearInterval(this.keepAlive);
    clearTimeout(this.flushTimer);
  }

  private get maxPerFlush(): number {
    return this.options.maxPerFlush ?? 50;
  }

  private flush(): void {
    this.flushTimer = undefined;
    // A batch that comes late (a busy event loop) may carry as much more as the time it waited.
    const now = Date.now();
    const flushMs = this.options.flushMs ?? 250;
    const allowed = flushMs === 0 ? this.maxPerFlush
      : Math.min(4 * this.maxPerFlush, Math.max(this.maxPerFlush, Math.round((this.maxPerFlush * (now - this.lastFlush)) / flushMs)));
    this.lastFlush = now;
    const alerts = this.pending;
    const overflow = this.overflow;
    this.pending = [];
    this.overflow = 0;
    if (alerts.length === 0 || this.clients.size === 0) return;
    let wantsOperator = false;
    for (const view of this.clients.values()) if (view === 'operator') wantsOperator = true;
    const skipped = (chunk: string): string => (overflow > 0 ? `${chunk}event: skipped\ndata: ${overflow}\n\n` : chunk);
    this.send({
      public: skipped(viewChunk(alerts.filter((a) => a.document.clientDomain), allowed, tickerEntry)),
      operator: wantsOperator ? skipped(viewChunk(alerts, allowed, operatorEntry)) : '',
    });
  }

  private send(chunks: Readonly<Record<StreamView, string>>): void {
    const bytes = {
      public: chunks.public === '' ? null : Buffer.from(chunks.public),
      operator: chunks.operator === '' ? null : Buffer.from(chunks.operator),
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
