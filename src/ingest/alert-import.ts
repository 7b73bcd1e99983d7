/**
 * Alert documents as an Elasticsearch export writes them (elasticdump, `_search` hits, or bare
 * `_source` documents) turned into records for the store: the import side of `peba import`.
 * Every field of the document model is kept as it was, times are normalised to the stored
 * `YYYY-MM-DD HH:MM:SS` UTC, and fields an old index lacks take a fresh alert's defaults.
 */
import { ALERT_FIELDS, BLANK_ALERT_DOCUMENT, type AlertDocument, type AlertRecord } from '../domain/alert';
import { formatUtc } from '../domain/time';
import { documentId, splitCves } from '../enrich/alert-record';
import { classifyPeer } from '../enrich/classify';
import { parseAddress } from '../net/address';

export type ImportedDocument =
  | { readonly ok: true; readonly record: AlertRecord; readonly unknownFields: readonly string[] }
  | { readonly ok: false; readonly reason: string };

type TextField = Exclude<keyof AlertDocument, 'createTime' | 'recievedTime' | 'clientDomain' | 'sourceEntryIp' | 'targetEntryIp' | 'peerType'>;

/** What enrichment gives a fresh alert that lacks the fact. */
const TEXT_DEFAULTS: Readonly<Record<TextField, string>> = BLANK_ALERT_DOCUMENT;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(ALERT_FIELDS);
/** Elasticsearch's limit on an `_id`, in UTF-8 bytes. */
const MAX_ID_BYTES = 512;
/** Date, then optional time with optional fraction and zone: the forms ES date fields hold. */
const TIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const EPOCH_MILLIS_TEXT = /^\d{1,15}$/;
/** 9999-12-31 23:59:59.999 UTC: the last instant the stored format can hold. */
const MAX_TIME_MS = 253_402_300_799_999;

/**
 * One parsed line of an export. `{"_id", "_source", ...}` is a hit (other `_`-keys such as
 * `_index`, `_type`, `_score` are ignored); anything else is the bare document.
 */
export function importDocument(value: unknown): ImportedDocument {
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  const source = '_source' in value ? value['_source'] : value;
  if (!isObject(source)) return { ok: false, reason: '_source is not a JSON object' };
  const givenId = value['_id'];
  // The `_id` is the document's identity, kept exactly: auto-generated ids are not md5 hex.
  if (givenId !== undefined && (typeof givenId !== 'string' || givenId === '' || Buffer.byteLength(givenId) > MAX_ID_BYTES)) {
    return { ok: false, reason: `invalid _id ${describe(givenId)} (a text of 1-${MAX_ID_BYTES} bytes)` };
  }

  const createTime = normaliseTime(source['createTime']);
  if (createTime === undefined) return { ok: false, reason: 'missing createTime' };
  if (createTime === null) return { ok: false, reason: `invalid createTime ${describe(source['createTime'])}` };
  const receivedTime = normaliseTime(source['recievedTime']);
  if (receivedTime === null) return { ok: false, reason: `invalid recievedTime ${describe(source['recievedTime'])}` };

  const sourceIp = address(source['sourceEntryIp']);
  if (typeof sourceIp !== 'string') return { ok: false, reason: `${sourceIp.problem} sourceEntryIp${sourceIp.shown}` };
  const targetIp = address(source['targetEntryIp']);
  if (typeof targetIp !== 'string') return { ok: false, reason: `${targetIp.problem} targetEntryIp${targetIp.shown}` };

  const clientDomain = domainFlag(source['clientDomain']);
  if (clientDomain === undefined) {
    // Guessing would either publish private data on the public endpoints or hide community data.
    return { ok: false, reason: 'missing clientDomain (true = community, false = private)' };
  }
  if (clientDomain === null) return { ok: false, reason: `invalid clientDomain ${describe(source['clientDomain'])}` };

  const peerIdent = textOf(source['peerIdent']) ?? TEXT_DEFAULTS.peerIdent;
  const given: Partial<Record<keyof AlertDocument, string | boolean>> = {
    createTime,
    // Old indices written before the field existed: the attack time is the best guess.
    recievedTime: receivedTime ?? createTime,
    clientDomain,
    peerIdent,
    peerType: textOf(source['peerType']) ?? classifyPeer(peerIdent, undefined),
    sourceEntryIp: sourceIp,
    targetEntryIp: targetIp,
  };
  // Built in the order the store lays fields out, so an export of the import reads the same.
  const document: Record<string, string | boolean> = {};
  for (const field of ALERT_FIELDS) {
    document[field] = given[field] ?? textOf(source[field]) ?? TEXT_DEFAULTS[field as TextField];
  }
  const ordered = document as unknown as AlertDocument;

  const id = givenId ?? documentId(ordered);
  const unknownFields = Object.keys(source).filter((key) => !KNOWN_FIELDS.has(key) && !key.startsWith('_'));
  return { ok: true, record: { id, document: ordered, cves: splitCves(ordered.vulnid), payloads: [] }, unknownFields };
}

/**
 * `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`, ISO 8601 (no zone = UTC) or epoch millis (number or
 * digits) to stored UTC text; undefined when absent, null when invalid.
 */
export function normaliseTime(value: unknown): string | null | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let ms: number;
  if (typeof value === 'number') {
    ms = Math.floor(value);
  } else if (typeof value === 'string' && EPOCH_MILLIS_TEXT.test(value.trim())) {
    ms = Number(value.trim());
  } else if (typeof value === 'string') {
    const parsed = parseTimeText(value.trim());
    if (parsed === null) return null;
    ms = parsed;
  } else {
    return null;
  }
  // Before 1970 is nonsense for an attack; past 9999 does not fit the stored format.
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) return null;
  return formatUtc(ms);
}

function parseTimeText(text: string): number | null {
  const match = TIME_TEXT.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as
    [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2017-02-30 over into March: refuse dates that do not exist.
  if (new Date(local).getUTCDate() !== day) return null;
  const zone = match[7];
  if (zone === undefined || zone.toUpperCase() === 'Z') return local;
  const digits = zone.replace(':', '');
  const hours = Number(digits.slice(1, 3));
  const minutes = Number(digits.slice(3, 5));
  if (hours > 23 || minutes > 59) return null;
  return local - (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** The canonical address text, or why there is none. */
function address(value: unknown): string | { problem: string; shown: string } {
  if (value === undefined || value === null || value === '') return { problem: 'missing', shown: '' };
  const parsed = typeof value === 'string' ? parseAddress(value) : null;
  return parsed ? parsed.text : { problem: 'invalid', shown: ` ${describe(value)}` };
}

/** `clientDomain` as a boolean: ES stores booleans, but exports and scripts also write text. */
function domainFlag(value: unknown): boolean | null | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return null;
}

/** A text field as stored: numbers (ports) as digits, objects (additionalData) as JSON. */
function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value shown in a message, shortened: lines of an export can be huge. */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
