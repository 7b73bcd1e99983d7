/*
 * Build step: converts the @ip-location-db/asn CSVs into the binary range table that
 * src/enrich/asn-table.ts maps at start-up (parsing ~30 MB of CSV per start is too slow).
 * Output is a pure function of the input, so re-running it rewrites an identical file.
 *
 *   node dist/scripts/build-asn-table.js [output file]
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ASN_TABLE_BYTE_ORDER_MARK, ASN_TABLE_FORMAT_VERSION, ASN_TABLE_HEADER_BYTES, ASN_TABLE_MAGIC,
  DEFAULT_ASN_TABLE_FILE, asnTableByteLength,
} from '../src/enrich/asn-table';

interface Range {
  start: bigint;
  end: bigint;
  as: number;
}

/**
 * Calls onRecord for every record of an RFC 4180 CSV text: comma separated, fields optionally
 * double-quoted, "" inside quotes is a literal quote, quoted fields may hold commas and newlines.
 */
export function parseCsv(text: string, onRecord: (fields: string[], line: number) => void): void {
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 byte-order mark is not data
  const n = text.length;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (quoted) {
      if (ch === 0x22 /* " */) {
        if (text.charCodeAt(i + 1) === 0x22) { field += '"'; i += 2; continue; }
        quoted = false;
        i++;
        continue;
      }
      // Copy the run up to the next quote in one slice instead of char by char.
      let j = text.indexOf('"', i);
      if (j < 0) j = n;
      const chunk = text.slice(i, j);
      for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
      field += chunk;
      i = j;
      continue;
    }
    if (ch === 0x22 && field.length === 0) { quoted = true; i++; continue; }
    if (ch === 0x2c /* , */) { fields.push(field); field = ''; i++; continue; }
    if (ch === 0x0a || ch === 0x0d) {
      fields.push(field);
      // Blank lines (including the one after a trailing newline) carry no record.
      if (fields.length > 1 || fields[0] !== '') onRecord(fields, recordLine);
      fields = [];
      field = '';
      if (ch === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      i++;
      line++;
      recordLine = line;
      continue;
    }
    // Unquoted run: take everything up to the next delimiter at once.
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x2c || c === 0x0a || c === 0x0d) break;
      j++;
    }
    field += text.slice(i, j);
    i = j;
  }
  if (quoted) throw new Error(`unterminated quoted field starting on line ${recordLine}`);
  fields.push(field);
  if (fields.length > 1 || fields[0] !== '') onRecord(fields, recordLine);
}

const DIGITS = /^[0-9]+$/;

/** Reads one `start,end,asn,org` CSV (numeric addresses) into ranges, interning AS entries. */
function readRanges(file: string, maxAddress: bigint, intern: (asn: number, org: string) => number): Range[] {
  const ranges: Range[] = [];
  parseCsv(readFileSync(file, 'utf8'), (fields, line) => {
    const fail = (problem: string): never => { throw new Error(`${file}:${line}: ${problem}`); };
    if (fields.length !== 4) fail(`expected 4 fields, got ${fields.length}`);
    const [startText, endText, asnText, org] = fields as [string, string, string, string];
    if (!DIGITS.test(startText) || !DIGITS.test(endText) || !DIGITS.test(asnText)) {
      fail('start, end and asn must be decimal integers');
    }
    const start = BigInt(startText);
    const end = BigInt(endText);
    const asn = Number(asnText);
    if (start > end || end > maxAddress) fail(`bad range ${startText}-${endText}`);
    if (asn > 0xffffffff) fail(`AS number ${asnText} does not fit 32 bits`);
    ranges.push({ start, end, as: intern(asn, org) });
  });
  return ranges;
}

/**
 * Turns possibly overlapping ranges into sorted, disjoint ones so a lookup needs only the last
 * range starting at or before the address. Where ranges overlap, the one starting later (the
 * more specific one when nested) wins; adjacent pieces of the same AS are merged.
 */
