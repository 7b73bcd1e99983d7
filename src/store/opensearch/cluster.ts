/**
 * HTTP to an OpenSearch (or Elasticsearch 7) cluster through undici: one keep-alive pool per
 * node, requests spread round robin, a node that fails at the connection level skipped for the
 * next request, credentials sent as Basic (`user:password`) or ApiKey (anything else).
 *
 * Plain HTTP rather than the maintained client: PEBA needs a dozen request shapes, builds its
 * `_bulk` bodies as one NDJSON string, and reads answers as plain JSON; undici gives the pool
 * and the deadline without another layer of serialization and option objects.
 */
import { Pool } from 'undici';
import { StoreUnavailableError } from '../store';

export class ClusterError extends Error {
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super(message);
  }
}

/**
 * The cluster did not answer (no node reachable, a deadline passed) or answered that it cannot
 * serve now: 5xx (`all shards failed` while a new index's shards are being allocated is a 503),
 * 429 (rejected execution).
 */
export class ClusterUnavailableError extends StoreUnavailableError {
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super(message);
  }
}

function failure(message: string, status: number, body: unknown): Error {
  return status === 0 || status === 429 || status >= 500
    ? new ClusterUnavailableError(message, status, body)
    : new ClusterError(message, status, body);
}

export interface ClusterOptions {
  /** Base URLs, `http(s)://host:port`. */
  readonly nodes: readonly string[];
  /** `user:password` (Basic) or an API key (base64 of `id:key`, sent as `ApiKey`). */
  readonly auth?: string;
  /** Deadline of one request, ms (ELASTICTIMEOUT). */
  readonly timeoutMs: number;
  /** Told the time of every `_bulk` (metrics). */
  readonly bulkObserver?: BulkObserver;
}

/** What a `_bulk` wrote: alerts (with their CVE pairs), payload counts, or deletions (retention). */
export type BulkPurpose = 'alerts' | 'payloads' | 'delete';

/** Told about every `_bulk` request: its purpose, whether the cluster answered it, and how long it took. */
export interface BulkObserver {
  bulkAnswered(purpose: BulkPurpose, ok: boolean, seconds: number): void;
}

/**
 * One item of a `_bulk` answer as `bulk` asks for it (BULK_FILTER): `_seq_no` and
 * `_primary_term` are there when the item was written, `error` when it was not.
 */
export interface BulkItem {
  status: number;
  _seq_no?: number;
  _primary_term?: number;
  error?: { type: string; reason: string };
}

/** Why a `_bulk` item failed, as the messages name it: `<error type or status>: <reason>`. */
export function itemFailure(result: BulkItem): string {
  return `${result.error?.type ?? result.status}: ${result.error?.reason ?? ''}`;
}

export interface BulkAnswer {
  errors: boolean;
  items: Array<Record<string, BulkItem>>;
}

export interface RequestOptions {
  /** Statuses returned as an answer instead of thrown (404 of a lookup, 409 of a conflict). */
  readonly accept?: readonly number[];
  /** A prepared NDJSON body (`_bulk`); `body` is sent as JSON otherwise. */
  readonly ndjson?: Buffer;
}

export interface Answer<T> {
  readonly status: number;
  readonly body: T;
}

function authorization(auth: string | undefined): string | undefined {
  if (auth === undefined || auth === '') return undefined;
  // user:password as the original's ELASTICSEARCH_HTTP_AUTH; an API key is one base64 token (no colon).
  return auth.includes(':') ? `Basic ${Buffer.from(auth).toString('base64')}` : `ApiKey ${auth}`;
}

/**
 * What a `_bulk` answer keeps of each item (`filter_path`): its outcome, the version it wrote and
 * the error. Unfiltered, every item also names its index, id, version, result and shard counts:
 * the node serializes and we parse about three times the bytes, for nothing (the caller knows
 * which document each item is by its position).
 */
const BULK_FILTER = 'errors,items.*.status,items.*._seq_no,items.*._primary_term,items.*.error.type,items.*.error.reason';

export class Cluster {
  private readonly pools: Pool[];
  private next = 0;
  private closed = false;
  private readonly headers: Record<string, string>;
  private readonly bulkObserver: BulkObserver | undefined;

  constructor(options: ClusterOptions) {
    this.bulkObserver = options.bulkObserver;
    if (options.nodes.length === 0) throw new Error('no OpenSearch node given');
    this.pools = options.nodes.map((node) => new Pool(node, {
      connections: 16,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 10_000) },
    }));
    const auth = authorization(options.auth);
    this.headers = auth === undefined ? {} : { authorization: auth };
  }

  /** Sends one request to the next node; a connection failure is tried once on each other node. */
  async request<T = unknown>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<Answer<T>> {
    const payload = options.ndjson ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers = payload === undefined ? this.headers
      : { ...this.headers, 'content-type': options.ndjson !== undefined ? 'application/x-ndjson' : 'application/json' };
    let lastError: unknown;
    for (let attempt = 0; attempt < this.pools.length; attempt++) {
      const index = this.next;
      this.next = (this.next + 1) % this.pools.length;
      let response;
      try {
        response = await this.pools[index]!.request({ method: method as 'GET', path, headers, body: payload });
      } catch (error) {
        lastError = error;
        continue;
      }
      let text: string;
      try {
        text = await response.body.text();
      } catch (error) {
        // the body did not arrive within the deadline, or the connection broke
        throw failure(`${method} ${path}: ${(error as Error).message}`, 0, undefined);
      }
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON (a proxy's error page): kept as text for the message
      }
      if (response.statusCode >= 400 && !(options.accept ?? []).includes(response.statusCode)) {
        throw failure(`${method} ${path}: ${response.statusCode} ${describe(parsed)}`, response.statusCode, parsed);
      }
      return { status: response.statusCode, body: parsed as T };
    }
    throw failure(`${method} ${path}: no node answered (${(lastError as Error | undefined)?.message ?? 'unknown'})`, 0, undefined);
  }

  /**
   * One `_bulk` of NDJSON lines (each action and source already serialized), timed for the
   * observer. Item failures are in the answer, item i answering the i-th action; a request
   * failure throws as `request` does.
   */
  async bulk(purpose: BulkPurpose, body: Buffer, refresh: string): Promise<BulkAnswer> {
    const started = performance.now();
    try {
      const answer = await this.request<BulkAnswer>('POST', `/_bulk?refresh=${refresh}&filter_path=${BULK_FILTER}`, undefined,
        { ndjson: body });
      this.bulkObserver?.bulkAnswered(purpose, true, (performance.now() - started) / 1000);
      return answer.body;
    } catch (error) {
      this.bulkObserver?.bulkAnswered(purpose, false, (performance.now() - started) / 1000);
      throw error;
    }
  }

  /** Closes the pools; again is a no-op. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.pools.map((pool) => pool.close()));
  }
}

function describe(body: unknown): string {
  const error = (body as { error?: { type?: string; reason?: string } } | undefined)?.error;
  if (error !== undefined && typeof error === 'object') return `${error.type ?? ''}: ${error.reason ?? ''}`;
  return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200) ?? '';
}
