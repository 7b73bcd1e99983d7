/**
 * Brute force: an address that failed to authenticate `perMinute` times within a minute is
 * refused (429) until the oldest of those failures is a minute old. Per instance, in memory,
 * bounded (an LRU of addresses). Credentials that already worked from that address, and the
 * community's (public anyway), still pass: a sensor sharing its address with a guesser is
 * never slowed, and a guess is not even checked while the address is limited.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

const WINDOW_MS = 60_000;
/** Addresses remembered at once; the least recently seen are forgotten first. */
const MAX_ADDRESSES = 100_000;

export interface FailureLimiterOptions {
  readonly perMinute: number;
  /** The clock, epoch ms (tests pass their own). */
  readonly now?: () => number;
}

/** What the limiter remembers of credentials: a digest, never the token. */
export function credentialDigest(username: string, token: string): string {
  return createHash('sha256').update(username).update('\0').update(token).digest('base64');
}

export class AuthFailureLimiter {
  /** Times of each address's failures within the last minute, oldest first, at most perMinute. */
  private readonly failures = new LRUCache<string, number[]>({ max: MAX_ADDRESSES });
  /** `address NUL digest` of credentials that authenticated from the address. */
  private readonly verified = new LRUCache<string, true>({ max: MAX_ADDRESSES });
  private readonly now: () => number;

  constructor(private readonly options: FailureLimiterOptions) {
    // Read through Date each time, so a mocked clock (tests) is seen.
    this.now = options.now ?? (() => Date.now());
  }

  /** Seconds until the address may try again; 0 when it is not limited. */
  retryAfterSeconds(address: string): number {
    const times = this.failures.peek(address);
    if (!times || times.length < this.options.perMinute) return 0;
    const until = times[0]! + WINDOW_MS;
    const now = this.now();
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Records a failure; true when it is the one that makes the address limited (log it once). */
  failed(address: string): boolean {
    const now = this.now();
    const times = (this.failures.get(address) ?? []).filter((t) => t > now - WINDOW_MS);
    times.push(now);
    if (times.length > this.options.perMinute) times.shift();
    this.failures.set(address, times);
    return times.length === this.options.perMinute;
  }

  succeeded(address: string, digest: string): void {
    this.verified.set(`${address}\0${digest}`, true);
  }

  /** Did these credentials authenticate from this address before? */
  knows(address: string, digest: string): boolean {
    return this.verified.has(`${address}\0${digest}`);
  }
}
