/**
 * The shapes of the firewall feeds: plain text, CSV, `ipset restore` and an nftables script.
 * The set formats replace the whole set in one load (ipset: a fresh set swapped in; nft: one
 * transaction), so a firewall never runs with half a list.
 */
import type { SourceActivity } from '../../domain/query';
import { Utf8Text } from '../../util/utf8-text';

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

/** The CSV classes field; one class (most sources) is quoted once per class name, not per line. */
const singleClassFields = new Map<string, string>();
function classesField(classes: readonly string[]): string {
  if (classes.length !== 1) return csvField(classes.join(';'));
  const only = classes[0]!;
  let field = singleClassFields.get(only);
  if (field === undefined) {
    field = csvField(only);
    // Classes come from a fixed list (enrich/classify) plus what old clusters hold: a few dozen.
    if (singleClassFields.size < 1000) singleClassFields.set(only, field);
  }
  return field;
}

/** The feed's body as UTF-8 bytes (built in chunks: Utf8Text says why). */
export function formatFeed(format: FeedFormat, sources: readonly SourceActivity[], shape: FeedShape): Buffer {
  const body = new Utf8Text();
  switch (format) {
    case 'txt':
      for (const s of sources) body.add(`${s.address}\n`);
      break;
    case 'csv':
      body.add('address,count,first_seen,last_seen,classes,sensors\n');
      for (const s of sources) body.add(`${s.address},${s.count},${s.firstSeen},${s.lastSeen},${classesField(s.peerTypes)},${s.sensors}\n`);
      break;
    case 'ipset':
      ipsetRestore(body, sources, shape);
      break;
    case 'nft':
      nftScript(body, sources, shape);
      break;
  }
  return body.bytes();
}

/**
 * For `ipset restore`: each family's addresses go into a temporary set that is then swapped
 * with the live one (created if missing) and destroyed, so the live set changes at once.
 */
function ipsetRestore(body: Utf8Text, sources: readonly SourceActivity[], { setName, families }: FeedShape): void {
  for (const family of families) {
    const live = `${setName}${family}`;
    const fresh = `${live}-new`;
    // Fixed options: `create -exist` accepts an existing set only when they are the same.
    const options = `hash:ip family ${family === 6 ? 'inet6' : 'inet'} hashsize 1024 maxelem ${IPSET_MAXELEM}`;
    body.add(`create ${live} ${options} -exist\ncreate ${fresh} ${options} -exist\nflush ${fresh}\n`);
    const add = `add ${fresh} `;
    for (const s of sources) if (isIpv6(s.address) === (family === 6)) body.add(`${add}${s.address}\n`);
    body.add(`swap ${fresh} ${live}\ndestroy ${fresh}\n`);
  }
}

/** For `nft -f`: one transaction that creates the table and sets if needed and replaces their elements. */
function nftScript(body: Utf8Text, sources: readonly SourceActivity[], { setName, families }: FeedShape): void {
  body.add('add table inet peba\n');
  for (const family of families) {
    const set = `${setName}${family}`;
    body.add(`add set inet peba ${set} { type ${family === 6 ? 'ipv6_addr' : 'ipv4_addr'}; }\nflush set inet peba ${set}\n`);
    // nft refuses an empty element list; an empty feed leaves the set flushed. 1000 elements a line.
    let inLine = 0;
    for (const s of sources) {
      if (isIpv6(s.address) !== (family === 6)) continue;
      body.add(inLine === 0 ? `add element inet peba ${set} { ${s.address}` : `, ${s.address}`);
      if (++inLine === 1000) {
        body.add(' }\n');
        inLine = 0;
      }
    }
    if (inLine > 0) body.add(' }\n');
  }
}
