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

export function summarizeActivity(rows: readonly SensorDaemonCount[]): ActivitySummary {
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
