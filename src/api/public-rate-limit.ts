/**
 * `PUBLIC_RATE_LIMIT`: at most that many requests per client address and minute to the public
 * endpoints (cache hits answered before routing included). Fixed one-minute windows starting
 * at an address's first request; per instance, in memory, an LRU of addresses.
 */
import { LRUCache } from 'lru-cache';

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

interface Window {
  readonly start: number;
  count: number;
}

export class PublicRateLimiter {
  private readonly windows = new LRUCache<string, Window>({ max: MAX_ADDRESSES });

  constructor(private readonly perMinute: number, private readonly now: () => number = () => Date.now()) {}

  /** Counts a request; 0 when it may be answered, else the seconds until the address may ask again. */
  take(address: string): number {
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || now - window.start >= WINDOW_MS) {
      window = { start: now, count: 0 };
      this.windows.set(address, window);
    }
    window.count++;
    return window.count <= this.perMinute ? 0 : Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
  }
}
