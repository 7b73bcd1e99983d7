/**
 * Bytes of a request body to text, chunk by chunk, in the encoding the document declares
 * (CONTRACT section 2, "text encodings"): a byte order mark, else the XML declaration's
 * `encoding`, else UTF-8. A byte sequence that is invalid in the encoding in force refuses the
 * message: storing U+FFFD in place of what a sensor sent would damage it silently, for good.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { completeUtf8Length } from '../util/utf8';
import { EwsMessageError } from './ews-message';

type Decode = (bytes: Buffer, final: boolean) => string;

/** How far we look for the end of an XML declaration before deciding there is none. */
const DECLARATION_WINDOW = 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export class BodyDecoder {
  private decodeChunk: Decode | null = null;
  /** Bytes seen before the encoding is known (at most DECLARATION_WINDOW). */
  private head: Buffer = Buffer.alloc(0);

  /** The text of `chunk`, possibly less or more (bytes of a split character wait for the next). */
  decode(chunk: Buffer): string {
    if (this.decodeChunk) return this.decodeChunk(chunk, false);
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    const decode = chooseDecoder(this.head, false);
    if (!decode) return '';
    return this.start(decode);
  }

  /** The text still held back; throws if the body ended inside a character. */
  end(): string {
    if (this.decodeChunk) return this.decodeChunk(Buffer.alloc(0), true);
    if (this.head.length === 0) return '';
    return this.start(chooseDecoder(this.head, true)!, true);
  }

  private start(decode: Decode, final = false): string {
    this.decodeChunk = decode;
    const head = this.head;
    this.head = Buffer.alloc(0);
    return decode(head, final);
  }
}

/**
 * The decoder for a body beginning with `head`, or null when more bytes are needed to see the
 * whole XML declaration (and `final` is false).
 */
function chooseDecoder(head: Buffer, final: boolean): Decode | null {
  if (head.length < 2 && !final) return null;
  if (head[0] === 0xff && head[1] === 0xfe) return utf16('utf-16le', head);
  if (head[0] === 0xfe && head[1] === 0xff) return utf16('utf-16be', head);
  // The start of a UTF-8 byte order mark: wait for the rest of it.
  if (head.length < 3 && !final && UTF8_BOM.subarray(0, head.length).equals(head)) return null;
  const declared = declaredEncoding(head, final);
  if (declared === undefined) return null;
  const hasUtf8Bom = head.subarray(0, 3).equals(UTF8_BOM);
  const name = declared?.toLowerCase() ?? 'utf-8';
  if (hasUtf8Bom && name !== 'utf-8' && name !== 'utf8') {
    throw new EwsMessageError(`the body starts with a UTF-8 byte order mark but declares encoding "${declared}"`, 400);
  }
  switch (name) {
    case 'utf-8':
    case 'utf8':
      return utf8(hasUtf8Bom);
    case 'iso-8859-1':
    case 'iso8859-1':
    case 'iso_8859-1':
    case 'latin1':
    case 'latin-1':
    case 'l1':
      // Every byte is a character of ISO-8859-1: the code point of the same number.
      return (bytes) => bytes.toString('latin1');
    case 'windows-1252':
    case 'cp1252':
      return windows1252();
    case 'us-ascii':
    case 'ascii':
      return (bytes) => {
        if (!isAscii(bytes)) throw invalidBytes('US-ASCII');
        return bytes.toString('latin1');
      };
    case 'utf-16':
    case 'utf-16le':
    case 'utf-16be':
      throw new EwsMessageError(`encoding "${declared}" needs a byte order mark`, 400);
    default:
      throw new EwsMessageError(`unsupported encoding "${declared}" (UTF-8, ISO-8859-1, windows-1252, US-ASCII or UTF-16 are)`, 400);
  }
}

/**
 * The `encoding` of the XML declaration at the start of `head`: null when there is no
 * declaration or it names none, undefined when its end has not arrived yet.
 */
function declaredEncoding(head: Buffer, final: boolean): string | null | undefined {
  const start = head.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
  // Read as latin1: the declaration is ASCII in every encoding we accept without a BOM.
  const text = head.toString('latin1', start, Math.min(head.length, start + DECLARATION_WINDOW));
  if (!'<?xml'.startsWith(text.slice(0, 5))) return null;
  if (text.length < 6) return final ? null : undefined;
  if (!/^<\?xml\s/.test(text)) return null;
  const end = text.indexOf('?>');
  if (end < 0) return final || text.length >= DECLARATION_WINDOW ? null : undefined;
  const match = /\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(text.slice(0, end));
  return match ? (match[1] ?? match[2])!.trim() : null;
}

function invalidBytes(encoding: string): EwsMessageError {
  return new EwsMessageError(`the body has bytes that are not valid ${encoding}, the encoding in force (declare the right one in the XML declaration)`, 400);
}

function utf8(skipBom: boolean): Decode {
  let carry: Buffer | null = null;
  let first = skipBom;
  return (chunk, final) => {
    let bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = null;
    if (first) {
      bytes = bytes.subarray(3);
      first = false;
    }
    const end = final ? bytes.length : completeUtf8Length(bytes);
    if (end < bytes.length) carry = Buffer.from(bytes.subarray(end));
    const complete = bytes.subarray(0, end);
    if (!isUtf8(complete)) throw invalidBytes('UTF-8');
    return complete.toString('utf8');
  };
}

function utf16(encoding: 'utf-16le' | 'utf-16be', head: Buffer): Decode {
  const declared = declaredInUtf16(head, encoding);
  if (declared !== null && !/^utf-?16(?:[lb]e)?$/i.test(declared)) {
    throw new EwsMessageError(`the body starts with a UTF-16 byte order mark but declares encoding "${declared}"`, 400);
  }
  const decoder = new TextDecoder(encoding, { fatal: true });
  return (chunk, last) => {
    try {
      return decoder.decode(chunk, { stream: !last });
    } catch {
      throw invalidBytes('UTF-16');
    }
  };
}

/** The declared encoding of a UTF-16 document, from its first bytes (null: none seen). */
function declaredInUtf16(head: Buffer, encoding: 'utf-16le' | 'utf-16be'): string | null {
  const even = head.subarray(2, 2 + Math.min(head.length - 2, DECLARATION_WINDOW * 2) & ~1);
  let text: string;
  try {
    text = new TextDecoder(encoding).decode(even);
  } catch {
    return null;
  }
  const end = text.indexOf('?>');
  if (!text.startsWith('<?xml') || end < 0) return null;
  const match = /\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(text.slice(0, end));
  return match ? (match[1] ?? match[2])!.trim() : null;
}

/**
 * windows-1252's characters for 0x80-0x9F (0 where it defines none); the other bytes are those of
 * ISO-8859-1. Node's TextDecoder reads windows-1252 as ISO-8859-1 (0x80 becomes U+0080, not €).
 */
const WINDOWS_1252_C1 = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

function windows1252(): Decode {
  return (bytes) => {
    const text = bytes.toString('latin1');
    if (!/[\x80-\x9f]/.test(text)) return text;
    return text.replace(/[\x80-\x9f]/g, (c) => {
      const code = WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!;
      if (code === 0) throw invalidBytes('windows-1252');
      return String.fromCharCode(code);
    });
  };
}
