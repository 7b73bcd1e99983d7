/**
 * The firewall feeds' store question (sourceActivity) on a bench:query database, in process:
 * per window the first question (every whole hour counted, as after start, retention or a write
 * of another process) and the longest the event loop was held meanwhile, an hour move (the
 * window an hour later: one hour out, one counted), the median of the questions after it (whole
 * hours kept, edges read), and as the reference in the same run the single grouped pass over the
 * raw alerts that answered before kept hours, whose answer must be the same, source for source.
 *
 * With `node --expose-gc` it also prints the heap the kept hours take (the heap after the first
 * question minus before, both after a full GC).
 *
 *   node --expose-gc dist/bench/query/feed-probe.js --db /tmp/peba-bench-query/alerts-1000000-g1-*.db [--runs 20]
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { lastMinutes } from '../../src/api/clock';
import type { SourceActivity, SourceActivityQuery } from '../../src/domain/query';
import { formatUtc } from '../../src/domain/time';
import { SqliteQueries } from '../../src/store/sqlite/sqlite-queries';
import { exitWithUsageIfAsked, integerOption } from '../common/options';

const USAGE = 'usage: node dist/bench/query/feed-probe.js --db FILE [--runs N]';

/** The query the feeds ran before source_hours: every alert of the window grouped in one pass. */
const RAW_SQL = `SELECT "sourceEntryIp", count(*) AS n, min("recievedTime"), max("recievedTime"),
  json_group_array(DISTINCT "peerType"), count(DISTINCT "peerIdent") AS sensors
  FROM alerts WHERE "clientDomain" IN (0, 1) AND "recievedTime" >= ? AND "recievedTime" < ?
  GROUP BY "sourceEntryIp" HAVING n >= ? AND sensors >= ? ORDER BY n DESC, "sourceEntryIp"`;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { db: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  exitWithUsageIfAsked(values.help, USAGE);
  if (values.db === undefined) {
    console.error(USAGE);
    process.exit(2);
  }
  const runs = integerOption(values.runs, 20, 'runs', 1, 10_000);
  const db = new Database(values.db, { readonly: true });
  db.pragma('cache_size = -65536');
  const raw = db.prepare(RAW_SQL).raw();
  console.log(`feed probe on ${values.db}, ${runs} questions per window after the first; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = (): number => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  console.log(`window      sources  first (ms)  longest block (ms)  hour move (ms)  median after (ms)  raw grouped pass (ms, median)  same answer${gc ? '  kept heap' : ''}`);
  const time = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const result = await run();
    return [result, performance.now() - t0];
  };
  for (const minutes of [15, 120, 1440, 10_080]) {
    // A fresh query layer: nothing kept, as after start.
    const queries = new SqliteQueries(db);
    const now = Date.now();
    const query: SourceActivityQuery = { range: lastMinutes(now, minutes), peerTypes: [], minAlerts: 1, minSensors: 1 };
    const heapBefore = heap();
    // The first question counts every whole hour, yielding between hours: the longest time the
    // event loop was held shows what ingest waits at most meanwhile.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const [answer, first] = await time(() => queries.sourceActivity('both', query));
    loop.disable();
    const keptBytes = heap() - heapBefore;
    // An hour move: the same window an hour later (one hour out, one hour in), on its own layer
    // brought to the window an hour earlier first.
    const moving = new SqliteQueries(db);
    await moving.sourceActivity('both', { ...query, range: lastMinutes(now - 3_600_000, minutes) });
    const move = (await time(() => moving.sourceActivity('both', query)))[1];
    const after: number[] = [];
    const reference: number[] = [];
    let rows: unknown[][] = [];
    for (let i = 0; i < runs; i++) {
      after.push((await time(() => queries.sourceActivity('both', query)))[1]);
      const t0 = performance.now();
      rows = raw.all(formatUtc(query.range.from), formatUtc(query.range.to), 1, 1) as unknown[][];
      reference.push(performance.now() - t0);
    }
    const same = rows.length === answer.length && rows.every(([address, count, firstSeen, lastSeen, types, sensors], k) => {
      const s: SourceActivity = answer[k]!;
      return s.address === address && s.count === count && s.firstSeen === firstSeen && s.lastSeen === lastSeen && s.sensors === sensors &&
        JSON.stringify(s.peerTypes) === JSON.stringify((JSON.parse(types as string) as string[]).sort());
    });
    console.log(`${`${minutes} min`.padEnd(10)} ${String(answer.length).padStart(8)} ${first.toFixed(1).padStart(11)} ${(loop.max / 1e6).toFixed(1).padStart(19)} ` +
      `${move.toFixed(1).padStart(15)} ${median(after).toFixed(1).padStart(18)} ${median(reference).toFixed(1).padStart(30)}  ${same ? 'yes' : 'NO '}` +
      (gc ? `          ${(keptBytes / 1e6).toFixed(1)} MB (${Math.round(keptBytes / Math.max(1, answer.length))} B a source)` : ''));
    if (!same) process.exitCode = 1;
  }
  db.close();
}

void main();
