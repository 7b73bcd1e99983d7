import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ipv4ToNumber, ipv6Groups, type IpAddress } from '../net/address';

/*
 * Binary ASN range table, written by scripts/build-asn-table.ts from the @ip-location-db/asn CSVs.
 * Every number is a 32-bit unsigned integer in the byte order of the machine that built the file
 * (checked through BYTE_ORDER_MARK), so the loader can map typed arrays straight over the file.
 *
 *   header, 32 bytes:
 *     magic "PEBA-ASN" (8 bytes), byte-order mark 0x01020304, format version,
 *     ipv4 range count, ipv6 range count, AS count, organization byte length
 *   ipv4Start[ipv4Count]      first address of each range, sorted, ranges disjoint
 *   ipv4End[ipv4Count]        last address (inclusive)
 *   ipv4As[ipv4Count]         index into the AS table
 *   ipv6Start[ipv6Count * 4]  128-bit first address as four words, most significant first
 *   ipv6End[ipv6Count * 4]    128-bit last address (inclusive), same layout
 *   ipv6As[ipv6Count]         index into the AS table
 *   asNumber[asCount]         AS number
 *   orgOffset[asCount + 1]    organization i is orgBytes[orgOffset[i] .. orgOffset[i + 1])
 *   orgBytes                  UTF-8 organization names, concatenated
 *
 * IPv6 keeps all 128 bits: the source has ranges narrower than /64 (e.g. VeriSign's
 * 2001:500:30ff::30 single-address range), which a 64-bit key would merge into their neighbours.
 */

export const ASN_TABLE_MAGIC = 'PEBA-ASN';
export const ASN_TABLE_FORMAT_VERSION = 1;
export const ASN_TABLE_BYTE_ORDER_MARK = 0x01020304;
export const ASN_TABLE_HEADER_BYTES = 32;

/** Where `npm run build` puts the table: dist/geo/asn-table.bin (this file compiles to dist/src/enrich). */
export const DEFAULT_ASN_TABLE_FILE = path.resolve(__dirname, '../../geo/asn-table.bin');

export interface AsnEntry {
  readonly number: number;
  readonly organization: string;
}

export interface AsnTable {
  lookup(address: IpAddress): AsnEntry | undefined;
  readonly ipv4Ranges: number;
  readonly ipv6Ranges: number;
  readonly autonomousSystems: number;
}

/** Header fields, in file order after the magic. */
export interface AsnTableCounts {
  ipv4Count: number;
  ipv6Count: number;
  asCount: number;
  orgByteLength: number;
}

/** Total file size implied by the header; writer and reader share it so they cannot drift. */
export function asnTableByteLength(c: AsnTableCounts): number {
  const words = c.ipv4Count * 3 + c.ipv6Count * 9 + c.asCount * 2 + 1;
  return ASN_TABLE_HEADER_BYTES + words * 4 + c.orgByteLength;
}

function rebuildHint(file: string, problem: string): Error {
  return new Error(`ASN table ${file} ${problem}; run \`npm run build\` to (re)generate it`);
}

/** Loads the table with one read; lookups binary-search typed-array views over that buffer. */
export function openAsnTable(file: string = DEFAULT_ASN_TABLE_FILE): AsnTable {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw rebuildHint(file, 'is missing');
    throw err;
  }
  if (data.length < ASN_TABLE_HEADER_BYTES || data.toString('latin1', 0, 8) !== ASN_TABLE_MAGIC) {
    throw rebuildHint(file, 'is not an ASN table');
  }
  // Typed arrays need 4-byte aligned offsets; readFileSync normally returns an unpooled buffer at 0.
  if (data.byteOffset % 4 !== 0) data = Buffer.from(data);
  const header = new Uint32Array(data.buffer, data.byteOffset + 8, 6);
  if (header[0] !== ASN_TABLE_BYTE_ORDER_MARK) throw rebuildHint(file, 'was built on a machine of other byte order');
  if (header[1] !== ASN_TABLE_FORMAT_VERSION) throw rebuildHint(file, `has format version ${header[1]}`);
  const counts: AsnTableCounts = {
    ipv4Count: header[2]!, ipv6Count: header[3]!, asCount: header[4]!, orgByteLength: header[5]!,
  };
  if (data.length !== asnTableByteLength(counts)) throw rebuildHint(file, 'is truncated or corrupt');

  let offset = data.byteOffset + ASN_TABLE_HEADER_BYTES;
  const words = (n: number): Uint32Array => {
    const view = new Uint32Array(data.buffer, offset, n);
    offset += n * 4;
    return view;
  };
  const { ipv4Count, ipv6Count, asCount } = counts;
  const v4Start = words(ipv4Count);
  const v4End = words(ipv4Count);
  const v4As = words(ipv4Count);
  const v6Start = words(ipv6Count * 4);
  const v6End = words(ipv6Count * 4);
  const v6As = words(ipv6Count);
  const asNumber = words(asCount);
  const orgOffset = words(asCount + 1);
  const orgBase = offset - data.byteOffset;

  const entry = (as: number): AsnEntry => ({
    number: asNumber[as]!,
    organization: data.toString('utf8', orgBase + orgOffset[as]!, orgBase + orgOffset[as + 1]!),
  });

  function lookupV4(ip: number): AsnEntry | undefined {
    // Last range starting at or before ip; the ranges are disjoint, so only that one can hold it.
    let lo = 0;
    let hi = ipv4Count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (v4Start[mid]! <= ip) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && ip <= v4End[found]! ? entry(v4As[found]!) : undefined;
  }

  /** Compares the 128-bit value at words[row*4..] with (a,b,c,d): <0, 0, >0. */
  function compare6(table: Uint32Array, row: number, a: number, b: number, c: number, d: number): number {
    const i = row * 4;
    return (table[i]! - a) || (table[i + 1]! - b) || (table[i + 2]! - c) || (table[i + 3]! - d);
  }

  function lookupV6(g: number[]): AsnEntry | undefined {
    const a = ((g[0]! << 16) | g[1]!) >>> 0;
    const b = ((g[2]! << 16) | g[3]!) >>> 0;
    const c = ((g[4]! << 16) | g[5]!) >>> 0;
    const d = ((g[6]! << 16) | g[7]!) >>> 0;
    let lo = 0;
    let hi = ipv6Count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare6(v6Start, mid, a, b, c, d) <= 0) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && compare6(v6End, found, a, b, c, d) >= 0 ? entry(v6As[found]!) : undefined;
  }

  return {
    ipv4Ranges: ipv4Count,
    ipv6Ranges: ipv6Count,
    autonomousSystems: asCount,
    lookup: (address) =>
      address.version === 4 ? lookupV4(ipv4ToNumber(address.text)) : lookupV6(ipv6Groups(address.text)),
  };
}
