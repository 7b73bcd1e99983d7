/**
 * Who is sending or asking: the configured community credentials, a user of the user store,
 * or nobody (CONTRACT section 5).
 */
import { LRUCache } from 'lru-cache';
import type { DataDomain } from '../domain/alert';
import type { AlertStore, UserRecord } from '../store/store';
import { secretsEqual, tokenMatches } from './tokens';

export interface CommunityCredentials {
  readonly username: string;
  readonly token: string;
}

export type Identity =
  | { readonly domain: Extract<DataDomain, 'community'>; readonly peerName: string }
  | { readonly domain: Extract<DataDomain, 'private'>; readonly peerName: string; readonly user: UserRecord };

/** A looked-up user, or its absence (the cache holds no undefined values). */
interface CachedUser {
  readonly user: UserRecord | undefined;
}

/** Where the cache reads the time: `performance` in production, a controllable clock in tests. */
export interface Clock {
  now(): number;
}

/** How long "no such user" is remembered, at most. */
const NEGATIVE_CACHE_MS = 3000;
/** Bounded so that a flood of made-up user names cannot grow memory. */
const MAX_CACHED_USERS = 10_000;

export class Authenticator {
  /** Bounded (least recently asked names dropped first); each entry expires after its lifetime. */
  private readonly cache: LRUCache<string, CachedUser>;

  /**
   * @param userCacheMs how long a looked-up user (or its absence) is trusted; a user removed
   *   with the CLI is refused at the latest this long after.
   */
  constructor(
    private readonly store: AlertStore,
    private readonly community: CommunityCredentials,
    private readonly userCacheMs = 30_000,
    clock: Clock = performance,
  ) {
    // ttlResolution 0: the clock is read at every question (by default a reading is reused for
    // 1 ms of real time, which a test's clock never moves past).
    this.cache = new LRUCache<string, CachedUser>({ max: MAX_CACHED_USERS, perf: clock, ttlResolution: 0 });
  }

  /** Are these the community credentials? Both parts are always compared, so timing says nothing about which was wrong. */
  isCommunity(username: string, token: string): boolean {
    const nameMatches = secretsEqual(username, this.community.username);
    const tokenIsCommunity = secretsEqual(token, this.community.token);
    return nameMatches && tokenIsCommunity;
  }

  async authenticate(username: string, token: string): Promise<Identity | null> {
    if (username === '' || token === '') return null;
    if (this.isCommunity(username, token)) return { domain: 'community', peerName: username };
    const user = await this.lookUp(username);
    if (!user || !tokenMatches(token, user.tokenHash)) return null;
    return { domain: 'private', peerName: user.peerName, user };
  }

  /** The user of the store with this name, if any (cached as for authentication). */
  async user(peerName: string): Promise<UserRecord | undefined> {
    return peerName === '' ? undefined : this.lookUp(peerName);
  }

  private async lookUp(peerName: string): Promise<UserRecord | undefined> {
    const cached = this.cache.get(peerName);
    if (cached) return cached.user;
    const user = await this.store.getUser(peerName);
    // An unknown name is remembered only briefly, so a user just added with the CLI can
    // connect within seconds even if it tried (and failed) a moment before.
    const lifetime = user ? this.userCacheMs : Math.min(this.userCacheMs, NEGATIVE_CACHE_MS);
    // A copy as key: the name is a slice of the request body, which must not outlive the request.
    // A lifetime of 0 would mean "forever" to the cache: nothing is kept then.
    if (lifetime > 0) this.cache.set(Buffer.from(peerName, 'utf8').toString('utf8'), { user }, { ttl: lifetime });
    return user;
  }
}
