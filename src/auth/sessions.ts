/**
 * Operator sessions of the dashboard: a signed cookie naming the user and its expiry. Nothing is
 * kept per session on the server, so any instance that shares SESSION_SECRET accepts it. The
 * signature also covers the user's token hash, so a new token (or a removed user) ends every
 * session of that user at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  readonly peerName: string;
  readonly expires: number;
}

export const SESSION_COOKIE = 'peba_session';

export class SessionSigner {
  private readonly secret: Buffer;

  /** @param secret shared by the instances behind one load balancer; empty = a random one for this process. */
  constructor(secret: string, private readonly lifetimeMs: number, private readonly clock: () => number = Date.now) {
    this.secret = secret === '' ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  get lifetimeSeconds(): number {
    return Math.floor(this.lifetimeMs / 1000);
  }

  /** The cookie value for a user that has just proven its token. */
  issue(peerName: string, tokenHash: string): string {
    const expires = this.clock() + this.lifetimeMs;
    const name = Buffer.from(peerName, 'utf8').toString('base64url');
    return `${name}.${expires}.${this.sign(name, expires, tokenHash)}`;
  }

  /** The claims of a cookie value, if well formed and unexpired; its signature is checked by `verify`. */
  read(value: string): SessionClaims | null {
    const match = /^([A-Za-z0-9_-]{1,400})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return null;
    const expires = Number(match[2]);
    if (expires <= this.clock()) return null;
    return { peerName: Buffer.from(match[1]!, 'base64url').toString('utf8'), expires };
  }

  /** True when `value` was issued by this secret for the user whose token hash is `tokenHash`. */
  verify(value: string, tokenHash: string): boolean {
    const claims = this.read(value);
    if (!claims) return false;
    const [name, , signature] = value.split('.');
    const expected = Buffer.from(this.sign(name!, claims.expires, tokenHash));
    const given = Buffer.from(signature!);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(name: string, expires: number, tokenHash: string): string {
    return createHmac('sha256', this.secret).update(`${name}.${expires}.${tokenHash}`).digest('base64url');
  }
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
