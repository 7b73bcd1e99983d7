/**
 * The store interface. It speaks in domain terms only, so SQLite and Elasticsearch/OpenSearch
 * can each implement it with their own strengths; nothing here names SQL or an index.
 */
import type { AlertDocument, AlertRecord, StoreOutcome } from '../domain/alert';

/** A user of the private domain, as in the original `users` index. */
export interface UserRecord {
  readonly peerName: string;
  /** sha512 hex (128 chars) or legacy md5 hex (32 chars) of the token; never the token. */
  readonly tokenHash: string;
  readonly community: boolean;
  /** May query the private endpoints but not post alerts. */
  readonly getOnly: boolean;
  readonly email: string;
}

/** One payload of the payload store, de-duplicated by md5 and fuzzy HTTP hash. */
export interface PayloadRecord {
  readonly md5: string;
  readonly fuzzyHash: string | null;
  readonly mimeType: string;
  readonly size: number;
  readonly bytes: Buffer;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly firstSourceIp: string;
  readonly firstSourcePort: string;
  readonly peerType: string;
}

/** One (alert, CVE id) pair of the CVE store. */
export interface CveAlertRecord {
  readonly alertId: string;
  readonly vulnid: string;
  readonly createTime: string;
  readonly recievedTime: string;
  readonly clientDomain: boolean;
  readonly peerIdent: string;
  readonly peerType: string;
  readonly sourceEntryIp: string;
  readonly targetEntryIp: string;
}

export interface AlertStore {
  /** A short name for logs and the heartbeat, e.g. `sqlite`. */
  readonly kind: string;

  /**
   * Stores the alerts durably, all or nothing, and only then resolves. An alert whose id is
   * already stored is left as it is (so a resubmitted batch changes nothing); CVE and payload
   * bookkeeping happen only for alerts that are new.
   */
  storeAlerts(records: readonly AlertRecord[]): Promise<StoreOutcome>;
  getAlert(id: string): Promise<AlertDocument | undefined>;
  countAlerts(): Promise<number>;
  getPayload(md5: string): Promise<PayloadRecord | undefined>;
  /** Payload records whose fuzzy hash is this one (normally one). */
  findPayloadsByFuzzyHash(fuzzyHash: string): Promise<PayloadRecord[]>;
  listCveAlerts(vulnid: string): Promise<CveAlertRecord[]>;

  getUser(peerName: string): Promise<UserRecord | undefined>;
  /** Creates or replaces the user. */
  putUser(user: UserRecord): Promise<void>;
  removeUser(peerName: string): Promise<boolean>;
  listUsers(): Promise<UserRecord[]>;

  /** Resolves when the store answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreUnavailableError extends Error {}
