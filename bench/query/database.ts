/**
 * Builds, caches and keeps fresh the benchmark databases. Alerts go through
 * SqliteStore.storeAlerts in large batches, so the aggregates are maintained by the same code
 * as in production; only `synchronous = normal` differs, to make building fast.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import type { AlertRecord } from '../../src/domain/alert';
import { takeStatisticsSnapshot } from '../../src/jobs/statistics';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { AlertGenerator, DAY_MS, GENERATOR_VERSION, HOUR_MS, weightBetween } from './generator';

export const SPAN_DAYS = 30;
/**
 * Alerts per storeAlerts call while building. Large, because every commit rewrites each page the
 * batch touched in the randomly ordered indexes (id, source address): 50k per commit builds 10M
 * alerts about twice as fast as 5k. The aggregates come out the same either way.
 */
const BATCH = 50_000;
/** Page cache of the building connection, KiB: the dirty pages of one batch fit until commit. */
const BUILD_CACHE_KIB = 1024 * 1024;
const SEED = 20260617;
/** A re-run after a longer pause fills only this much of the gap (older part stays empty). */
const MAX_TOP_UP_MS = 2 * DAY_MS;

export interface DbMeta {
  readonly generatorVersion: number;
  readonly schemaKey: string;
  readonly size: number;
  /** Alerts per unit of minute weight: the rate top-ups continue with. */
  readonly perMinute: number;
  readonly spanFrom: number;
  generatedUntil: number;
  snapshotsUntil: number;
  alerts: number;
  complete: boolean;
  build?: {
    readonly seconds: number;
    readonly storeSeconds: number;
    readonly generateSeconds: number;
    readonly snapshotSeconds: number;
    readonly snapshots: number;
    readonly builtAt: string;
  };
  topUpAlerts: number;
  /** What the data looks like, counted once after building. */
  shape?: Record<string, number>;
}

/** The schema key after the first `count` migrations. */
const schemaKeyOf = (count: number): string => createHash('sha1').update(MIGRATIONS.slice(0, count).join('\n')).digest('hex').slice(0, 8);

/** Schema and aggregate layout are part of the cache key: a database of another schema is not reused as it is. */
export const SCHEMA_KEY = schemaKeyOf(MIGRATIONS.length);

export function databasePath(dir: string, size: number, schemaKey = SCHEMA_KEY): string {
  return path.join(dir, `alerts-${size}-g${GENERATOR_VERSION}-${schemaKey}.db`);
}

/**
 * A cached database built before the newest migrations is upgraded in place, by the store's own
 * migrations, as a deployment would be (minutes instead of a rebuild).
 */