export function disjointRanges(input: Range[]): Range[] {
  // Start ascending, wider first on equal starts, so a nested range always comes after its parent.
  const sorted = [...input].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : x.end > y.end ? -1 : x.end < y.end ? 1 : 0));
  const out: Range[] = [];
  const emit = (start: bigint, end: bigint, as: number): void => {
    if (start > end) return;
    const last = out[out.length - 1];
    if (last && last.as === as && last.end + 1n === start) last.end = end;
    else out.push({ start, end, as });
  };
  // Open ranges, innermost on top; ends strictly decrease from bottom to top.
  const open: Range[] = [];
  let cursor = 0n; // first address not yet emitted
  for (const r of sorted) {
    // Emit and close what ends before r starts; an enclosing range resumes after its child.
    while (open.length > 0 && open[open.length - 1]!.end < r.start) {
      const top = open.pop()!;
      emit(cursor, top.end, top.as);
      cursor = top.end + 1n;
    }
    if (open.length > 0) emit(cursor, r.start - 1n, open[open.length - 1]!.as);
    cursor = r.start;
    // r covers the rest of any open range ending within it, so those never show again.
    while (open.length > 0 && open[open.length - 1]!.end <= r.end) open.pop();
    open.push(r);
  }
  while (open.length > 0) {
    const top = open.pop()!;
    emit(cursor, top.end, top.as);
    cursor = top.end + 1n;
  }
  return out;
}

export interface BuildResult {
  file: string;
  bytes: number;
  ipv4Ranges: number;
  ipv6Ranges: number;
  autonomousSystems: number;
}

/** Builds the table from the CSVs of the installed @ip-location-db/asn package. */
export function buildAsnTable(outFile: string = DEFAULT_ASN_TABLE_FILE): BuildResult {
  const dir = path.dirname(require.resolve('@ip-location-db/asn/package.json'));

  const asNumbers: number[] = [];
  const orgs: string[] = [];
  // Keyed by number, then organization: cheaper than building a combined string key per row.
  const asIndex = new Map<number, Map<string, number>>();
  const intern = (asn: number, org: string): number => {
    let byOrg = asIndex.get(asn);
    if (byOrg === undefined) asIndex.set(asn, byOrg = new Map());
    let index = byOrg.get(org);
    if (index === undefined) {
      index = asNumbers.length;
      byOrg.set(org, index);
      asNumbers.push(asn);
      orgs.push(org);
    }
    return index;
  };
  const v4 = disjointRanges(readRanges(path.join(dir, 'asn-ipv4-num.csv'), 0xffffffffn, intern));
  const v6 = disjointRanges(readRanges(path.join(dir, 'asn-ipv6-num.csv'), (1n << 128n) - 1n, intern));

  const orgBytes = orgs.map((o) => Buffer.from(o, 'utf8'));
  const counts = {
    ipv4Count: v4.length,
    ipv6Count: v6.length,
    asCount: asNumbers.length,
    orgByteLength: orgBytes.reduce((sum, b) => sum + b.length, 0),
  };
  const out = Buffer.alloc(asnTableByteLength(counts));
  // Buffer.alloc never uses the shared pool, so the view below starts 4-byte aligned at offset 0.
  const u32 = new Uint32Array(out.buffer, out.byteOffset, (out.length - counts.orgByteLength) >>> 2);
  out.write(ASN_TABLE_MAGIC, 0, 'latin1');
  let w = 2;
  for (const v of [ASN_TABLE_BYTE_ORDER_MARK, ASN_TABLE_FORMAT_VERSION, counts.ipv4Count, counts.ipv6Count,
    counts.asCount, counts.orgByteLength]) u32[w++] = v;
  w = ASN_TABLE_HEADER_BYTES / 4;
  for (const r of v4) u32[w++] = Number(r.start);
  for (const r of v4) u32[w++] = Number(r.end);
  for (const r of v4) u32[w++] = r.as;
  const put128 = (value: bigint): void => {
    for (let shift = 96n; shift >= 0n; shift -= 32n) u32[w++] = Number((value >> shift) & 0xffffffffn);
  };
  for (const r of v6) put128(r.start);
  for (const r of v6) put128(r.end);
  for (const r of v6) u32[w++] = r.as;
  for (const asn of asNumbers) u32[w++] = asn;
  let orgOffset = 0;
  u32[w++] = 0;
  for (const b of orgBytes) u32[w++] = orgOffset += b.length;
  let byte = w * 4;
  for (const b of orgBytes) byte += b.copy(out, byte);
  if (byte !== out.length) throw new Error(`internal error: wrote ${byte} of ${out.length} bytes`);

  // Write-then-rename so a running server or a parallel build never sees half a file.
  mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, outFile);
  return { file: outFile, bytes: out.length, ipv4Ranges: v4.length, ipv6Ranges: v6.length, autonomousSystems: asNumbers.length };
}

if (require.main === module) {
  const started = Date.now();
  const result = buildAsnTable(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(
    `asn table: ${result.ipv4Ranges} IPv4 + ${result.ipv6Ranges} IPv6 ranges, ${result.autonomousSystems} AS entries, ` +
    `${(result.bytes / 1048576).toFixed(1)} MiB -> ${path.relative(process.cwd(), result.file)} (${Date.now() - started} ms)`,
  );
}
