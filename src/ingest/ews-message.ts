/**
 * Reads an `EWS-SimpleMessage` document into plain strings, refusing anything that is not a
 * well-formed, DTD-free XML document. Semantic checks (addresses, times) come after, per alert,
 * in alert-validation.ts, so one bad alert does not spoil its message.
 */
import { SaxesParser } from 'saxes';
import type { PayloadSighting } from '../domain/alert';

export interface Credentials {
  readonly username: string;
  readonly token: string;
}

export interface RawEndpoint {
  address: string;
  port: string;
  protocol: string;
}

/** An `<Alert>` as written, nothing interpreted yet. */
export interface RawAlert {
  analyzerId: string;
  createTime: string | undefined;
  timezone: string | undefined;
  source: RawEndpoint | undefined;
  target: RawEndpoint | undefined;
  requests: Map<string, string>;
  additional: Map<string, string>;
  sample: PayloadSighting | undefined;
}

export interface EwsMessage {
  readonly credentials: Credentials | null;
  readonly alerts: RawAlert[];
}

/** A message refused as a whole; `statusCode` is the HTTP status to answer with. */
export class EwsMessageError extends Error {
  constructor(message: string, readonly statusCode: number) {
    super(message);
  }
}

export interface ParseLimits {
  /** More alerts than this refuses the message (the sender should split its batch). */
  readonly maxAlerts: number;
  /**
   * Most bytes of a message held while it is read (413 above): everything but the samples of
   * an authenticated sender, which are hashed as they arrive and not held.
   */
  readonly maxHeldBytes: number;
  /** Most base64 characters of one `largepayload` sample (413 above). */
  readonly maxSampleChars: number;
}

/** Opens the digest of one `largepayload` sample; without one, samples are held like any text. */
export type SampleSink = () => SampleDigest;

/** Takes a sample's base64 text piece by piece. */
export interface SampleDigest {
  /** Takes the next piece; true when it was pure base64. */
  write(base64: string): boolean;
  /** Takes the piece only if it is pure base64; false, taking nothing, otherwise. */
  writePure(base64: string): boolean;
  end(): PayloadSighting;
}

const ROOT = 'EWS-SimpleMessage';
const LARGE_PAYLOAD = 'largepayload';

/**
 * The element names the reader acts on, as numbers: each name the parser reports is compared with
 * them once, when its element opens, and the reader works on the numbers after that. The names
 * are fresh strings (the longer ones slices of the body), and comparing or hashing one costs
 * ~45 ns: comparing names at every open and close (and hashing them for a Set) was the reader's
 * largest cost in bench:opensearch's server profile (ingest phase, ~1 µs an alert).
 */
const OTHER = 0;
const EWS_MESSAGE = 1;
const ALERT = 2;
const AUTHENTICATION = 3;
const USERNAME = 4;
const TOKEN = 5;
const ANALYZER = 6;
const CREATE_TIME = 7;
const SOURCE = 8;
const TARGET = 9;
const REQUEST = 10;
const ADDITIONAL_DATA = 11;
type Kind = number;

/** The kind of an element name: OTHER unless it is exactly one of the names above. */
function kindOf(name: string): Kind {
  // The length and one character pick the one candidate; only that one is compared whole.
  switch (name.length) {
    case 5: return name.charCodeAt(0) === 0x41 ? (name === 'Alert' ? ALERT : OTHER) : name === 'token' ? TOKEN : OTHER;
    case 6: return name.charCodeAt(0) === 0x53 ? (name === 'Source' ? SOURCE : OTHER) : name === 'Target' ? TARGET : OTHER;
    case 7: return name === 'Request' ? REQUEST : OTHER;
    case 8: return name.charCodeAt(0) === 0x41 ? (name === 'Analyzer' ? ANALYZER : OTHER) : name === 'username' ? USERNAME : OTHER;
    case 10: return name === 'CreateTime' ? CREATE_TIME : OTHER;
    case 14: return name.charCodeAt(1) === 0x64 ? (name === 'AdditionalData' ? ADDITIONAL_DATA : OTHER) : name === 'Authentication' ? AUTHENTICATION : OTHER;
    case 17: return name === ROOT ? EWS_MESSAGE : OTHER;
    default: return OTHER;
  }
}

