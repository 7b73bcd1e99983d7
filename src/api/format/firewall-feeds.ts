/**
 * The shapes of the firewall feeds: plain text, CSV, `ipset restore` and an nftables script.
 * The set formats replace the whole set in one load (ipset: a fresh set swapped in; nft: one
 * transaction), so a firewall never runs with half a list.
 */
import type { SourceActivity } from '../../domain/query';

export type FeedFormat = 'txt' | 'csv' | 'ipset' | 'nft';

export const FEED_FORMATS: readonly FeedFormat[] = ['txt', 'csv', 'ipset', 'nft'];

export const FEED_CONTENT_TYPES: Readonly<Record<FeedFormat, string>> = {
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  ipset: 'text/plain; charset=utf-8',
  nft: 'text/plain; charset=utf-8',
};

export interface FeedShape {
  /** Base name of the sets; the IPv4 set is `<name>4`, the IPv6 set `<name>6`. */
  readonly setName: string;
  /** Which families get a set (both unless the feed was asked for one). */
  readonly families: ReadonlyArray<4 | 6>;
}

/** Most addresses an ipset set of the feed holds (the hash grows as needed up to this). */
export const IPSET_MAXELEM = 1_048_576;

const isIpv6 = (address: string): boolean => address.includes(':');

/** RFC 4180 quoting, and a leading quote for text a spreadsheet would run as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function lines(rows: string[]): string {
  return rows.length === 0 ? '' : `${rows.join('\n')}\n`;
}

export function formatFeed(format: FeedFormat, sources: readonly SourceActivity[], shape: FeedShape): string {
  switch (format) {
    case 'txt':
      return lines(sources.map((s) => s.address));
    case 'csv':
      return lines(['address,count,first_seen,last_seen,classes,sensors', ...sources.map((s) =>
        [s.address, String(s.count), s.firstSeen, s.lastSeen, csvField(s.peerTypes.join(';')), String(s.sensors)].join(','))]);
    case 'ipset':
      return ipsetRestore(sources, shape);
    case 'nft':
      return nftScript(sources, shape);
  }
}

/**
 * For `ipset restore`: each family's addresses go into a temporary set that is then swapped
 * with the live one (created if missing) and destroyed, so the live set changes at once.
 */
function ipsetRestore(sources: readonly SourceActivity[], { setName, families }: FeedShape): string {
  const rows: string[] = [];
  for (const family of families) {
    const addresses = sources.filter((s) => isIpv6(s.address) === (family === 6)).map((s) => s.address);
    const live = `${setName}${family}`;
    const fresh = `${live}-new`;
    // Fixed options: `create -exist` accepts an existing set only when they are the same.
    const options = `hash:ip family ${family === 6 ? 'inet6' : 'inet'} hashsize 1024 maxelem ${IPSET_MAXELEM}`;
    rows.push(`create ${live} ${options} -exist`, `create ${fresh} ${options} -exist`, `flush ${fresh}`);
    for (const address of addresses) rows.push(`add ${fresh} ${address}`);
    rows.push(`swap ${fresh} ${live}`, `destroy ${fresh}`);
  }
  return lines(rows);
}

/** For `nft -f`: one transaction that creates the table and sets if needed and replaces their elements. */
function nftScript(sources: readonly SourceActivity[], { setName, families }: FeedShape): string {
  const rows = ['add table inet peba'];
  for (const family of families) {
    const addresses = sources.filter((s) => isIpv6(s.address) === (family === 6)).map((s) => s.address);
    const set = `${setName}${family}`;
    rows.push(`add set inet peba ${set} { type ${family === 6 ? 'ipv6_addr' : 'ipv4_addr'}; }`, `flush set inet peba ${set}`);
    // nft refuses an empty element list; an empty feed leaves the set flushed.
    for (let i = 0; i < addresses.length; i += 1000) rows.push(`add element inet peba ${set} { ${addresses.slice(i, i + 1000).join(', ')} }`);
  }
  return lines(rows);
}
