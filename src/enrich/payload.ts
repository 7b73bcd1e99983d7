/**
 * Payload facts: what an attacker sent, decoded once, hashed for de-duplication, and sniffed
 * for a MIME type.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';

/** Payloads larger than this are hashed but not kept in the payload store. */
export const MAX_STORED_PAYLOAD_BYTES = 5 * 1024 * 1024;

export interface DecodedPayload {
  readonly bytes: Buffer;
  readonly md5: string;
  /** The decoded text when it is an HTTP request, else null. */
  readonly httpRequest: string | null;
}

const HTTP_REQUEST_LINE = /^(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|TRACE|CONNECT|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|SEARCH) \S/;

export function md5Hex(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
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
  return createHash('sha256').update(normalized).digest('hex');
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

/** A MIME type from the bytes alone, as libmagic would name the common cases. */
export function sniffMimeType(bytes: Buffer): string {
  if (bytes.length === 0) return 'application/x-empty';
  const head = bytes.subarray(0, 16).toString('latin1');
  for (const [magic, type] of MAGIC) if (head.startsWith(magic)) return type;
  if (!isUtf8(bytes) || hasBinaryControl(bytes)) return 'application/octet-stream';
  const text = bytes.subarray(0, 512).toString('utf8').trimStart().toLowerCase();
  if (text.startsWith('#!')) return 'text/x-shellscript';
  if (text.startsWith('<?php')) return 'text/x-php';
  if (text.startsWith('<?xml')) return 'text/xml';
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) return 'text/html';
  if (text.startsWith('{') || text.startsWith('[')) return looksLikeJson(bytes) ? 'application/json' : 'text/plain';
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
