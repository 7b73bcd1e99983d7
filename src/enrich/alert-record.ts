/**
 * Enrichment: a validated alert becomes the stored document (CONTRACT sections 1-3), with the
 * CVE and payload facts its side stores need.
 */
import { hash, randomUUID } from 'node:crypto';
import { ALERT_FIELDS, type AlertDocument, type AlertRecord, type DataDomain, type Endpoint, type ParsedAlert, type PayloadSighting } from '../domain/alert';
import { urlDecode } from '../util/url-decode';
import { keepsPayloads, PORT_ATTACK_TYPES } from './classify';
import type { GeoIp } from './geoip';
import { decodePayload, fuzzyHttpHash, sniffMimeType, type DecodedPayload } from './payload';

/** AdditionalData meanings copied into the `additionalData` JSON, besides `conpot_*`. */
const ADDITIONAL_DATA_MEANINGS = new Set(['protocol', 'payload', 'payload_md5']);
/** A sensor naming more CVEs than this in one alert is not describing a real attack. */
const MAX_CVES_PER_ALERT = 32;
const MAX_CVE_ID_LENGTH = 64;

export interface EnrichContext {
  readonly domain: DataDomain;
  /** UTC `YYYY-MM-DD HH:MM:SS`, the same for every alert of one message. */
  readonly receivedTime: string;
  readonly geoIp: GeoIp;
  /** Payloads larger than this many bytes are recorded in the payload store by md5 and size only. */
  readonly keepPayloadsUpTo: number;
}

export function buildAlertRecord(alert: ParsedAlert, peerType: string, context: EnrichContext): AlertRecord {
  const extra = alert.additional;
  const text = (meaning: string): string => extra.get(meaning) ?? '';
  const decoded = (meaning: string): string => urlDecode(text(meaning));

  const additionalData: Record<string, string> = {};
  for (const [meaning, value] of extra) {
    if (ADDITIONAL_DATA_MEANINGS.has(meaning) || meaning.startsWith('conpot_')) {
      additionalData[meaning] = meaning === 'payload' ? urlDecode(value) : value;
    }
  }

  const payload = readPayload(alert);
  let rawhttp = '-';
  const payloads: PayloadSighting[] = [];
  if (payload) {
    additionalData['payload_md5'] = payload.md5;
    if (payload.httpRequest !== null) rawhttp = payload.httpRequest;
    if (keepsPayloads(peerType)) payloads.push(toSighting(payload, context.keepPayloadsUpTo));
  }
  // A sensor sends a sample (send_malware) because it is worth keeping, whatever its class.
  if (alert.sample) {
    additionalData['largepayload_md5'] = alert.sample.md5;
    payloads.push(alert.sample);
  }

  let request = urlDecode(alert.requests.get('url') ?? '');
  if (extra.has('input')) request = decoded('input');
  if (PORT_ATTACK_TYPES.has(peerType)) {
    const protocol = alert.source.protocol;
    const suffix = protocol === 'tcp' || protocol === 'udp' ? `/${protocol}` : '';
    request = `Attack on port ${alert.target.port}${suffix}`;
  }
  const vulnid = decoded('cve_id').trim();
  if (vulnid !== '') request = `(${vulnid}) ${request}`;

  const source = context.geoIp.lookup(alert.source.address);
  const target = context.geoIp.lookup(alert.target.address);
  const document: AlertDocument = {
    createTime: alert.createTime,
    recievedTime: context.receivedTime,
    clientDomain: context.domain === 'community',
    peerIdent: alert.analyzerId,
    peerType,
    sourceEntryIp: alert.source.address.text,
    sourceEntryPort: alert.source.port,
    targetEntryIp: alert.target.address.text,
    targetEntryPort: alert.target.port,
    targetport: alert.source.protocol,
    country: source.country,
    countryName: source.countryName,
    sourceEntryAS: source.as,
    location: source.location,
    targetCountry: target.country,
    targetCountryName: target.countryName,
    targetEntryAS: target.as,
    locationDestination: target.location,
    originalRequestString: request,
    username: text('username'),
    password: text('password'),
    login: text('login'),
    clientVersion: text('version'),
    sessionStart: decoded('starttime'),
    sessionEnd: decoded('endtime'),
    vulnid,
    additionalData: JSON.stringify(additionalData),
    rawhttp,
    externalIP: extra.get('externalIP') || '1.1.1.1',
    internalIP: extra.get('internalIP') || '1.1.1.1',
    hostname: extra.get('hostname') || 'undefined',
    client: '-',
  };
  return {
    id: alertId(alert, peerType, context.domain),
    document,
    cves: splitCves(vulnid),
    payloads,
  };
}

