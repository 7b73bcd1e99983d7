/**
 * Payload facts: what an attacker sent, decoded once, hashed for de-duplication, and sniffed
 * for a MIME type.
 */
import { isUtf8 } from 'node:buffer';
import { createHash, hash, type Hash } from 'node:crypto';
import type { PayloadSighting } from '../domain/alert';
import { completeUtf8Length } from '../util/utf8';
import type { PayloadSpool } from './payload-spool';

export interface DecodedPayload {
  readonly bytes: Buffer;
  readonly md5: string;
  /** The decoded text when it is an HTTP request, else null. */
  readonly httpRequest: string | null;
}

const HTTP_REQUEST_LINE = /^(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|TRACE|CONNECT|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|SEARCH) \S/;

/** One-shot `crypto.hash`: no Hash object per payload (hash objects were 5 % of the server's CPU in `bench:opensearch`). */
export function md5Hex(data: string | Buffer): string {
  return hash('md5', data, 'hex');
}

/** Decodes a base64 payload (line breaks and blanks inside are fine, as senders wrap it). */
export function decodePayload(base64: string): DecodedPayload {
  const bytes = Buffer.from(base64, 'base64');
  return { bytes, md5: md5Hex(bytes), httpRequest: asHttpRequest(bytes) };
}

function asHttpRequest(bytes: Buffer): string | null {
  if (bytes.length < 5 || !isUtf8(bytes)) return null;
  // Look at the request line before decoding the whole payload.
  const head = bytes.subarray(0, 16).toString('latin1');
  if (!HTTP_REQUEST_LINE.test(head)) return null;
  return bytes.toString('utf8');
}

/**
 * The "fuzzy" identity of an HTTP request: the same request sent to many sensors differs only
 * in its Host header, so hash the lower-cased request with the Host value blanked.
 */
export function fuzzyHttpHash(request: string): string {
  const normalized = request.toLowerCase().replace(/^host:[^\r\n]*/gm, 'host:');
  return hash('sha256', normalized, 'hex');
}

/** Leading bytes (as latin1 text) that identify a format, most specific first. */
const MAGIC: ReadonlyArray<readonly [string, string]> = [
  ['\x7fELF', 'application/x-executable'],
  ['MZ', 'application/x-dosexec'],
  ['PK\x03\x04', 'application/zip'],
  ['\x1f\x8b', 'application/gzip'],
  ['BZh', 'application/x-bzip2'],
  ['\xfd7zXZ\x00', 'application/x-xz'],
  ['7z\xbc\xaf\x27\x1c', 'application/x-7z-compressed'],
  ['Rar!\x1a\x07', 'application/x-rar'],
  ['%PDF-', 'application/pdf'],
  ['\x89PNG\r\n\x1a\n', 'image/png'],
  ['\xff\xd8\xff', 'image/jpeg'],
  ['GIF8', 'image/gif'],
  ['\xca\xfe\xba\xbe', 'application/java-vm'],
  ['\xd4\xc3\xb2\xa1', 'application/vnd.tcpdump.pcap'],
];

/**
 * A MIME type from the bytes alone, as libmagic would name the common cases. `complete` is
 * false when `bytes` are only the first bytes of the payload.
 */
export function sniffMimeType(bytes: Buffer, complete = true): string {
  if (bytes.length === 0) return 'application/x-empty';
  const head = bytes.subarray(0, 16).toString('latin1');
  for (const [magic, type] of MAGIC) if (head.startsWith(magic)) return type;
  const whole = complete ? bytes : bytes.subarray(0, completeUtf8Length(bytes));
  if (!isUtf8(whole) || hasBinaryControl(bytes)) return 'application/octet-stream';
  const text = bytes.subarray(0, 512).toString('utf8').trimStart().toLowerCase();
  if (text.startsWith('#!')) return 'text/x-shellscript';
  if (text.startsWith('<?php')) return 'text/x-php';
  if (text.startsWith('<?xml')) return 'text/xml';
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) return 'text/html';
  if (text.startsWith('{') || text.startsWith('[')) return complete && looksLikeJson(bytes) ? 'application/json' : 'text/plain';
  return 'text/plain';
}

function hasBinaryControl(bytes: Buffer): boolean {
  const limit = Math.min(bytes.length, 4096);
  for (let i = 0; i < limit; i++) {
    const b = bytes[i]!;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) return true;
  }
  return false;
}

function looksLikeJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** Bytes of a sample kept in memory to sniff its type. */
const SNIFF_BYTES = 4096;
/** Characters that carry no bits (Node's decoder takes the URL-safe alphabet too). */
const NOT_BASE64 = /[^A-Za-z0-9+/_-]/g;
/** What may wait for the next piece: up to 3 characters of the alphabet. */
const BASE64_CARRY = /^[A-Za-z0-9+/_-]{0,3}$/;

/**
 * A `Request type="largepayload"` sample (base64, up to 10 MB from ewsposter) decoded and
 * hashed piece by piece as the parser reads it: its bytes go to the message's spool while they
 * fit the payload store's size cap, and never all into memory.
 */
export class SampleDigest {
  private readonly hash: Hash = createHash('md5');
  /** Base64 characters of an incomplete quantum, waiting for the next piece. */
  private carry = '';
  private size = 0;
  private head: Buffer = Buffer.alloc(0);
  private readonly start: number;
  private spooling = true;

  constructor(private readonly spool: PayloadSpool, private readonly keepUpTo: number) {
    this.start = spool.end;
  }

  /** Takes the next piece of the sample's text; true when it was pure base64 (no padding either). */
  write(base64: string): boolean {
    if (this.writePure(base64)) return true;
    // Padding, line breaks and anything else outside the alphabet carry no bits.
    const clean = base64.replace(NOT_BASE64, '');
    const text = this.carry + clean;
    const usable = text.length - (text.length % 4);
    this.carry = text.slice(usable);
    if (usable > 0) this.take(Buffer.from(text.slice(0, usable), 'base64'));
    return false;
  }

  /** Takes the piece only if it is pure base64 (what ewsposter sends); false, taking nothing, otherwise. */
  writePure(base64: string): boolean {
    const text = this.carry === '' ? base64 : this.carry + base64;
    const usable = text.length - (text.length % 4);
    const bytes = Buffer.from(usable === text.length ? text : text.slice(0, usable), 'base64');
    // The decoder skips what is not in the alphabet and stops at padding: fewer bytes tell.
    if (bytes.length !== (usable / 4) * 3) return false;
    const rest = text.slice(usable);
    if (!BASE64_CARRY.test(rest)) return false;
    this.carry = rest;
    this.take(bytes);
    return true;
  }

  end(): PayloadSighting {
    if (this.carry.length > 1) this.take(Buffer.from(this.carry, 'base64'));
    this.carry = '';
    const md5 = this.hash.digest('hex');
    const content = this.spooling ? this.spool.seal(md5, this.start) : null;
    return { md5, fuzzyHash: null, mimeType: sniffMimeType(this.head, this.size <= this.head.length), size: this.size, content };
  }

  private take(bytes: Buffer): void {
    this.hash.update(bytes);
    this.size += bytes.length;
    if (this.head.length < SNIFF_BYTES) {
      this.head = Buffer.concat([this.head, bytes.subarray(0, SNIFF_BYTES - this.head.length)]);
    }
    if (!this.spooling) return;
    if (this.size > this.keepUpTo) {
      this.spooling = false;
      this.spool.truncate(this.start);
      return;
    }
    this.spool.append(bytes);
  }
}
