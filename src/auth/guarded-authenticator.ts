/**
 * Authentication from a client address, with the brute-force limit in front: what the ingest,
 * private and feed endpoints ask.
 */
import type { Authenticator, Identity } from './authenticator';
import { AuthFailureLimiter, credentialDigest } from './failure-limiter';

export interface GuardedOutcome {
  readonly identity: Identity | null;
  /** Set when the address failed too often: refuse with 429 and this Retry-After. */
  readonly retryAfterSeconds?: number;
}

export interface GuardOptions {
  /** Failures per address and minute before it is limited; 0 = no limit. */
  readonly failuresPerMinute: number;
  readonly now?: () => number;
  /** Told once each time an address becomes limited. */
  readonly onLimited?: (address: string) => void;
  /** Told of every request refused because its address is limited. */
  readonly onRefused?: () => void;
}

export class GuardedAuthenticator {
  private readonly limiter: AuthFailureLimiter | null;

  constructor(private readonly authenticator: Authenticator, private readonly options: GuardOptions) {
    this.limiter = options.failuresPerMinute > 0 ? new AuthFailureLimiter({ perMinute: options.failuresPerMinute, now: options.now }) : null;
  }

  /** `credentials` null: none were presented (not a guess, so not counted as a failure). */
  async authenticate(address: string, credentials: { username: string; token: string } | null): Promise<GuardedOutcome> {
    if (!credentials || credentials.username === '' || credentials.token === '') return { identity: null };
    const limiter = this.limiter;
    if (!limiter) return { identity: await this.authenticator.authenticate(credentials.username, credentials.token) };
    const digest = credentialDigest(credentials.username, credentials.token);
    const wait = limiter.retryAfterSeconds(address);
    if (wait > 0 && !this.authenticator.isCommunity(credentials.username, credentials.token) && !limiter.knows(address, digest)) {
      this.options.onRefused?.();
      return { identity: null, retryAfterSeconds: wait };
    }
    const identity = await this.authenticator.authenticate(credentials.username, credentials.token);
    if (identity?.domain === 'private') limiter.succeeded(address, digest);
    else if (!identity && limiter.failed(address)) this.options.onLimited?.(address);
    return { identity };
  }
}
