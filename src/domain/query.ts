/**
 * The types of read questions and their answers, shared by the stores (which answer them) and
 * the API (which formats them). Times are epoch milliseconds, UTC.
 */
import type { AlertDocument } from './alert';

/** The `ci` parameter: community (default), private (`ci=0`) or both (`ci=-1`). */
export type DomainScope = 'community' | 'private' | 'both';

/** A half-open time range [from, to). */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** Which end of an attack a geographic question is about. */
export type Side = 'source' | 'target';

export interface StoredAlert {
  readonly id: string;
  readonly document: AlertDocument;
}

export interface KeyCount {
  readonly key: string;
  readonly count: number;
}

export interface CountryCount {
  readonly code: string;
  readonly name: string;
  readonly count: number;
}

export interface DayCount {
  /** Start of the UTC day, epoch ms. */
  readonly day: number;
  readonly count: number;
}

export interface DayTypeCount {
  /** Start of the UTC day, epoch ms. */
  readonly day: number;
  readonly peerType: string;
  readonly count: number;
}

/** Alerts of one daemon (peerIdent) on one sensor; a sensor is its hostname, else its target IP. */
export interface SensorDaemonCount {
  readonly sensor: string;
  readonly peerIdent: string;
  readonly peerType: string;
  readonly count: number;
}

export type TopKind = 'urls' | 'destports';

/** One of the top keys with its per-bucket counts (bucket start epoch ms -> count). */
export interface TopTimeline {
  readonly key: string;
  readonly total: number;
  readonly buckets: ReadonlyMap<number, number>;
}

/** A periodic statistics snapshot (CONTRACT section 6, getStats). */
export interface StatisticsSnapshot {
  /** `YYYY-MM-DD HH:MM:SS` */
  readonly from: string;
  readonly to: string;
  /** `comm_totalRatio`, `comm_ratio_<peerType>`, ... as numbers. */
  readonly values: Readonly<Record<string, number>>;
}

/**
 * Where a reader of newly stored alerts stands. Opaque: only the store that issued it reads it
 * (SQLite: the insertion sequence; a search engine: its own resume point).
 */
export type ArrivalCursor = string;

/** Alerts stored after a cursor, in the order they were stored, and the cursor to go on from. */
export interface Arrivals {
  readonly alerts: StoredAlert[];
  readonly cursor: ArrivalCursor;
}

/** One sensor's alerts received in a range (a sensor is its hostname, else its target IP). */
export interface SensorReport {
  readonly sensor: string;
  readonly alerts: number;
  /** recievedTime of its newest alert in the range. */
  readonly lastReceived: string;
  /** Its honeypot classes in the range, sorted. */
  readonly peerTypes: readonly string[];
}

/** Which sources a firewall feed lists (the bad-IP list with conditions). */
export interface SourceActivityQuery {
  /** By recievedTime. */
  readonly range: TimeRange;
  /** Only alerts of these honeypot classes (peerType) count; empty = every class. */
  readonly peerTypes: readonly string[];
  /** Only sources of this address family; undefined = both. */
  readonly family?: 4 | 6;
  /** Sources with fewer alerts (of the counted classes, in the range) are left out. */
  readonly minAlerts: number;
  /** Sources seen by fewer distinct sensors (peerIdent) are left out. */
  readonly minSensors: number;
}

/** What the range's alerts say about one source address. */
export interface SourceActivity {
  readonly address: string;
  readonly count: number;
  /** recievedTime of its first and last alert in the range, `YYYY-MM-DD HH:MM:SS`. */
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Its honeypot classes (peerType), sorted. */
  readonly peerTypes: readonly string[];
  /** Distinct sensors (peerIdent) that saw it. */
  readonly sensors: number;
}
