/**
 * Sensor activity summed up the way TpotStats and the statistics snapshots count it: a
 * honeypot is a distinct sensor, a daemon a distinct (sensor, peerIdent) pair.
 */
import type { SensorDaemonCount } from './query';

export interface ActivityTotals {
  readonly alerts: number;
  readonly honeypots: number;
  readonly daemons: number;
}

export interface ActivitySummary {
  readonly total: ActivityTotals;
  /** Per peerType, ordered by peerType name. */
  readonly perType: ReadonlyMap<string, ActivityTotals>;
}

/** Rows without alerts (left at 0 by a correction) count no honeypot and no daemon. */
export function summarizeActivity(allRows: readonly SensorDaemonCount[]): ActivitySummary {
  const rows = allRows.filter((row) => row.count > 0);
  const sum = (subset: readonly SensorDaemonCount[]): ActivityTotals => ({
    alerts: subset.reduce((n, r) => n + r.count, 0),
    honeypots: new Set(subset.map((r) => r.sensor)).size,
    daemons: new Set(subset.map((r) => `${r.sensor}\u0000${r.peerIdent}`)).size,
  });
  const byType = new Map<string, SensorDaemonCount[]>();
  for (const row of rows) {
    const list = byType.get(row.peerType);
    if (list) list.push(row);
    else byType.set(row.peerType, [row]);
  }
  const perType = new Map([...byType.keys()].sort().map((type) => [type, sum(byType.get(type)!)] as const));
  return { total: sum(rows), perType };
}

/** Snapshots cover the community (T-Pot) domain only, hence the `comm_` prefix of every key. */
export const STATISTICS_PREFIX = 'comm_';

export type StatisticsMetric = 'alerts' | 'honeypots' | 'daemons' | 'ratio';

const TOTAL_NAMES: Readonly<Record<StatisticsMetric, string>> = {
  alerts: 'totalAlerts', honeypots: 'totalHoneypots', daemons: 'totalDaemons', ratio: 'totalRatio',
};

/** `comm_totalAlerts`, `comm_totalRatio`, ... */
export function totalKey(metric: StatisticsMetric): string {
  return STATISTICS_PREFIX + TOTAL_NAMES[metric];
}

/** `comm_ratio_SSH/console(cowrie)`, ...: the peerType text as it is. */
export function perTypeKey(metric: StatisticsMetric, peerType: string): string {
  return `${STATISTICS_PREFIX}${metric}_${peerType}`;
}
