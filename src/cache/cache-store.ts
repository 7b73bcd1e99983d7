/**
 * Where cached answers live: in this process (LRU) or in memcached shared by every instance.
 * A cache store never throws from get/set: a cache that is down is a cache that misses.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'memcached';
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlSeconds: number): Promise<void>;
  /** Resolves when the cache answers, rejects with the reason otherwise (for the heartbeat). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