/** Elements of an `<Alert>` whose text we keep. Everything else is skipped. */
function isAlertText(kind: Kind): boolean {
  return kind === CREATE_TIME || kind === SOURCE || kind === TARGET || kind === REQUEST || kind === ADDITIONAL_DATA;
}

/**
 * Reads a message as its text arrives, piece by piece. Throws EwsMessageError for input that is
 * not XML, has a DOCTYPE or entity declaration, has the wrong root element, or exceeds the limits.
 * `credentialsComplete` turns true once `</Authentication>` has been read, so the caller can
 * authenticate before reading on.
 */
export class EwsMessageReader {
  private readonly parser = new SaxesParser({ position: false, xmlns: false });
  private credentials: { username: string; token: string } | null = null;
  private authenticationClosed = false;
  private readonly alerts: RawAlert[] = [];
  /** The kinds of the open elements, outermost first. */
  private readonly stack: Kind[] = [];
  private alert: RawAlert | null = null;
  private text: string | null = null;
  private attributes: Record<string, string> = {};
  private sawRoot = false;
  private sawContent = false;
  /** Bytes given to the parser that it or we may still hold. */
  private held = 0;
  /** Samples are exempt from maxHeldBytes only once the sender is known. */
  private trusted = false;
  /** The sample being read, and whether every character since its start tag was its text. */
  private sample: { digest: ReturnType<SampleSink>; alert: RawAlert; chars: number } | null = null;
  private samplePlain = false;
  /**
   * Whether all of the sample so far was pure base64 with nothing pending in the parser: then a
   * piece that is pure base64 too is taken straight, without the parser (which would only gather
   * it, character by character, for us to drain).
   */
  private sampleClean = false;
  /** The end of the text before the root element so far (null once the root has started). */
  private prologTail: string | null = '';

  constructor(private readonly limits: ParseLimits, private readonly openSample?: SampleSink) {
    const parser = this.parser;
    parser.on('doctype', () => {
      throw new EwsMessageError('DOCTYPE and ENTITY declarations are not accepted', 400);
    });
    parser.on('opentag', (tag) => this.openTag(tag.name, tag.attributes as Record<string, string>));
    const onText = (chunk: string): void => {
      if (this.sample && this.stack.length === 3) {
        this.feedSample(chunk);
        this.samplePlain = false;
      } else if (this.text !== null) this.text += chunk;
    };
    parser.on('text', onText);
    parser.on('cdata', onText);
    // saxes reports the close of the innermost open element (a mismatched end tag is an error):
    // its kind is on top of the stack.
    parser.on('closetag', () => this.closeTag());
  }

  /** True once `</Authentication>` has been read. */
  get credentialsComplete(): boolean {
    return this.authenticationClosed;
  }

  get sentCredentials(): Credentials | null {
    return this.credentials;
  }

  /** The sender is authenticated: from now on its samples are not counted as held. */
  trust(): void {
    this.trusted = true;
  }

  /** Reads the next piece of the document; `bytes` is what it cost on the wire. */
  write(text: string, bytes = text.length): void {
    if (text === '') return;
    this.held += bytes;
    if (this.sample && this.sampleClean) {
      if (this.sample.digest.writePure(text)) {
        this.countSample(text.length);
        this.checkHeld();
        return;
      }
      this.sampleClean = false;
    }
    if (!this.sawContent && /\S/.test(text)) this.sawContent = true;
    if (this.prologTail !== null) this.checkProlog(text);
    const sampleBefore = this.sample;
    try {
      this.parser.write(text);
    } catch (error) {
      throw asMessageError(error);
    }
    // The parser gathers a text node whole; a sample's text is drained from it after each piece,
    // so it never holds a whole sample. Only while nothing but the sample's text came since its
    // start tag: then what the parser has gathered is that text.
    if (this.sample && this.samplePlain) {
      if (this.sample !== sampleBefore) {
        const tail = textAfterLastTag(text);
        if (tail === null) this.samplePlain = false;
        else this.drainSample(tail);
      } else if (text.includes('<')) this.samplePlain = false;
      else this.drainSample(null);
    }
    this.checkHeld();
  }

