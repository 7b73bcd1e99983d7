/**
 * Periodic statistics snapshots of the community domain (CONTRACT section 6, getStats): alerts,
 * honeypots, daemons and alerts per honeypot over one interval, in total and per peerType.
 * The computation and the key names are pure so the API can reuse them.
 */
import { perTypeKey, totalKey, type ActivitySummary, type ActivityTotals } from '../domain/activity';
import type { StatisticsSnapshot, TimeRange } from '../domain/query';
import { formatUtc } from '../domain/time';
import type { AlertStore } from '../store/store';

/**
 * Snapshot values from summed-up sensor activity (see summarizeActivity for what counts as a
 * honeypot and a daemon), with the ratio alerts per honeypot (0 without honeypots).
 */
export function computeStatistics(summary: ActivitySummary): Record<string, number> {
  const ratio = (t: ActivityTotals): number => (t.honeypots === 0 ? 0 : t.alerts / t.honeypots);
  const values: Record<string, number> = {
    [totalKey('alerts')]: summary.total.alerts,
    [totalKey('honeypots')]: summary.total.honeypots,
    [totalKey('daemons')]: summary.total.daemons,
    [totalKey('ratio')]: ratio(summary.total),
  };
  for (const [peerType, t] of summary.perType) {
    values[perTypeKey('alerts', peerType)] = t.alerts;
    values[perTypeKey('honeypots', peerType)] = t.honeypots;
    values[perTypeKey('daemons', peerType)] = t.daemons;
    values[perTypeKey('ratio', peerType)] = ratio(t);
  }
  return values;
}

/** The snapshot of [range.from, range.to); `to` is the last second inside, like TpotStats' 23:59:59. */
export function statisticsSnapshot(range: TimeRange, summary: ActivitySummary): StatisticsSnapshot {
  return { from: formatUtc(range.from), to: formatUtc(range.to - 1000), values: computeStatistics(summary) };
}

/** The last whole interval before `now`, on UTC interval boundaries. */
export function lastFullInterval(now: number, intervalMs: number): TimeRange {
  const to = Math.floor(now / intervalMs) * intervalMs;
  return { from: to - intervalMs, to };
}

/** Computes the snapshot of the range from the store and stores it (replacing an earlier one). */
export async function takeStatisticsSnapshot(store: AlertStore, range: TimeRange): Promise<StatisticsSnapshot> {
  const snapshot = statisticsSnapshot(range, await store.activitySummary('community', range));
  await store.putStatisticsSnapshot(snapshot);
  return snapshot;
}
