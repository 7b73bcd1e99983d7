/**
 * Raw groupings of settled past buckets, kept once counted. A rolling window's head edge lies in
 * the past and moves on with the clock: for `retrieveLatLonAttacks` over the last 24 hours it is
 * up to half an hour of raw alerts, grouped again for every question (2.5 ms at 10 million
 * alerts a month; bench/query); so is the tail edge of `tops?days=1` (by recievedTime, a second
 * instance). Split into 10-minute buckets, the whole ones are counted once and kept; only the
 * partial bucket, at most 5 minutes with a complement, is read raw.
 *
 * "Settled" means the bucket ended more than SETTLE_MS before now: sensors report within
 * minutes, so alerts created that long ago are rare. When one is stored all the same (a sensor
 * back from an outage, an import), the store calls `forget` after the commit; so it does when
 * retention deletes, and when another connection commits (PRAGMA data_version).
 */
import type Database from 'better-sqlite3';
import { formatUtc } from '../../domain/time';
import { splitRange } from '../range-split';
import { ForeignWrites } from './foreign-writes';

const BUCKET_MS = 10 * 60_000;
const SETTLE_MS = 60 * 60_000;
/**
 * A rolling window's edge keeps at most 6 buckets per question and side; the bound only stops
 * growth (a bucket the edge has passed is never asked for again).
 */
const MAX_KEPT = 128;

type Pairs = Array<[string, number]>;

export class SettledBuckets {
  private readonly kept = new Map<string, Pairs>();
  private readonly foreignWrites: ForeignWrites;
  private horizon = '';

  /** A stored alert created before this (text, comparable as stored) may belong to a kept bucket. */
  get horizonText(): string {
    return this.horizon;
  }

  constructor(db: Database.Database) {
    this.foreignWrites = new ForeignWrites(db);
  }

  /**
   * The grouped counts of [from, to): `count(from, to)` for partial and unsettled buckets, kept
   * answers for settled ones. `question` names the grouping (its SQL and domains) in the keys.
   */
  pairs(question: string, from: number, to: number, now: number, count: (from: number, to: number) => Pairs): Pairs {
    if (this.foreignWrites.sinceLastAsked()) this.forget();
    const settledEnd = Math.floor((now - SETTLE_MS) / BUCKET_MS) * BUCKET_MS;
    if (to <= from || from >= settledEnd) return count(from, to);
    const totals = new Map<string, number>();
    const add = (rows: Pairs, sign: number): void => {
      for (const [key, n] of rows) totals.set(key, (totals.get(key) ?? 0) + sign * n);
    };
    for (const piece of splitRange({ from, to: Math.min(to, settledEnd) }, [BUCKET_MS], now)) {
      if (piece.grain === 0) {
        add(count(piece.from, piece.to), piece.sign);
        continue;
      }
      for (let bucket = piece.from; bucket < piece.to; bucket += BUCKET_MS) {
        add(this.settled(`${question}|${bucket}`, bucket + BUCKET_MS, () => count(bucket, bucket + BUCKET_MS)), piece.sign);
      }
    }
    if (to > settledEnd) add(count(settledEnd, to), 1);
    return [...totals];
  }

  forget(): void {
    this.kept.clear();
    this.horizon = '';
  }

  private settled(key: string, end: number, count: () => Pairs): Pairs {
    let rows = this.kept.get(key);
    if (rows === undefined) {
      if (this.kept.size >= MAX_KEPT) this.forget();
      rows = count();
      this.kept.set(key, rows);
      const endText = formatUtc(end);
      if (endText > this.horizon) this.horizon = endText;
    }
    return rows;
  }
}