  private checkHeld(): void {
    if (this.held > this.limits.maxHeldBytes) {
      throw new EwsMessageError(`request body larger than ${this.limits.maxHeldBytes} bytes (not counting largepayload samples)`, 413);
    }
  }

  /** Ends the document; returns what was read. */
  close(): EwsMessage {
    if (!this.sawContent) throw new EwsMessageError('empty request body', 400);
    try {
      this.parser.close();
    } catch (error) {
      throw asMessageError(error);
    }
    if (!this.sawRoot) throw new EwsMessageError('empty document', 400);
    return { credentials: this.credentials, alerts: this.alerts };
  }

  /**
   * Cheap, early refusal of DTDs: nothing legitimate sends one, and refusing before parsing means
   * entity tricks (billion laughs, external entities) never reach the parser, in any letter case.
   */
  private checkProlog(text: string): void {
    const rootAt = elementStart(text);
    const prolog = this.prologTail + (rootAt < 0 ? text : text.slice(0, rootAt));
    if (/<!DOCTYPE|<!ENTITY/i.test(prolog)) {
      throw new EwsMessageError('DOCTYPE and ENTITY declarations are not accepted', 400);
    }
    this.prologTail = rootAt < 0 ? prolog.slice(-8) : null;
  }

  private openTag(name: string, attributes: Record<string, string>): void {
    const parent = this.stack[this.stack.length - 1];
    const kind = kindOf(name);
    this.stack.push(kind);
    if (this.stack.length === 1) {
      if (kind !== EWS_MESSAGE) throw new EwsMessageError(`root element must be ${ROOT}, not ${name}`, 400);
      this.sawRoot = true;
      this.prologTail = null;
      return;
    }
    if (parent === EWS_MESSAGE && kind === ALERT) {
      if (this.alerts.length >= this.limits.maxAlerts) {
        throw new EwsMessageError(`more than ${this.limits.maxAlerts} alerts in one message`, 413);
      }
      this.alert = {
        analyzerId: '', createTime: undefined, timezone: undefined, source: undefined,
        target: undefined, requests: new Map(), additional: new Map(), sample: undefined,
      };
      this.alerts.push(this.alert);
    } else if (parent === EWS_MESSAGE && kind === AUTHENTICATION) {
      this.credentials ??= { username: '', token: '' };
    } else if (parent === AUTHENTICATION && (kind === USERNAME || kind === TOKEN)) {
      this.text = '';
    } else if (parent === ALERT && this.alert) {
      if (kind === ANALYZER) this.alert.analyzerId = String(attributes['id'] ?? '');
      else if (kind === REQUEST && attributes['type'] === LARGE_PAYLOAD && this.openSample && !this.alert.sample) {
        this.sample = { digest: this.openSample(), alert: this.alert, chars: 0 };
        this.samplePlain = true;
        this.sampleClean = false;
      } else if (isAlertText(kind)) {
        this.text = '';
        this.attributes = attributes;
      }
    }
  }