async function upgradeOlderDatabase(dir: string, size: number, log: Log): Promise<void> {
  for (let count = MIGRATIONS.length - 1; count >= 1; count--) {
    const older = databasePath(dir, size, schemaKeyOf(count));
    if (!existsSync(older) || !existsSync(metaPath(older))) continue;
    const meta = JSON.parse(readFileSync(metaPath(older), 'utf8')) as DbMeta;
    if (!meta.complete || meta.generatorVersion !== GENERATOR_VERSION) continue;
    const db = databasePath(dir, size);
    log(`  upgrading ${path.basename(older)} from migration ${count} to ${MIGRATIONS.length} ...`);
    const started = performance.now();
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(older + suffix)) renameSync(older + suffix, db + suffix);
    rmSync(metaPath(older));
    await new SqliteStore({ path: db, synchronous: 'normal' }).close();
    writeMeta(db, { ...meta, schemaKey: SCHEMA_KEY });
    log(`  upgraded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
}

const metaPath = (db: string): string => `${db}.json`;

function readMeta(db: string): DbMeta | undefined {
  if (!existsSync(db) || !existsSync(metaPath(db))) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaPath(db), 'utf8')) as DbMeta;
    return meta.complete && meta.generatorVersion === GENERATOR_VERSION && meta.schemaKey === SCHEMA_KEY ? meta : undefined;
  } catch {
    return undefined;
  }
}

function writeMeta(db: string, meta: DbMeta): void {
  writeFileSync(metaPath(db), `${JSON.stringify(meta, null, 2)}\n`);
}

/** Bytes of the database with its WAL (the WAL is empty after a clean close). */
export function databaseBytes(db: string): number {
  let bytes = 0;
  for (const file of [db, `${db}-wal`]) if (existsSync(file)) bytes += statSync(file).size;
  return bytes;
}

const wholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

type Log = (line: string) => void;

/** Stores the generated alerts of [from, to) in batches; returns [alerts, store ms, generate ms]. */
async function fill(store: SqliteStore, generator: AlertGenerator, from: number, to: number, perMinute: number,
  progress?: (alerts: number) => void): Promise<[number, number, number]> {
  let batch: AlertRecord[] = [];
  let alerts = 0;
  let storeMs = 0;
  const started = performance.now();
  const flush = async (): Promise<void> => {
    const t = performance.now();
    const outcome = await store.storeAlerts(batch);
    storeMs += performance.now() - t;
    alerts += outcome.inserted;
    batch = [];
    progress?.(alerts);
  };
  for (const record of generator.alerts(from, to, perMinute)) {
    batch.push(record);
    if (batch.length === BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return [alerts, storeMs, performance.now() - started - storeMs];
}

/** Hourly community statistics snapshots (what the scheduled job writes) for whole hours in [from, to). */
async function snapshots(store: SqliteStore, from: number, to: number): Promise<number> {
  let count = 0;
  for (let hour = Math.ceil(from / HOUR_MS) * HOUR_MS; hour + HOUR_MS <= to; hour += HOUR_MS) {
    await takeStatisticsSnapshot(store, { from: hour, to: hour + HOUR_MS });
    count++;
  }
  return count;
}

/** Returns the cached database of this size, building it first when there is none. */
export async function ensureDatabase(dir: string, size: number, log: Log): Promise<{ path: string; meta: DbMeta; built: boolean }> {
  const db = databasePath(dir, size);
  if (!readMeta(db)) await upgradeOlderDatabase(dir, size, log);
  const cached = readMeta(db);
  if (cached) return { path: db, meta: cached, built: false };
  for (const file of [db, `${db}-wal`, `${db}-shm`, metaPath(db)]) rmSync(file, { force: true });

  const to = wholeSecond(Date.now());
  const from = to - SPAN_DAYS * DAY_MS;
  const perMinute = size / weightBetween(from, to);
  const meta: DbMeta = {
    generatorVersion: GENERATOR_VERSION, schemaKey: SCHEMA_KEY, size, perMinute, spanFrom: from,
    generatedUntil: to, snapshotsUntil: Math.floor(to / HOUR_MS) * HOUR_MS, alerts: 0, complete: false, topUpAlerts: 0,
  };
  log(`building ${db}: ${size.toLocaleString('en-US')} alerts over ${SPAN_DAYS} days`);
  const started = performance.now();
  const store = new SqliteStore({ path: db, synchronous: 'normal' });
  // Build-time only, and skipped if the store stops exposing its connection: the server that is
  // measured later opens the file with its own settings.
  (store as unknown as { db?: Database.Database }).db?.pragma(`cache_size = -${BUILD_CACHE_KIB}`);
  try {
    const generator = new AlertGenerator(SEED);
    const step = Math.max(BATCH, Math.round(size / 10 / BATCH) * BATCH);
    let next = step;
    const [alerts, storeMs, generateMs] = await fill(store, generator, from, to, perMinute, (n) => {
      if (n < next) return;
      next += step;
      const seconds = (performance.now() - started) / 1000;
      log(`  ${n.toLocaleString('en-US')} alerts, ${seconds.toFixed(0)} s, ${Math.round(n / seconds).toLocaleString('en-US')} alerts/s`);
    });
    const s0 = performance.now();
    const count = await snapshots(store, from, to);
    const snapshotMs = performance.now() - s0;
    meta.alerts = alerts;
    meta.build = {
      seconds: (performance.now() - started) / 1000,
      storeSeconds: storeMs / 1000,
      generateSeconds: generateMs / 1000,
      snapshotSeconds: snapshotMs / 1000,
      snapshots: count,
      builtAt: new Date().toISOString(),
    };
  } finally {
    await store.close(); // the last close checkpoints the WAL into the database file
  }
  meta.shape = describe(db);
  meta.complete = true;
  writeMeta(db, meta);
  return { path: db, meta, built: true };
}

/** Distinct sources, sensors, URLs, ports and peerTypes: evidence the data has a realistic spread. */
function describe(db: string): Record<string, number> {
  const sqlite = new Database(db, { readonly: true });
  try {
    const one = (sql: string): number => sqlite.prepare(sql).pluck().get() as number;
    return {
      alerts: one('SELECT count(*) FROM alerts'),
      communityAlerts: one('SELECT count(*) FROM alerts WHERE "clientDomain" = 1'),
      distinctSources: one('SELECT count(DISTINCT "sourceEntryIp") FROM alerts'),
      distinctSensors: one('SELECT count(DISTINCT sensor) FROM agg_received_day_sensor'),
      distinctDaemons: one('SELECT count(*) FROM (SELECT DISTINCT sensor, peer_ident FROM agg_received_day_sensor)'),
      distinctPeerTypes: one('SELECT count(DISTINCT peer_type) FROM agg_received_hour'),
      distinctUrls: one('SELECT count(DISTINCT key) FROM agg_received_day_top WHERE kind = 0'),
      distinctPorts: one('SELECT count(DISTINCT key) FROM agg_received_day_top WHERE kind = 1'),
      distinctSourceLocations: one('SELECT count(DISTINCT location) FROM agg_created_hour_location WHERE side = 0'),
      hottestSourceAlerts: one('SELECT max(c) FROM (SELECT count(*) AS c FROM alerts GROUP BY "sourceEntryIp")'),
    };
  } finally {
    sqlite.close();
  }
}

/**
 * Keeps a cached database current while it is measured: alerts from where the data ends up to
 * now, at the rate it was built with, so the rolling windows (last minute, 15 minutes, ...)
 * hold what they would in production. Writes through its own connection while the server reads.
 */
export class TopUp {
  private readonly store: SqliteStore;
  private readonly generator: AlertGenerator;

  constructor(private readonly db: string, private readonly meta: DbMeta) {
    this.store = new SqliteStore({ path: db, synchronous: 'normal' });
    this.generator = new AlertGenerator(SEED ^ (meta.generatedUntil / 1000));
  }

  /** Fills up to now; returns the alerts added and whether part of a long gap was left empty. */
  async toNow(): Promise<{ alerts: number; skippedMs: number }> {
    const to = wholeSecond(Date.now());
    const from = Math.max(this.meta.generatedUntil, to - MAX_TOP_UP_MS);
    const skippedMs = from - this.meta.generatedUntil;
    if (from >= to) return { alerts: 0, skippedMs: 0 };
    const [alerts] = await fill(this.store, this.generator, from, to, this.meta.perMinute);
    this.meta.generatedUntil = to;
    this.meta.alerts += alerts;
    this.meta.topUpAlerts += alerts;
    await snapshots(this.store, Math.max(this.meta.snapshotsUntil, to - MAX_TOP_UP_MS), to);
    this.meta.snapshotsUntil = Math.floor(to / HOUR_MS) * HOUR_MS;
    writeMeta(this.db, this.meta);
    return { alerts, skippedMs };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
