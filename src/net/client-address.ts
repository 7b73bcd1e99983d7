/**
 * The client's address behind reverse proxies (`TRUST_PROXY`). Fastify and the hit lane use the
 * same trust function, so every log line (and any later rate limit) names the same client.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';

/** `TRUST_PROXY`: null = trust no proxy (the peer is the client); else how to trust them. */
export type TrustProxy = { readonly hops: number } | { readonly proxies: readonly string[] } | null;

/** `(address, hop) => trusted`, as proxy-addr and Fastify's `trustProxy` take it; false = none. */
export type TrustFunction = (address: string, hop: number) => boolean;

export function trustFunction(trust: TrustProxy): TrustFunction | false {
  if (trust === null) return false;
  // Fastify's own numeric trustProxy trusts nothing (it cannot check the peer); we keep the
  // Express meaning: the nearest `hops` addresses are proxies, the next one is the client.
  if ('hops' in trust) return (_address, hop) => hop < trust.hops;
  return proxyAddr.compile([...trust.proxies]);
}

const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Throws when an entry is neither an address, a CIDR nor one of proxy-addr's range names. */
export function checkProxyList(proxies: readonly string[]): void {
  for (const proxy of proxies) {
    // proxy-addr also takes BSD shorthands such as `1.2.3`: an address must be written out.
    if (!RANGE_NAMES.has(proxy) && isIP(proxy.split('/', 1)[0]!) === 0) throw new Error(`${JSON.stringify(proxy)} is not an address`);
  }
  proxyAddr.compile([...proxies]);
}

/** The client address of a raw request, as Fastify's `request.ip` computes it with the same trust. */
export function clientAddressOf(trust: TrustFunction | false): (request: IncomingMessage) => string {
  if (trust === false) return (request) => request.socket.remoteAddress ?? '';
  return (request) => proxyAddr(request, trust);
}
