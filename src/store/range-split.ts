/**
 * Exact answers over rolling windows from pre-aggregated buckets: a range is cut into whole
 * buckets of the coarsest grain that fits, finer grains towards the edges, and raw remainders
 * at the very edges (counted from indexed raw alerts). The cost depends on the window, not on
 * how much data is stored.
 */
import type { TimeRange } from '../domain/query';

export interface RangePiece {
  /** Bucket size in ms, or 0 for a raw remainder. */
  readonly grain: number;
  readonly from: number;
  readonly to: number;
  /** -1: counted alerts are taken away (a complement, see splitRange). */
  readonly sign: 1 | -1;
}

/**
 * Stored times are whole seconds, so [from, to) holds exactly the alerts of
 * [ceil(from), ceil(to)) in whole seconds, which the text comparisons of raw alerts can express.
 */
export function toWholeSeconds(range: TimeRange): TimeRange {
  return { from: Math.ceil(range.from / 1000) * 1000, to: Math.ceil(range.to / 1000) * 1000 };
}

/**
 * Splits [from, to) using the given bucket sizes (ms, ascending, each a multiple of the previous).
 *
 * A raw remainder covers part of one bucket of the finest grain. When the rest of that bucket
 * holds less of the past (before `now`) than the remainder does, the piece becomes the whole
 * bucket minus the rest, counted raw: a rolling window ending now then reads its current bucket
 * whole and subtracts the (future, nearly empty) rest, instead of counting the alerts so far.
 */
export function splitRange(exactRange: TimeRange, grains: readonly number[], now = Number.NEGATIVE_INFINITY): RangePiece[] {
  const range = toWholeSeconds(exactRange);
  const pieces: RangePiece[] = [];
  const finest = grains[0]!;
  const pastLength = (from: number, to: number): number => Math.max(0, Math.min(to, now) - from);
  const raw = (from: number, to: number): void => {
    const bucketFrom = Math.floor(from / finest) * finest;
    const bucketTo = bucketFrom + finest;
    if (to > bucketTo) {
      // Spans two buckets of the finest grain: one remainder in each.
      raw(from, bucketTo);
      raw(bucketTo, to);
      return;
    }
    if (pastLength(bucketFrom, from) + pastLength(to, bucketTo) >= pastLength(from, to)) {
      pieces.push({ grain: 0, from, to, sign: 1 });
      return;
    }
    pieces.push({ grain: finest, from: bucketFrom, to: bucketTo, sign: 1 });
    if (from > bucketFrom) pieces.push({ grain: 0, from: bucketFrom, to: from, sign: -1 });
    if (bucketTo > to) pieces.push({ grain: 0, from: to, to: bucketTo, sign: -1 });
  };
  const split = (from: number, to: number, level: number): void => {
    if (from >= to) return;
    if (level < 0) {
      raw(from, to);
      return;
    }
    const grain = grains[level]!;
    const first = Math.ceil(from / grain) * grain;
    const last = Math.floor(to / grain) * grain;
    if (first >= last) {
      split(from, to, level - 1);
      return;
    }
    split(from, first, level - 1);
    pieces.push({ grain, from: first, to: last, sign: 1 });
    split(last, to, level - 1);
  };
  split(range.from, range.to, grains.length - 1);
  return pieces;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