  private closeTag(): void {
    const kind = this.stack.pop();
    const parent = this.stack[this.stack.length - 1];
    if (this.sample && this.stack.length === 2) {
      this.sample.alert.sample = this.sample.digest.end();
      this.sample = null;
      return;
    }
    if (this.text === null) {
      if (kind === ALERT && parent === EWS_MESSAGE) this.alert = null;
      if (kind === AUTHENTICATION && parent === EWS_MESSAGE) this.authenticationClosed = true;
      return;
    }
    const value = this.text;
    this.text = null;
    const credentials = this.credentials;
    if (parent === AUTHENTICATION && credentials) {
      if (kind === USERNAME) credentials.username = value.trim();
      else credentials.token = value.trim();
      return;
    }
    const alert = this.alert;
    // Only direct children of <Alert> count; anything nested deeper is ignored.
    if (!alert || parent !== ALERT) return;
    const attributes = this.attributes;
    switch (kind) {
      case CREATE_TIME:
        alert.createTime = value.trim();
        alert.timezone = attributes['tz'];
        break;
      case SOURCE:
      case TARGET: {
        const endpoint = { address: value.trim(), port: (attributes['port'] ?? '').trim(), protocol: (attributes['protocol'] ?? '').trim() };
        if (kind === SOURCE) alert.source = endpoint;
        else alert.target = endpoint;
        break;
      }
      case REQUEST: {
        const type = attributes['type'] ?? '';
        if (!alert.requests.has(type)) alert.requests.set(type, value);
        break;
      }
      case ADDITIONAL_DATA:
        alert.additional.set(attributes['meaning'] ?? '', value);
        break;
    }
  }

  /**
   * Takes the sample text the parser has gathered since the last drain. `tail` is, for the piece
   * in which the start tag came, what followed the tag: the gathered text must be exactly that.
   */
  private drainSample(tail: string | null): void {
    const internals = this.parser as unknown as { text: string };
    const gathered = internals.text;
    if (tail !== null && gathered !== tail) {
      this.samplePlain = false;
      return;
    }
    internals.text = '';
    const pure = gathered === '' || this.feedSample(gathered);
    // Right after the start tag, all the parser saw was this text: pure base64 leaves it with
    // nothing pending (no entity, no carried line break).
    if (tail !== null) this.sampleClean = pure;
  }

  /** Gives the sample text to its digest; true when it was pure base64. */
  private feedSample(base64: string): boolean {
    this.countSample(base64.length);
    return this.sample!.digest.write(base64);
  }

  private countSample(chars: number): void {
    const sample = this.sample!;
    sample.chars += chars;
    if (sample.chars > this.limits.maxSampleChars) {
      throw new EwsMessageError(`a largepayload sample larger than ${this.limits.maxSampleChars} characters`, 413);
    }
    if (this.trusted) this.held -= chars;
  }
}

/** Parses a whole message held as one string (see EwsMessageReader). */
export function parseEwsMessage(xml: string, limits: Pick<ParseLimits, 'maxAlerts'>): EwsMessage {
  const reader = new EwsMessageReader({ maxHeldBytes: Infinity, maxSampleChars: Infinity, ...limits });
  reader.write(xml);
  return reader.close();
}

/** Where the first element starts in `text` (CDATA may quote a DTD later), or -1. */
function elementStart(text: string): number {
  for (let at = text.indexOf('<'); at >= 0; at = text.indexOf('<', at + 1)) {
    const next = text.charCodeAt(at + 1);
    const isNameStart = (next >= 65 && next <= 90) || (next >= 97 && next <= 122) || next === 95 || next === 58;
    if (isNameStart) return at;
  }
  return -1;
}

/**
 * What follows the last markup of `text` (all of it after the first '>' when no markup starts
 * in it); null when the last markup has not ended.
 */
function textAfterLastTag(text: string): string | null {
  const tagEnd = text.indexOf('>', Math.max(0, text.lastIndexOf('<')));
  return tagEnd < 0 ? null : text.slice(tagEnd + 1);
}

function asMessageError(error: unknown): EwsMessageError {
  if (error instanceof EwsMessageError) return error;
  return new EwsMessageError(`malformed XML: ${firstLine(error)}`, 400);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0]!.slice(0, 200);
}
