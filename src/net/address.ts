import { isIP } from 'node:net';

/** A validated IP address in canonical text form (IPv6 compressed and lower-case). */
export interface IpAddress {
  readonly text: string;
  readonly version: 4 | 6;
}

/**
 * Parses an address as a honeypot sends it. Zone ids and anything `net.isIP` refuses are
 * rejected; IPv6 is canonicalised so the same address always stores (and hashes) the same.
 */
export function parseAddress(raw: string): IpAddress | null {
  const text = raw.trim();
  if (text.length === 0 || text.length > 45 || text.includes('%')) return null;
  // Nearly every address is a dotted quad: read it without net.isIP's regular expression and
  // split/map/join (parseAddress was ~2 % of the server's CPU in bench:opensearch's ingest).
  const quad = canonicalIpv4Value(text);
  if (quad >= 0) {
    return { text: `${OCTETS[quad >>> 24]!}.${OCTETS[(quad >>> 16) & 0xff]!}.${OCTETS[(quad >>> 8) & 0xff]!}.${OCTETS[quad & 0xff]!}`, version: 4 };
  }
  const version = isIP(text);
  // Rebuilt from its octets rather than kept as given: the given text is a slice of the whole
  // request body, and a long-lived cache keyed by it would keep every body alive.
  if (version === 4) return { text: text.split('.').map(Number).join('.'), version: 4 };
  if (version === 6) {
    const groups = ipv6Groups(text);
    // IPv4-mapped (::ffff:a.b.c.d) is how a dual-stack socket reports an IPv4 peer: the same
    // host as a.b.c.d, so it is stored as that, and one address always has one text.
    if (isIpv4Mapped(groups)) return { text: mappedIpv4(groups), version: 4 };
    return { text: canonicalIpv6(groups), version: 6 };
  }
  return null;
}

/** Octets 0-255 as text, so a dotted quad is rebuilt by concatenation. */
const OCTETS = Array.from({ length: 256 }, (_, i) => String(i));

function isIpv4Mapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

function canonicalIpv6(groups: readonly number[]): string {
  // RFC 5952: compress the longest run (length >= 2) of zero groups, first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** The eight 16-bit groups of a valid IPv6 address (embedded IPv4 tails included). */
export function ipv6Groups(text: string): number[] {
  let body = text.toLowerCase();
  const lastColon = body.lastIndexOf(':');
  if (body.indexOf('.', lastColon) >= 0) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) is two more 16-bit groups.
    const v4 = ipv4ToNumber(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const gap = body.indexOf('::');
  if (gap < 0) return parse(body);
  const left = parse(body.slice(0, gap));
  const right = parse(body.slice(gap + 2));
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function mappedIpv4(groups: readonly number[]): string {
  return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
}

export function ipv4ToNumber(text: string): number {
  // Every stored address is canonical: read without split (GeoIP and ASN lookups, every alert).
  const value = canonicalIpv4Value(text);
  return value >= 0 ? value : ipv4ToNumberBySplit(text);
}

function ipv4ToNumberBySplit(text: string): number {
  const parts = text.split('.');
  return ((+parts[0]! << 24) | (+parts[1]! << 16) | (+parts[2]! << 8) | +parts[3]!) >>> 0;
}

/** [first address, prefix length] of IPv4 ranges that are not on the public internet. */
const IPV4_NON_PUBLIC: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
];
/** Masks and masked bases, as int32 so `n & mask` compares without conversions (a hot loop). */
const IPV4_NON_PUBLIC_MASKS = Int32Array.from(IPV4_NON_PUBLIC.map(([, bits]) => (bits === 0 ? 0 : 0xffffffff << (32 - bits))));
const IPV4_NON_PUBLIC_BASES = Int32Array.from(IPV4_NON_PUBLIC.map(([base], i) => ipv4ToNumber(base) & IPV4_NON_PUBLIC_MASKS[i]!));

function isPublicIpv4Number(n: number): boolean {
  for (let i = 0; i < IPV4_NON_PUBLIC_MASKS.length; i++) {
    if ((n & IPV4_NON_PUBLIC_MASKS[i]!) === IPV4_NON_PUBLIC_BASES[i]) return false;
  }
  return true;
}

/** IPv6 non-public ranges as [groups prefix, prefix length]. */
const IPV6_NON_PUBLIC: ReadonlyArray<readonly [string, number]> = [
  ['::', 128], ['::1', 128], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23],
  ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
];

function inIpv6Prefix(groups: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const width = Math.min(16, bits);
    const mask = (0xffff << (16 - width)) & 0xffff;
    if ((groups[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}
const IPV6_NON_PUBLIC_GROUPS = IPV6_NON_PUBLIC.map(([p, bits]) => [ipv6Groups(p), bits] as const);

/**
 * True when the address is routable on the public internet: not private, loopback,
 * link-local, documentation, multicast or otherwise reserved (IANA special-purpose registries).
 */
export function isPublicAddress(address: IpAddress): boolean {
  if (address.version === 4) {
    return isPublicIpv4Number(ipv4ToNumber(address.text));
  }
  const groups = ipv6Groups(address.text);
  // Stored before mapped addresses were unmapped: as public as the IPv4 address they carry.
  if (isIpv4Mapped(groups)) {
    return isPublicAddress({ text: mappedIpv4(groups), version: 4 });
  }
  return !IPV6_NON_PUBLIC_GROUPS.some(([prefix, bits]) => inIpv6Prefix(groups, prefix, bits));
}

/**
 * isPublicAddress for a stored address text, without parsing it into an object: undefined when
 * the text is not a dotted quad in canonical form (no leading zeros), so the caller parses it.
 * A bad-IP list checks thousands of stored sources per request.
 */
export function isPublicIpv4Text(text: string): boolean | undefined {
  const value = canonicalIpv4Value(text);
  return value < 0 ? undefined : isPublicIpv4Number(value);
}

/**
 * The 32-bit value of a dotted quad in canonical form (four decimal octets up to 255 without
 * leading zeros: the IPv4 net.isIP accepts), or -1 for any other text. test/address-fast-paths
 * holds the callers to net.isIP's and split's answers.
 */
function canonicalIpv4Value(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || octet > 255 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3 && !(digits === 1 && octet === 0)) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0 || octet > 255) return -1;
  return value * 256 + octet;
}
