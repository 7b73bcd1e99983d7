/**
 * Aggregates maintained at write time, in the same transaction as the alerts they count, so
 * every statistics question reads a few pre-aggregated rows however much data is stored.
 * Only alerts that were really inserted are counted (a resubmission changes nothing).
 */
import type Database from 'better-sqlite3';
import type { AlertDocument } from '../../domain/alert';
import { parseUtc } from '../../domain/time';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../range-split';

/** `kind` column of the top tables. */
export const TOP_KIND = { urls: 0, destports: 1 } as const;
/** `side` column of the geographic tables. */
export const SIDE = { source: 0, target: 1 } as const;

interface AggregateTable {
  readonly table: string;
  /** Key columns, bucket included; the primary key is exactly these. */
  readonly columns: readonly string[];
  /** The key tuples one alert adds 1 to. */
  keys(doc: AlertDocument, times: AlertTimes): ReadonlyArray<readonly (string | number)[]>;
}

/**
 * Top-K questions over many buckets (tops, locations) start from the rows that are "heavy": at
 * least `from` alerts in their bucket. A row that reaches a threshold is marked once in
 * agg_heavy (a partial index on count would be rewritten at every increment of exactly the
 * busiest rows). Thresholds per table, strictest first; `part` is the kind or side column.
 */
export const HEAVY_MARKS = {
  agg_received_hour_top: { id: 0, part: 'kind', key: 'key', from: [16, 8, 4] },
  agg_received_day_top: { id: 1, part: 'kind', key: 'key', from: [128, 16] },
  agg_created_hour_location: { id: 2, part: 'side', key: 'location', from: [128, 32] },
} as const;
export type HeavyTable = keyof typeof HEAVY_MARKS;

interface AlertTimes {
  readonly domain: number;
  readonly received: number;
  readonly created: number;
}

const bucket = (ms: number, size: number): number => Math.floor(ms / size) * (size / 1000);

/** The sensor a T-Pot alert came from: its hostname, else (hostname `undefined`) its target IP. */
export function sensorOf(doc: Pick<AlertDocument, 'hostname' | 'targetEntryIp'>): string {
  return doc.hostname && doc.hostname !== 'undefined' ? doc.hostname : doc.targetEntryIp;
}

const TABLES: readonly AggregateTable[] = [
  { table: 'agg_received_minute', columns: ['domain', 'bucket', 'peer_type'],
    keys: (d, t) => [[t.domain, bucket(t.received, MINUTE_MS), d.peerType]] },
  { table: 'agg_received_hour', columns: ['domain', 'bucket', 'peer_type'],
    keys: (d, t) => [[t.domain, bucket(t.received, HOUR_MS), d.peerType]] },
  { table: 'agg_created_day', columns: ['domain', 'bucket', 'peer_type'],
    keys: (d, t) => [[t.domain, bucket(t.created, DAY_MS), d.peerType]] },
  { table: 'agg_received_day_country', columns: ['domain', 'side', 'bucket', 'code', 'name'],
    keys: (d, t) => [
      [t.domain, SIDE.source, bucket(t.received, DAY_MS), d.country, d.countryName],
      [t.domain, SIDE.target, bucket(t.received, DAY_MS), d.targetCountry, d.targetCountryName],
    ] },
  { table: 'agg_created_hour_location', columns: ['domain', 'side', 'bucket', 'location'],
    keys: (d, t) => [
      [t.domain, SIDE.source, bucket(t.created, HOUR_MS), d.location],
      [t.domain, SIDE.target, bucket(t.created, HOUR_MS), d.locationDestination],
    ] },
  { table: 'agg_received_day_sensor', columns: ['domain', 'bucket', 'sensor', 'peer_ident', 'peer_type'],
    keys: (d, t) => [[t.domain, bucket(t.received, DAY_MS), sensorOf(d), d.peerIdent, d.peerType]] },
  ...(['agg_received_hour_top', 'agg_received_day_top'] as const).map((table): AggregateTable => {
    const size = table === 'agg_received_hour_top' ? HOUR_MS : DAY_MS;
    return {
      table, columns: ['domain', 'kind', 'bucket', 'key'],
      keys: (d, t) => {
        const at = bucket(t.received, size);
        const port: Array<readonly (string | number)[]> = [[t.domain, TOP_KIND.destports, at, d.targetEntryPort]];
        return d.peerType === 'Webpage' ? [...port, [t.domain, TOP_KIND.urls, at, d.originalRequestString]] : port;
      },
    };
  }),
];

interface Pending {
  readonly key: readonly (string | number)[];
  count: number;
}

/** Collects the increments of a batch, then writes each distinct key once. */
export class AggregateBatch {
  private readonly pending = TABLES.map(() => new Map<string, Pending>());
  /** UTC days (bucket seconds) whose sensor rows change: their kept activity summaries go. */
  private readonly sensorDays = new Set<number>();
  private lastReceivedText = '';
  private lastReceived = 0;

  add(doc: AlertDocument, sign: 1 | -1 = 1): void {
    // One message shares one recievedTime: parse it once.
    if (doc.recievedTime !== this.lastReceivedText) {
      this.lastReceivedText = doc.recievedTime;
      this.lastReceived = parseUtc(doc.recievedTime);
    }
    const times = { domain: doc.clientDomain ? 1 : 0, received: this.lastReceived, created: parseUtc(doc.createTime) };
    this.sensorDays.add(bucket(times.received, DAY_MS));
    TABLES.forEach((table, i) => {
      const pending = this.pending[i]!;
      for (const key of table.keys(doc, times)) {
        const id = key.join('\u0000');
        const entry = pending.get(id);
        if (entry) entry.count += sign;
        else pending.set(id, { key, count: sign });
      }
    });
  }

  /** Writes the collected increments; call inside the transaction that stored the alerts. */
  write(statements: AggregateStatements): void {
    TABLES.forEach(({ table, columns }, i) => {
      const upsert = statements.upserts[i]!;
      const marks = HEAVY_MARKS[table as HeavyTable];
      for (const { key, count } of this.pending[i]!.values()) {
        if (count === 0) continue;
        if (!marks) {
          upsert.run(...key, count);
          continue;
        }
        const total = (upsert.get(...key, count) as { count: number }).count;
        for (const from of marks.from) {
          if (total >= from && total - count < from) {
            const at = (name: string): string | number => key[columns.indexOf(name)]!;
            statements.markHeavy.run(marks.id, at('domain'), at(marks.part), from, at('bucket'), at(marks.key));
          }
        }
      }
      this.pending[i]!.clear();
    });
    for (const day of this.sensorDays) statements.forgetActivity.run(day);
    this.sensorDays.clear();
  }
}

export interface AggregateStatements {
  readonly upserts: readonly Database.Statement[];
  readonly markHeavy: Database.Statement;
  readonly forgetActivity: Database.Statement;
}

export function prepareAggregateStatements(db: Database.Database): AggregateStatements {
  return {
    upserts: TABLES.map(({ table, columns }) => db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}, count) VALUES (${columns.map(() => '?').join(', ')}, ?)
       ON CONFLICT (${columns.join(', ')}) DO UPDATE SET count = count + excluded.count${table in HEAVY_MARKS ? ' RETURNING count' : ''}`,
    )),
    markHeavy: db.prepare('INSERT OR IGNORE INTO agg_heavy (tbl, domain, part, at_least, bucket, key) VALUES (?, ?, ?, ?, ?, ?)'),
    forgetActivity: db.prepare('DELETE FROM agg_received_day_activity WHERE bucket = ?'),
  };
}
