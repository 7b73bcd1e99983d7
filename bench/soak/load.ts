/**
 * The soak's traffic, each kind with its own counters and every failure written to one error
 * book: sensors posting at a steady rate (ewsposter retries a failed message, so do they),
 * dashboards polling the public endpoints, live-stream clients, private queries.
 */
import http from 'node:http';
import { request } from '../cache/common';
import type { MessageGenerator } from '../ingest/messages';

const INGEST = '/ews-0.1/alert/postSimpleMessage';
const OK = '<Result><StatusCode>OK</StatusCode><Text></Text></Result>';
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Every error of the run, by kind, with when it happened (seconds into the run) and the first
 * examples. Errors while a disruption that makes them expected is under way (a store restart:
 * PEBA answers 503 until the store is back) are kept apart as excused.
 */
export class ErrorBook {
  private readonly kinds = new Map<string, { count: number; excused: boolean; first: number; last: number; examples: string[] }>();
  private excuse: string | null = null;

  constructor(private started: number) {}

  /** Counts times from `started` (the load begins after the server has started). */
  countFrom(started: number): void {
    this.started = started;
  }

  /** Errors from now on are expected because of `reason`, until `clearExcuse`. */
  setExcuse(reason: string): void {
    this.excuse = reason;
  }

  clearExcuse(): void {
    this.excuse = null;
  }

  /** What excuses errors right now, if anything. */
  get excusing(): string | null {
    return this.excuse;
  }

  record(kind: string, detail: string): void {
    const at = (Date.now() - this.started) / 1000;
    const key = this.excuse === null ? kind : `${kind} (${this.excuse})`;
    const entry = this.kinds.get(key) ?? { count: 0, excused: this.excuse !== null, first: at, last: at, examples: [] };
    entry.count++;
    entry.last = at;
    if (entry.examples.length < 3) entry.examples.push(detail.slice(0, 300));
    this.kinds.set(key, entry);
  }

  /** Errors not excused by a disruption. */
  get total(): number {
    let sum = 0;
    for (const entry of this.kinds.values()) if (!entry.excused) sum += entry.count;
    return sum;
  }

  get excused(): number {
    let sum = 0;
    for (const entry of this.kinds.values()) if (entry.excused) sum += entry.count;
    return sum;
  }

  lines(): string[] {
    return [...this.kinds].map(([kind, e]) =>
      `${e.excused ? '(excused) ' : ''}${kind}: ${e.count} (${e.first.toFixed(0)}-${e.last.toFixed(0)} s into the run), e.g. ${e.examples.join(' | ')}`);
  }
}

/** A stop signal for loops that pause: `sleep` ends early once `stop()` was called. */
class StopSignal {
  stopped = false;
  private readonly wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const wake of [...this.wakers]) wake();
  }
}

/**
 * Sensors: message number i (alerts i*size .. i*size+size-1) is due at start + i/messagesPerSecond,
 * whatever the answers take; a failed post is retried every `retrySeconds`, up to `retries`
 * times, as ewsposter keeps its spool. `acknowledged[i]` is 1 once message i was answered OK.
 */
export class Senders {
  readonly acknowledged: Uint8Array;
  sent = 0;
  retried = 0;
  private inFlight = 0;
  private readonly signal = new StopSignal();
  readonly latenciesMs: number[] = [];
  private loop: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly generator: MessageGenerator,
    private readonly options: { messagesPerSecond: number; alertsPerMessage: number; maxMessages: number; maxInFlight: number; retries: number; retrySeconds: number },
    private readonly errors: ErrorBook,
  ) {
    this.acknowledged = new Uint8Array(options.maxMessages);
  }

  get acknowledgedCount(): number {
    return this.acknowledged.reduce((sum, v) => sum + v, 0);
  }

  start(): void {
    const started = Date.now();
    const interval = 1000 / this.options.messagesPerSecond;
    const posts: Promise<void>[] = [];
    this.loop = (async () => {
      for (let index = 0; !this.signal.stopped && index < this.options.maxMessages; index++) {
        const wait = started + index * interval - Date.now();
        if (wait > 0) await this.signal.sleep(wait);
        if (this.signal.stopped) break;
        if (this.inFlight >= this.options.maxInFlight) {
          this.errors.record('sender fell behind', `message ${index} not sent: ${this.inFlight} posts unanswered`);
          continue;
        }
        this.sent = index + 1;
        posts.push(this.post(index));
      }
      await Promise.all(posts);
    })();
  }

  /** Stops sending new messages; resolves when every post (and its retries) has ended. */
  async stop(): Promise<void> {
    this.signal.stop();
    await this.loop;
  }

  private async post(index: number): Promise<void> {
    this.inFlight++;
    const body = this.generator.message(index, this.options.alertsPerMessage);
    try {
      for (let attempt = 0; attempt <= this.options.retries; attempt++) {
        if (attempt > 0) {
          this.retried++;
          await new Promise((resolve) => setTimeout(resolve, this.options.retrySeconds * 1000));
        }
        const began = performance.now();
        try {
          const reply = await request(this.url + INGEST, { method: 'POST', body, headers: { 'content-type': 'text/xml' }, timeoutMs: REQUEST_TIMEOUT_MS });
          if (reply.status === 200 && reply.body === OK) {
            this.latenciesMs.push(performance.now() - began);
            this.acknowledged[index] = 1;
            return;
          }
          this.errors.record(`post answered ${reply.status}`, `message ${index}: ${reply.body.slice(0, 200)}`);
        } catch (error) {
          this.errors.record('post failed', `message ${index}: ${(error as Error).message}`);
        }
      }
    } finally {
      this.inFlight--;
    }
  }
}

