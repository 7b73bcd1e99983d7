/**
 * Retention: raw alerts are kept RETENTION_DAYS, aggregate buckets AGGREGATE_RETENTION_DAYS
 * (0 = forever for either).
 *
 * Deleting raw alerts does NOT decrement the aggregates: statistics (counts, per-day datasets,
 * top countries, TpotStats, tops) keep covering the longer aggregate retention, while lists of
 * raw alerts (newest alerts, bad-IP lists, single IP) only reach back RETENTION_DAYS. A window
 * edge inside the deleted period is read either from raw alerts (counting 0 there) or as its
 * whole bucket minus the rest (counting the bucket), and an alert re-imported after its raw row
 * was deleted is counted a second time. The CVE rows of deleted alerts go with them, and
 * payloads not seen since the cut-off.
 */
import type { Config } from '../config';
import { formatUtc } from '../domain/time';
import { DAY_MS } from '../store/range-split';
import type { AlertStore } from '../store/store';

export interface RetentionResult {
  /** Alerts received before this (epoch ms) were deleted; null when raw retention is off. */
  readonly alertsBefore: number | null;
  readonly alertsDeleted: number;
  /** Aggregate buckets starting before this (epoch ms) were pruned; null when off. */
  readonly aggregatesBefore: number | null;
  readonly aggregateRowsDeleted: number;
}

export async function runRetention(
  store: AlertStore,
  config: Pick<Config, 'RETENTION_DAYS' | 'AGGREGATE_RETENTION_DAYS'>,
  now: number = Date.now(),
): Promise<RetentionResult> {
  const alertsBefore = config.RETENTION_DAYS > 0 ? now - config.RETENTION_DAYS * DAY_MS : null;
  // Whole UTC days, so the day bucket that is partly inside the retention period stays.
  const aggregatesBefore = config.AGGREGATE_RETENTION_DAYS > 0
    ? Math.floor((now - config.AGGREGATE_RETENTION_DAYS * DAY_MS) / DAY_MS) * DAY_MS
    : null;
  const alertsDeleted = alertsBefore === null ? 0 : await store.deleteReceivedBefore(alertsBefore);
  const aggregateRowsDeleted = aggregatesBefore === null ? 0 : await store.pruneAggregatesBefore(aggregatesBefore);
  return { alertsBefore, alertsDeleted, aggregatesBefore, aggregateRowsDeleted };
}

/** One line per part, for the CLI and the log. */
export function describeRetention(result: RetentionResult): string[] {
  return [
    result.alertsBefore === null
      ? 'alerts: kept forever (RETENTION_DAYS=0)'
      : `alerts: deleted ${result.alertsDeleted} received before ${formatUtc(result.alertsBefore)}`,
    result.aggregatesBefore === null
      ? 'aggregates: kept forever (AGGREGATE_RETENTION_DAYS=0)'
      : `aggregates: pruned ${result.aggregateRowsDeleted} bucket rows before ${formatUtc(result.aggregatesBefore)}`,
  ];
}