/** Conpot reports several identical events per connection (CONTRACT, "Document id"). */
const CONPOT = 'Industrial(conpot)';

/**
 * The id of an alert as the sensor sent it: md5 of everything in it that tells two attacks
 * apart (sensor, time, both endpoints with ports and protocols, every Request and
 * AdditionalData, and the data domain), so a resubmitted alert maps onto itself while parallel
 * logins or connections in the same second stay distinct. Derived facts (GeoIP, receipt time)
 * stay out: a resubmission after a GeoIP update must still find its first copy. Conpot ids are
 * salted with a random value, as the original did, because its identical events are distinct.
 */
export function alertId(alert: ParsedAlert, peerType: string, domain: DataDomain): string {
  const facts = new IdHash();
  facts.add(domain);
  facts.add(alert.analyzerId);
  facts.add(alert.createTime);
  facts.addEndpoint(alert.source);
  facts.addEndpoint(alert.target);
  facts.addEntries(alert.requests);
  facts.addEntries(alert.additional);
  // The sample is not among the requests (it is hashed as it streams): its md5 stands for it.
  if (alert.sample) facts.add(`largepayload md5 ${alert.sample.md5}`);
  if (peerType === CONPOT) facts.add(randomUUID());
  return facts.hex();
}

/**
 * The id of an imported document that came without one: md5 of every field, so importing the
 * same export twice stores it once and documents that differ in any field stay distinct.
 */
export function documentId(document: AlertDocument): string {
  const facts = new IdHash();
  for (const field of ALERT_FIELDS) facts.add(String(document[field]));
  return facts.hex();
}

/**
 * md5 over length-prefixed parts, so no two different part lists hash the same input. The parts
 * are concatenated and hashed in one call: the same bytes (a prefix ends in `:` and starts with a
 * digit, so no two parts' halves of a surrogate pair meet), and one call instead of about 30
 * into the hash per alert (those calls were 6 % of the server's CPU in `bench:opensearch`).
 * One text grown in place and the one-shot `crypto.hash` rather than an array of parts joined
 * and a Hash object: 4.6 to 3.2 µs per alert in a micro-benchmark, where the server spends about
 * 90 µs per alert in `bench:opensearch` (ids were 8.9 % of its CPU there).
 */
class IdHash {
  private text = '';

  add(part: string): void {
    this.text += `${Buffer.byteLength(part)}:${part}`;
  }

  addEndpoint(endpoint: Endpoint): void {
    this.add(endpoint.address.text);
    this.add(endpoint.port);
    this.add(endpoint.protocol);
  }

  /**
   * A map's entries in key order: the same set of facts hashes the same in any order sent. The
   * default sort orders strings by UTF-16 code units, as `<` does, and a map's keys are distinct.
   */
  addEntries(entries: ReadonlyMap<string, string>): void {
    const keys = [...entries.keys()].sort();
    this.add(String(keys.length));
    for (const key of keys) {
      this.add(key);
      this.add(entries.get(key)!);
    }
  }

  hex(): string {
    return hash('md5', this.text, 'hex');
  }
}

function readPayload(alert: ParsedAlert): DecodedPayload | null {
  const base64 = alert.requests.get('raw') ?? alert.requests.get('binary');
  if (base64 !== undefined && base64.trim() !== '') return decodePayload(base64);
  // glutton sends its payload as URL-encoded base64 in AdditionalData.
  const binary = alert.additional.get('binary');
  if (binary !== undefined && binary.trim() !== '') return decodePayload(urlDecode(binary));
  return null;
}

function toSighting(payload: DecodedPayload, keepUpTo: number): PayloadSighting {
  const bytes = payload.bytes;
  return {
    md5: payload.md5,
    fuzzyHash: payload.httpRequest === null ? null : fuzzyHttpHash(payload.httpRequest),
    mimeType: sniffMimeType(bytes),
    size: bytes.length,
    content: bytes.length > keepUpTo ? null : () => bytes,
  };
}

/** The CVE ids of a vulnid text (blank, comma or semicolon separated), de-duplicated and bounded. */
export function splitCves(vulnid: string): string[] {
  if (vulnid === '') return [];
  const ids = new Set<string>();
  for (const id of vulnid.split(/[\s,;]+/)) {
    if (id !== '' && id.length <= MAX_CVE_ID_LENGTH) ids.add(id);
    if (ids.size >= MAX_CVES_PER_ALERT) break;
  }
  return [...ids];
}