/** Periodic GETs (dashboards) and POSTs (private queries), each answer expected 200. */
export class Pollers {
  answered = 0;
  private readonly signal = new StopSignal();
  private loops: Promise<void>[] = [];

  constructor(private readonly url: string, private readonly errors: ErrorBook) {}

  /** `clients` loops, each sending the requests of `round()` one after another every `everyMs`. */
  add(kind: string, clients: number, everyMs: number, round: () => Array<{ path: string; body?: string }>): void {
    for (let c = 0; c < clients; c++) {
      this.loops.push((async () => {
        // Staggered, so the clients do not all ask in the same millisecond.
        await this.signal.sleep((everyMs * c) / clients);
        while (!this.signal.stopped) {
          const began = Date.now();
          for (const { path, body } of round()) {
            if (this.signal.stopped) break;
            try {
              const reply = await request(this.url + path, body === undefined ? { timeoutMs: REQUEST_TIMEOUT_MS } : { method: 'POST', body, timeoutMs: REQUEST_TIMEOUT_MS });
              if (reply.status === 200) this.answered++;
              else this.errors.record(`${kind} answered ${reply.status}`, `${path.split('?')[0]}: ${reply.body.slice(0, 200)}`);
            } catch (error) {
              this.errors.record(`${kind} failed`, `${path.split('?')[0]}: ${(error as Error).message}`);
            }
          }
          await this.signal.sleep(Math.max(0, everyMs - (Date.now() - began)));
        }
      })());
    }
  }

  async stop(): Promise<void> {
    this.signal.stop();
    await Promise.all(this.loops);
  }
}

/** Live-stream clients (`/dashboard/stream`); one that is cut off is an error and reconnects. */
export class StreamClients {
  events = 0;
  /** Alerts the stream left out of its sample (`skipped` events: more arrived than a batch shows). */
  skipped = 0;
  private readonly signal = new StopSignal();
  private readonly requests = new Set<http.ClientRequest>();
  private loops: Promise<void>[] = [];

  constructor(private readonly url: string, private readonly errors: ErrorBook) {}

  start(clients: number): void {
    for (let c = 0; c < clients; c++) {
      this.loops.push((async () => {
        while (!this.signal.stopped) {
          const problem = await this.listen();
          if (this.signal.stopped) break;
          this.errors.record('stream cut off', problem);
          await this.signal.sleep(1000);
        }
      })());
    }
  }

  /** One connection; resolves with what ended it. */
  private listen(): Promise<string> {
    return new Promise((resolve) => {
      const req = http.get(this.url + '/dashboard/stream', { headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(`HTTP ${res.statusCode}`);
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const block = pending.slice(0, end);
            if (block.includes('event: alert')) this.events++;
            else if (block.includes('event: skipped')) this.skipped += Number(/^data: (\d+)$/m.exec(block)?.[1] ?? 0);
            pending = pending.slice(end + 2);
          }
        });
        res.on('end', () => resolve('the server ended the stream'));
        res.on('error', (error) => resolve(error.message));
      });
      this.requests.add(req);
      req.on('error', (error) => resolve(error.message));
      req.on('close', () => this.requests.delete(req));
    });
  }

  async stop(): Promise<void> {
    this.signal.stop();
    for (const req of this.requests) req.destroy();
    await Promise.all(this.loops);
  }
}
