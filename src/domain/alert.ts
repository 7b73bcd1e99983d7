/**
 * The types that cross module boundaries, declared once: what the parser hands to enrichment,
 * and what enrichment hands to a store. Field names of AlertDocument are compat with the
 * Elasticsearch documents of existing deployments (misspellings included).
 */
import type { IpAddress } from '../net/address';

/** Which data domain an alert belongs to: community (T-Pot) or a private user's sensors. */
export type DataDomain = 'community' | 'private';

export interface Endpoint {
  readonly address: IpAddress;
  /** As sent: usually digits, but honeypots also send "" or "undefined". */
  readonly port: string;
  readonly protocol: string;
}

/** One `<Alert>` of an EWS message, validated: times in UTC, addresses parsed. */
export interface ParsedAlert {
  readonly analyzerId: string;
  /** UTC, `YYYY-MM-DD HH:MM:SS`, after the timezone rules. */
  readonly createTime: string;
  readonly source: Endpoint;
  readonly target: Endpoint;
  /** `Request` elements by their `type` attribute (url, raw, binary, description, request). */
  readonly requests: ReadonlyMap<string, string>;
  /** `AdditionalData` values by their `meaning` attribute, in document order. */
  readonly additional: ReadonlyMap<string, string>;
  /** The `Request type="largepayload"` sample (a malware binary), hashed as it arrived. */
  readonly sample?: PayloadSighting | undefined;
}

/** The stored alert, field for field as in an `ews-*` index. */
export interface AlertDocument {
  createTime: string;
  recievedTime: string;
  clientDomain: boolean;
  peerIdent: string;
  peerType: string;
  sourceEntryIp: string;
  sourceEntryPort: string;
  targetEntryIp: string;
  targetEntryPort: string;
  targetport: string;
  country: string;
  countryName: string;
  sourceEntryAS: string;
  location: string;
  targetCountry: string;
  targetCountryName: string;
  targetEntryAS: string;
  locationDestination: string;
  originalRequestString: string;
  username: string;
  password: string;
  login: string;
  clientVersion: string;
  sessionStart: string;
  sessionEnd: string;
  vulnid: string;
  additionalData: string;
  rawhttp: string;
  externalIP: string;
  internalIP: string;
  hostname: string;
  client: string;
}

/**
 * What a fresh alert holds for every fact it did not send: empty strings, `-` and
 * `0.0 , 0.0` where GeoIP knows nothing, and the sensor defaults of ewsposter.
 */
export const BLANK_ALERT_DOCUMENT: Readonly<AlertDocument> = {
  createTime: '', recievedTime: '', clientDomain: true, peerIdent: '', peerType: '',
  sourceEntryIp: '', sourceEntryPort: '', targetEntryIp: '', targetEntryPort: '', targetport: '',
  country: '-', countryName: '-', sourceEntryAS: '-', location: '0.0 , 0.0',
  targetCountry: '-', targetCountryName: '-', targetEntryAS: '-', locationDestination: '0.0 , 0.0',
  originalRequestString: '', username: '', password: '', login: '', clientVersion: '',
  sessionStart: '', sessionEnd: '', vulnid: '', additionalData: '{}', rawhttp: '-',
  externalIP: '1.1.1.1', internalIP: '1.1.1.1', hostname: 'undefined', client: '-',
};

/** Every AlertDocument key, in the order stores lay them out. */
export const ALERT_FIELDS = [
  'createTime', 'recievedTime', 'clientDomain', 'peerIdent', 'peerType',
  'sourceEntryIp', 'sourceEntryPort', 'targetEntryIp', 'targetEntryPort', 'targetport',
  'country', 'countryName', 'sourceEntryAS', 'location',
  'targetCountry', 'targetCountryName', 'targetEntryAS', 'locationDestination',
  'originalRequestString', 'username', 'password', 'login', 'clientVersion',
  'sessionStart', 'sessionEnd', 'vulnid', 'additionalData', 'rawhttp',
  'externalIP', 'internalIP', 'hostname', 'client',
] as const satisfies ReadonlyArray<keyof AlertDocument>;

/** A payload seen in an alert, for the de-duplicating payload store. */
export interface PayloadSighting {
  readonly md5: string;
  /** sha256 of the lower-cased HTTP request without its Host value; only for HTTP requests. */
  readonly fuzzyHash: string | null;
  readonly mimeType: string;
  /** Length of the decoded payload, bytes. */
  readonly size: number;
  /**
   * The bytes, read only when the store keeps a payload it did not know (a large sample waits in
   * a spool file, not in memory), valid until the next call of any `content` of the same message
   * (store or copy them at once); null when the payload is larger than the payload store keeps:
   * then only md5 and size are recorded.
   */
  readonly content: (() => Buffer) | null;
}

/** One alert ready to store, with the facts the side stores (CVE, payload) need. */
export interface AlertRecord {
  readonly id: string;
  readonly document: AlertDocument;
  /** CVE ids named by the sensor, each recorded once in the CVE store. */
  readonly cves: readonly string[];
  /** Payloads for the payload store: the request payload and the `largepayload` sample, when kept. */
  readonly payloads: readonly PayloadSighting[];
}

/** What a store reports after committing a batch. */
export interface StoreOutcome {
  /** Alerts that were new; the rest were already stored (idempotent resubmission). */
  readonly inserted: number;
  readonly duplicates: number;
}
