/**
 * memcached shared by every PEBA instance, through memjs. Outages cost little: every operation
 * has a short deadline, and after a failure memcached is left alone for a moment (answers come
 * from the store meanwhile) before it is tried again. One warning per outage, one notice when
 * it is back.
 */
import memjs from 'memjs';
import type { CacheStore } from './cache-store';

export interface MemcachedOptions {
  /** `host:port[,host:port...]` */
  readonly servers: string;
  /** Deadline of one operation, ms. */
  readonly timeoutMs?: number;
  /** How long to leave memcached alone after a failure before trying again, ms. */
  readonly retryAfterMs?: number;
  readonly log?: { warn(message: string): void; info(message: string): void };
}

export class MemcachedCache implements CacheStore {
  readonly kind = 'memcached';
  private readonly client: memjs.Client;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  /** Where outage warnings go; settable because the server's logger exists only later. */
  log: MemcachedOptions['log'];
  private downSince = 0;
  private lastFailure = 0;

  constructor(private readonly options: MemcachedOptions) {
    this.log = options.log;
    this.timeoutMs = options.timeoutMs ?? 250;
    this.retryAfterMs = options.retryAfterMs ?? 1000;
    this.client = memjs.Client.create(options.servers, {
      timeout: this.timeoutMs / 1000,
      conntimeout: this.timeoutMs / 1000,
      retries: 0,
      // With several servers a dead one's keys move to the others, for as long as we rest.
      failover: options.servers.includes(','),
      failoverTime: this.retryAfterMs / 1000,
      keepAlive: true,
      logger: { log: () => {} },
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    if (this.resting()) return undefined;
    try {
      const { value } = await this.deadline(this.client.get(key));
      this.succeeded();
      return value ?? undefined;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    if (this.resting()) return;
    try {
      await this.deadline(this.client.set(key, value, { expires: Math.max(1, Math.ceil(ttlSeconds)) }));
      this.succeeded();
    } catch (error) {
      this.failed(error);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.deadline(this.client.get('peba:ping'));
      this.succeeded();
    } catch (error) {
      this.failed(error);
      throw error instanceof Error ? error : new Error(String(error));
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Within the pause after a failure: skip memcached, the store answers. */
  private resting(): boolean {
    return this.downSince !== 0 && Date.now() - this.lastFailure < this.retryAfterMs;
  }

  private deadline<T>(operation: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`memcached did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
  }

  private failed(error: unknown): void {
    this.lastFailure = Date.now();
    if (this.downSince === 0) {
      this.downSince = this.lastFailure;
      this.log?.warn(`memcached ${this.options.servers} unavailable, answering from the store: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private succeeded(): void {
    if (this.downSince !== 0) {
      this.log?.info(`memcached ${this.options.servers} is back after ${Math.round((Date.now() - this.downSince) / 1000)} s`);
      this.downSince = 0;
    }
  }
}
