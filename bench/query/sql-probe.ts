/**
 * SQL-level view of the query benchmark: runs the store's real read code (SqliteQueries) on a
 * benchmark database with the time windows the routes use, and reports for every SQL text it
 * executes the time per execution, the rows returned and EXPLAIN QUERY PLAN. With --setup, SQL
 * (an index, a new aggregate table, ANALYZE) is applied first, to measure a change before making
 * it in src/; use it on a copy of the database. --candidates times hand-written rewrites.
 *
 *   node dist/bench/query/sql-probe.js --db FILE [--runs 20] [--only REGEX] [--setup SQL] [--candidates] [--no-plan]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { lastMinutes, oneMonthAgo, startOfUtcDay, today, utcMonth, windowEnd } from '../../src/api/clock';
import type { TimeRange, TopKind } from '../../src/domain/query';
import { formatUtc } from '../../src/domain/time';
import { SqliteQueries } from '../../src/store/sqlite/sqlite-queries';
import { AlertGenerator, DAY_MS, HOUR_MS } from './generator';
import { exitWithUsageIfAsked, integerOption } from '../common/options';

interface Execution {
  readonly sql: string;
  readonly params: unknown[];
  readonly ms: number;
  readonly rows: number;
}

/** Wraps a connection so every statement execution is timed and recorded with its parameters. */
function recording(db: Database.Database, log: Execution[]): Database.Database {
  const wrapStatement = (statement: Database.Statement, sql: string): Database.Statement => {
    const proxy: Database.Statement = new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'all' || prop === 'get' || prop === 'run') {
          return (...params: unknown[]) => {
            const t0 = performance.now();
            const result = (value as (...a: unknown[]) => unknown).apply(target, params);
            const rows = Array.isArray(result) ? result.length : result === undefined ? 0 : 1;
            log.push({ sql, params, ms: performance.now() - t0, rows });
            return result;
          };
        }
        // raw(), pluck(), expand() return the statement itself: keep returning the wrapper.
        if (prop === 'raw' || prop === 'pluck' || prop === 'expand') {
          return (...a: unknown[]) => {
            (value as (...a: unknown[]) => unknown).apply(target, a);
            return proxy;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql), sql);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface Case {
  readonly label: string;
  readonly run: (q: SqliteQueries) => unknown;
}

/** The store calls behind each endpoint, with the windows the routes compute (public-stats.ts, private-lists.ts). */
function cases(now: number, hot: string): Case[] {
  const tops = (kind: TopKind, days: '1' | '7' | '28'): Case => {
    const window = { '1': { bucket: HOUR_MS, buckets: 24 }, '7': { bucket: 6 * HOUR_MS, buckets: 28 }, '28': { bucket: DAY_MS, buckets: 28 } }[days];
    const to = Math.floor(windowEnd(now) / window.bucket) * window.bucket + window.bucket;
    const range: TimeRange = { from: to - window.buckets * window.bucket, to };
    return { label: `tops ${kind} days=${days}`, run: (q) => q.topTimelines('community', kind, range, window.bucket, 10) };
  };
  const day = startOfUtcDay(now);
  return [
    { label: 'retrieveIPs (120 min)', run: (q) => q.sourcesReceived('community', lastMinutes(now, 120)) },
    { label: 'retrieveIPs15m', run: (q) => q.sourcesReceived('community', lastMinutes(now, 15)) },
    { label: 'retrieveAlertsCyber', run: (q) => q.newestReceived('community', 5) },
    { label: 'retrieveAlertsJson ci=-1', run: (q) => q.newestReceived('both', 35) },
    { label: 'querySingleIP (hottest)', run: (q) => q.newestFromSource('community', hot, 5) },
    { label: 'retrieveAlertsCount time=10', run: (q) => q.countReceived('community', lastMinutes(now, 10)) },
    { label: 'retrieveAlertsCount time=day', run: (q) => q.countReceived('community', today(now)) },
    { label: 'retrieveAlertsCountWithType time=day', run: (q) => q.countReceivedByPeerType('community', today(now)) },
    { label: 'retrieveAlertStats', run: (q) => [1440, 60, 5, 1].map((m) => q.countReceived('community', lastMinutes(now, m))) },
    { label: 'datasetAlerts(Types)PerMonth', run: (q) => q.createdPerDayAndType('community', { from: oneMonthAgo(now), to: day + DAY_MS }) },
    { label: 'topCountriesAttacks', run: (q) => (['source', 'target'] as const).map((side) => q.topCountriesReceived('community', utcMonth(now, 0), side, 10)) },
    { label: 'retrieveLatLonAttacks src', run: (q) => q.topLocationsCreated('community', lastMinutes(now, 1440), 'source', 10) },
    { label: 'retrieveLatLonAttacks dst', run: (q) => q.topLocationsCreated('community', lastMinutes(now, 1440), 'target', 10) },
    { label: 'retrieveLatLonAttacks src offset=1', run: (q) => q.topLocationsCreated('community', { from: day - DAY_MS, to: day }, 'source', 10) },
    { label: 'TpotStats (yesterday)', run: (q) => q.activitySummary('community', { from: day - DAY_MS, to: day }) },
    { label: 'getStats (24 h)', run: (q) => q.listStatisticsSnapshots(formatUtc(now - DAY_MS), formatUtc(now)) },
    tops('urls', '1'), tops('urls', '7'), tops('urls', '28'),
    tops('destports', '1'), tops('destports', '7'), tops('destports', '28'),
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const oneLine = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

function plan(db: Database.Database, sql: string, params: unknown[]): string[] {
  try {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ id: number; parent: number; detail: string }>;
    const depth = new Map<number, number>([[0, -1]]);
    return rows.map((r) => {
      const d = (depth.get(r.parent) ?? 0) + 1;
      depth.set(r.id, d);
      return `${'  '.repeat(d)}${r.detail}`;
    });
  } catch (error) {
    return [`(no plan: ${(error as Error).message})`];
  }
}

/**
 * Hand-written alternatives to the store's SQL, timed on the same database, each next to the
 * store's own SQL for the same question. Those naming a schema change need it applied first
 * (--setup-file bench/query/suggestions.sql, on a copy).
 */
function candidates(now: number, rare: string): Array<{ label: string; sql: string; params: unknown[] }> {
  const day = startOfUtcDay(now) / 1000;
  const single = `SELECT id, "createTime", "peerType" FROM alerts WHERE "sourceEntryIp" = ? AND "clientDomain" IN (1) ORDER BY "createTime" DESC LIMIT 5`;
  const list: Array<{ label: string; sql: string; params: unknown[] }> = [];
  for (const [who, ip] of [['rare', rare], ['unseen', '8.8.8.8']] as const) {
    list.push({ label: `querySingleIP ${who} source: store SQL`, sql: single, params: [ip] });
    list.push({ label: `querySingleIP ${who} source: +"clientDomain" (keeps the planner off the domain index)`, sql: single.replace('AND "clientDomain"', 'AND +"clientDomain"'), params: [ip] });
  }
  list.push({ label: 'latlon offset=1: store SQL (hour grain)',
    sql: `SELECT location, sum(count) FROM agg_created_hour_location WHERE domain IN (1) AND side = 0 AND bucket >= ? AND bucket < ? GROUP BY location`,
    params: [day - 86400, day] });
  list.push({ label: 'latlon offset=1: day grain (needs agg_created_day_location), top 10 in SQL',
    sql: `SELECT location, count FROM agg_created_day_location WHERE domain = 1 AND side = 0 AND bucket = ? ORDER BY count DESC, location LIMIT 10`,
    params: [day - 86400] });
  return list;
}

const USAGE = `usage: node dist/bench/query/sql-probe.js --db FILE [options]
  --runs N              executions per question, the median is printed (default 20)
  --only REGEX          only the questions whose label matches
  --setup SQL           run this SQL first (repeatable; opens the database writable: use a copy)
  --setup-file F        run the SQL in F first (the same)
  --candidates          also time hand-written alternatives next to the store's SQL
  --extra "label|SQL"   also time this SQL, ? bound to the window's from and to (repeatable)
  --no-plan             leave out EXPLAIN QUERY PLAN`;

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      db: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      setup: { type: 'string', multiple: true },
      'setup-file': { type: 'string' },
      candidates: { type: 'boolean' },
      extra: { type: 'string', multiple: true },
      'no-plan': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  if (!values.db) {
    console.error(USAGE);
    process.exit(2);
  }
  const runs = integerOption(values.runs ?? '20', 0, 'runs', 1, 100_000);
  const setup = [...(values.setup ?? []), ...(values['setup-file'] ? [readFileSync(values['setup-file'], 'utf8')] : [])];
  const db = new Database(values.db, { readonly: setup.length === 0 });
  // What SqliteStore sets on its connections.
  db.pragma('cache_size = -65536');
  for (const sql of setup) {
    const t0 = performance.now();
    db.exec(sql);
    const statements = sql.split('\n').filter((line) => !line.trim().startsWith('--')).join(' ');
    console.log(`setup (${((performance.now() - t0) / 1000).toFixed(1)} s): ${oneLine(statements).slice(0, 300)}`);
  }
  const now = Date.now();
  const only = values.only === undefined ? undefined : new RegExp(values.only);
  const log: Execution[] = [];
  const queries = new SqliteQueries(recording(db, log));
  const hot = new AlertGenerator(0).hottestSource();

  for (const c of cases(now, hot)) {
    if (only && !only.test(c.label)) continue;
    const totals: number[] = [];
    const bySql = new Map<string, Execution[]>();
    c.run(queries); // warm: statements prepared, pages cached
    for (let i = 0; i < runs; i++) {
      log.length = 0;
      const t0 = performance.now();
      c.run(queries);
      totals.push(performance.now() - t0);
      for (const e of log) {
        const list = bySql.get(e.sql);
        if (list) list.push(e);
        else bySql.set(e.sql, [e]);
      }
    }
    console.log(`\n== ${c.label}: ${median(totals).toFixed(2)} ms per call (median of ${runs}, store code incl. JS)`);
    for (const [sql, executions] of bySql) {
      const perCall = executions.length / runs;
      console.log(`  ${median(executions.map((e) => e.ms)).toFixed(2).padStart(8)} ms x${perCall % 1 ? perCall.toFixed(1) : perCall}` +
        `  rows ${median(executions.map((e) => e.rows))}  ${oneLine(sql).slice(0, 240)}`);
      if (!values['no-plan']) for (const line of plan(db, sql, executions[0]!.params)) console.log(`      ${line}`);
    }
  }

  const extra = (values.extra ?? []).map((text) => {
    const bar = text.indexOf('|');
    return { label: text.slice(0, bar), sql: text.slice(bar + 1), params: [] as unknown[] };
  });
  if (values.candidates || extra.length > 0) {
    console.log('\n== candidates');
    for (const c of [...(values.candidates ? candidates(now, new AlertGenerator(0).rareSource()) : []), ...extra]) {
      if (only && !only.test(c.label)) continue;
      // A function parameter is computed from the database first (e.g. the store's top-10 keys).
      const params = c.params.map((p) => (typeof p === 'function' ? (p as (d: Database.Database) => unknown)(db) : p));
      let statement: Database.Statement;
      try {
        statement = db.prepare(c.sql);
      } catch (error) {
        console.log(`  (skipped: ${(error as Error).message})  ${c.label}`);
        continue;
      }
      const w0 = performance.now();
      statement.raw().all(...params);
      // Seconds-long statements (full scans) are timed once: the point is made.
      const n = performance.now() - w0 > 1000 ? 1 : runs;
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        rows = (statement.raw().all(...params) as unknown[]).length;
        times.push(performance.now() - t0);
      }
      console.log(`  ${median(times).toFixed(2).padStart(8)} ms  rows ${rows}  ${c.label}`);
      if (!values['no-plan']) for (const line of plan(db, c.sql, params)) console.log(`      ${line}`);
    }
  }
  db.close();
}

main();
