/** Time windows of the endpoints, in whole UTC seconds, computed from one `now`. */
import type { TimeRange } from '../domain/query';
import { DAY_MS } from '../store/range-split';

/** The end of the current second: windows include alerts stamped this very second. */
export function windowEnd(now: number): number {
  return Math.floor(now / 1000) * 1000 + 1000;
}

/** The last `minutes` minutes up to now. */
export function lastMinutes(now: number, minutes: number): TimeRange {
  return { from: Math.floor(now / 1000) * 1000 - minutes * 60_000, to: windowEnd(now) };
}

export function startOfUtcDay(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

/** Since 00:00 UTC today. */
export function today(now: number): TimeRange {
  return { from: startOfUtcDay(now), to: windowEnd(now) };
}

/** The calendar month `offset` months before the current one (0 = this month). */
export function utcMonth(now: number, offset: number): TimeRange & { label: string } {
  const date = new Date(now);
  const from = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - offset, 1);
  const to = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - offset + 1, 1);
  return { from, to, label: new Date(from).toISOString().slice(0, 7) };
}

/** Start of the UTC day one calendar month before today (31 March -> 28/29 February). */
export function oneMonthAgo(now: number): number {
  const date = new Date(now);
  const lastDayOfPreviousMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 0)).getUTCDate();
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, Math.min(date.getUTCDate(), lastDayOfPreviousMonth));
}
