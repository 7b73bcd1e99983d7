/** An in-process LRU cache with per-entry lifetimes, bounded by entries and bytes. */
import type { CacheStore } from './cache-store';

interface Entry {
  readonly value: Buffer;
  readonly expires: number;
}

export class MemoryCache implements CacheStore {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private newest: string | undefined;

  constructor(private readonly maxEntries = 10_000, private readonly maxBytes = 64 * 1024 * 1024) {}

  /** Synchronous read for the hot path; also used by get(). */
  peek(key: string): Buffer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.delete(key, entry);
      return undefined;
    }
    // Map order is insertion order: re-inserting marks the entry most recently used (skipped
    // when it already is: a hot key is asked thousands of times a second).
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.newest = key;
    }
    return entry.value;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.peek(key);
  }

  put(key: string, value: Buffer, ttlSeconds: number): void {
    const old = this.entries.get(key);
    if (old) this.delete(key, old);
    if (value.length > this.maxBytes) return;
    this.entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
    this.newest = key;
    this.bytes += value.length;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.delete(oldest, entry);
    }
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    this.put(key, value, ttlSeconds);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  private delete(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.value.length;
  }
}
