/**
 * The background jobs of a serving instance: daily retention and periodic statistics snapshots,
 * each run claimed in the store first, so that instances sharing a store run it once. Timers
 * are unref'ed so they never keep the process alive; a failed run is logged and the next one is
 * scheduled as usual.
 */
import type { Config } from '../config';
import { formatUtc } from '../domain/time';
import { DAY_MS, MINUTE_MS } from '../store/range-split';
import type { AlertStore } from '../store/store';
import { runRetention } from './retention';
import { totalKey } from '../domain/activity';
import { lastFullInterval, takeStatisticsSnapshot } from './statistics';

export interface JobLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** The first retention run waits this long, so start-up is not slowed by a large delete. */
export const RETENTION_FIRST_DELAY_MS = MINUTE_MS;
/**
 * A snapshot is taken this long after its interval ends: alerts received just before the
 * boundary may still be on their way through the commit queue.
 */
export const STATS_GRACE_MS = 10_000;

/** When the snapshot of the interval ending at the next boundary after `now` is due. */
export function nextStatisticsRun(now: number, intervalMs: number): { at: number; range: { from: number; to: number } } {
  const to = Math.floor((now - STATS_GRACE_MS) / intervalMs) * intervalMs + intervalMs;
  return { at: to + STATS_GRACE_MS, range: { from: to - intervalMs, to } };
}

export function startScheduledJobs(store: AlertStore, config: Config, log: JobLog): { stop(): void } {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const later = (delayMs: number, run: () => Promise<void>): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) void run();
    }, Math.max(0, delayMs));
    timer.unref();
    timers.add(timer);
  };

  if (config.RETENTION_DAYS > 0 || config.AGGREGATE_RETENTION_DAYS > 0) {
    const retention = async (): Promise<void> => {
      try {
        // Once per UTC day per cluster: the first instance to claim the day runs it.
        if (!(await store.claimRun('retention', formatUtc(Date.now()).slice(0, 10)))) {
          log.info({ job: 'retention' }, 'retention of today already claimed by another instance');
          return;
        }
        const result = await runRetention(store, config);
        log.info({
          job: 'retention',
          alertsDeleted: result.alertsDeleted,
          alertsBefore: result.alertsBefore === null ? null : formatUtc(result.alertsBefore),
          aggregateRowsDeleted: result.aggregateRowsDeleted,
          aggregatesBefore: result.aggregatesBefore === null ? null : formatUtc(result.aggregatesBefore),
        }, 'retention done');
      } catch (error) {
        log.error({ job: 'retention', err: error }, 'retention failed');
      } finally {
        later(DAY_MS, retention);
      }
    };
    later(RETENTION_FIRST_DELAY_MS, retention);
  }

  const intervalMs = config.STATS_INTERVAL_MINUTES * MINUTE_MS;
  if (intervalMs > 0) {
    const snapshot = async (range: { from: number; to: number }): Promise<void> => {
      try {
        // One snapshot per interval per cluster, whichever instance claims it first.
        if (!(await store.claimRun('statistics', formatUtc(range.from)))) return;
        const taken = await takeStatisticsSnapshot(store, range);
        log.info({ job: 'statistics', from: taken.from, to: taken.to, alerts: taken.values[totalKey('alerts')] }, 'statistics snapshot stored');
      } catch (error) {
        log.error({ job: 'statistics', from: formatUtc(range.from), err: error }, 'statistics snapshot failed');
      }
    };
    const scheduleNext = (): void => {
      const next = nextStatisticsRun(Date.now(), intervalMs);
      later(next.at - Date.now(), () => snapshot(next.range).finally(scheduleNext));
    };
    // Catch up on the interval that ended while the instance was down (or is starting).
    const catchUp = async (): Promise<void> => {
      const range = lastFullInterval(Date.now() - STATS_GRACE_MS, intervalMs);
      try {
        const from = formatUtc(range.from);
        if ((await store.listStatisticsSnapshots(from, from)).length === 0) await snapshot(range);
      } catch (error) {
        log.warn({ job: 'statistics', err: error }, 'statistics catch-up failed');
      }
    };
    later(STATS_GRACE_MS, catchUp);
    scheduleNext();
  }

  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
