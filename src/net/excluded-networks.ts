/**
 * Networks no firewall feed may ever contain (own networks, known research scanners), from a
 * file of addresses and CIDRs, one a line, `#` comments. Matching uses Node's BlockList.
 * The file is read again when it changes, so an operator edits it without a restart.
 */
import { statSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import { detachedString } from '../util/detached-string';

export class NetworkListError extends Error {}

/** Parses the file's text; throws NetworkListError naming the line of the first bad entry. */
export function parseNetworkList(text: string, fileName: string): BlockList {
  const list = new BlockList();
  text.split(/\r?\n/).forEach((line, index) => {
    const entry = line.replace(/#.*$/, '').trim();
    if (entry === '') return;
    const [address, prefixText, extra] = entry.split('/');
    const family = isIP(address!);
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= (family === 6 ? 128 : 32))) {
      throw new NetworkListError(`${fileName}:${index + 1}: expected an address or CIDR, got ${JSON.stringify(entry)}`);
    }
    list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  });
  return list;
}

/** Addresses whose answer is kept: a week of feed sources at a million alerts is some 76,000. */
const MEMO_SIZE = 200_000;

/** Whether an address is in the list's networks. */
export interface NetworkMatcher {
  contains(address: string): boolean;
}

/**
 * BlockList.check parses the address text at every call (3-5 µs on the shared machine: 0.25-0.35 s
 * for a week's 76,000 feed sources, bench/README.md), so an empty list answers without it and a
 * list's answers are kept per address text (the feeds ask about the same sources all day).
 */
function matcherOf(list: BlockList): NetworkMatcher {
  if (list.rules.length === 0) return { contains: () => false };
  const answers = new LRUCache<string, boolean>({ max: MEMO_SIZE });
  return {
    contains: (address) => {
      let inside = answers.get(address);
      if (inside === undefined) {
        inside = list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
        answers.set(detachedString(address), inside);
      }
      return inside;
    },
  };
}

export class ExcludedNetworks {
  private matcher: NetworkMatcher;
  private modified: number;

  /**
   * @param file path of the list; empty = nothing excluded.
   * @param onReloadError told when a changed file cannot be read or parsed (the old list stays).
   */
  constructor(private readonly file: string, private readonly onReloadError: (message: string) => void = () => {}) {
    this.matcher = matcherOf(file === '' ? new BlockList() : parseNetworkList(readFileSync(file, 'utf8'), file));
    this.modified = file === '' ? 0 : statSync(file).mtimeMs;
  }

  /** The current list, read again first when the file changed since: the same object until then. */
  current(): NetworkMatcher {
    if (this.file !== '') this.reloadIfChanged();
    return this.matcher;
  }

  private reloadIfChanged(): void {
    try {
      const modified = statSync(this.file).mtimeMs;
      if (modified === this.modified) return;
      // Noted first: a bad version is reported once, not on every request until it is fixed.
      this.modified = modified;
      this.matcher = matcherOf(parseNetworkList(readFileSync(this.file, 'utf8'), this.file));
    } catch (error) {
      this.onReloadError(`exclude list not reloaded, the previous one stays in force: ${(error as Error).message}`);
    }
  }
}
