/**
 * The embedded store: one SQLite file in WAL mode. Every batch is one transaction, committed
 * (and, with synchronous=FULL, fsynced) before storeAlerts resolves.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ActivitySummary } from '../../domain/activity';
import { ALERT_FIELDS, type AlertDocument, type AlertRecord, type StoreOutcome } from '../../domain/alert';
import type {
  ArrivalCursor, Arrivals, CountryCount, SensorReport, DayCount, DayTypeCount, DomainScope, KeyCount, Side,
  SourceActivity, SourceActivityQuery, StatisticsSnapshot,
  StoredAlert, TimeRange, TopKind, TopTimeline,
} from '../../domain/query';
import { StoreMissingError, type AlertStore, type CveAlertRecord, type PayloadRecord, type UserRecord } from '../store';
import { AggregateBatch, prepareAggregateStatements } from './aggregates';
import { backupDatabase } from './backup';
import { migrate } from './migrations';
import { rowToDocument, SqliteQueries } from './sqlite-queries';
import { fromStoredId, toStoredId } from './alert-ids';

export type SqliteSynchronous = 'full' | 'normal';

export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  readonly path: string;
  /**
   * `full`: an acknowledged alert survives power loss. `normal`: it survives a crash of the
   * process, but the last commits may be lost on power loss (WAL is fsynced at checkpoints).
   */
  readonly synchronous?: SqliteSynchronous;
  /** How long a write waits for a lock held by another process (the CLI, say), in ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Refuse a path that holds no PEBA database instead of creating one (StoreMissingError): a
   * command run in the wrong directory must not report success on a fresh, empty store.
   */
  readonly mustExist?: boolean;
}

type Row = Record<string, unknown>;

const quoted = ALERT_FIELDS.map((f) => `"${f}"`).join(', ');

const DELETE_CHUNK = 5000;

/**
 * Runs a chunked delete until a chunk comes back short, yielding to the event loop between
 * chunks so ingestion is never blocked for more than one chunk. Returns the rows deleted.
 */
async function inChunks(deleteChunk: (chunk: number) => number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const rows = deleteChunk(DELETE_CHUNK);
    deleted += rows;
    if (rows < DELETE_CHUNK) return deleted;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * What one write transaction did, and what it means for answers kept in memory: new alerts in
 * minutes the bad-IP windows have counted, and whether any was created (or received: an
 * import) in a settled bucket.
 */
interface WriteResult {
  inserted: number;
  duplicates: number;
  readonly lateReceived: AlertDocument[];
  /** New alerts in hours the feeds' kept answers have counted. */
  readonly lateForFeeds: AlertDocument[];
  lateCreated: boolean;
  receivedInSettled: boolean;
}

function openOrCreate(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  return new Database(path);
}

function openExisting(path: string): Database.Database {
  const missing = (): StoreMissingError => new StoreMissingError(`no PEBA store at ${resolve(path)}`);
  if (path !== ':memory:' && !existsSync(path)) throw missing();
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') throw missing();
    throw error;
  }
  // An empty file, or an SQLite file that never held our schema, is not a store either.
  let version: number;
  try {
    version = db.pragma('user_version', { simple: true }) as number;
  } catch (error) {
    db.close();
    throw error;
  }
  if (version === 0) {
    db.close();
    throw missing();
  }
  return db;
}

export class SqliteStore implements AlertStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements;
  private readonly queries: SqliteQueries;
  private readonly writeBatch: Database.Transaction<(records: readonly AlertRecord[]) => WriteResult>;

  constructor(options: SqliteStoreOptions) {
    this.db = options.mustExist ? openExisting(options.path) : openOrCreate(options.path);
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'full'}`);
    this.db.pragma('cache_size = -65536');
    migrate(this.db);
    const db = this.db;
    this.queries = new SqliteQueries(db);
    this.statements = {
      insertAlert: db.prepare(
        `INSERT INTO alerts (id, ${quoted}) VALUES (?, ${ALERT_FIELDS.map(() => '?').join(', ')}) ON CONFLICT(id) DO NOTHING`,
      ),
      insertCve: db.prepare(
        `INSERT INTO cve_alerts (alert_id, vulnid, "createTime", "recievedTime", "clientDomain", "peerIdent", "peerType", "sourceEntryIp", "targetEntryIp")
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      payloadByMd5: db.prepare('SELECT md5 FROM payloads WHERE md5 = ?').pluck(),
      payloadByFuzzy: db.prepare('SELECT md5 FROM payloads WHERE fuzzy_hash = ? LIMIT 1').pluck(),
      countPayload: db.prepare(
        `UPDATE payloads SET count = count + 1, last_seen = max(last_seen, @seen), first_seen = min(first_seen, @seen) WHERE md5 = @md5`,
      ),
      insertPayload: db.prepare(
        `INSERT INTO payloads (md5, fuzzy_hash, mime_type, size, bytes, count, first_seen, last_seen, first_source_ip, first_source_port, peer_type)
         VALUES (@md5, @fuzzyHash, @mimeType, @size, @bytes, 1, @seen, @seen, @sourceIp, @sourcePort, @peerType)`,
      ),
      getAlert: db.prepare(`SELECT ${quoted} FROM alerts WHERE id = ?`),
      countAlerts: db.prepare('SELECT count(*) FROM alerts').pluck(),
      getPayload: db.prepare('SELECT * FROM payloads WHERE md5 = ?'),
      payloadsByFuzzy: db.prepare('SELECT * FROM payloads WHERE fuzzy_hash = ? ORDER BY first_seen'),
      cveAlerts: db.prepare('SELECT * FROM cve_alerts WHERE vulnid = ? ORDER BY "recievedTime"'),
      getUser: db.prepare('SELECT * FROM users WHERE peer_name = ?'),
      putUser: db.prepare(
        `INSERT INTO users (peer_name, token_hash, community, get_only, email) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(peer_name) DO UPDATE SET token_hash = excluded.token_hash, community = excluded.community,
         get_only = excluded.get_only, email = excluded.email`,
      ),
      removeUser: db.prepare('DELETE FROM users WHERE peer_name = ?'),
      listUsers: db.prepare('SELECT * FROM users ORDER BY peer_name'),
      ping: db.prepare('SELECT 1').pluck(),
    };
    const aggregateStatements = prepareAggregateStatements(db);
    this.writeBatch = db.transaction((records: readonly AlertRecord[]) => {
      const aggregates = new AggregateBatch();
      const receivedHorizon = this.queries.sourceWindows.horizonText;
      const feedHorizon = this.queries.feedHours.horizonText;
      const createdHorizon = this.queries.settledBuckets.horizonText;
      const settledReceivedHorizon = this.queries.settledReceived.horizonText;
      const result: WriteResult = { inserted: 0, duplicates: 0, lateReceived: [], lateForFeeds: [], lateCreated: false, receivedInSettled: false };
      for (const record of records) {
        if (this.insertAlert(record)) {
          result.inserted++;
          aggregates.add(record.document);
          if (record.document.recievedTime < receivedHorizon) result.lateReceived.push(record.document);
          if (record.document.recievedTime < feedHorizon) result.lateForFeeds.push(record.document);
          if (record.document.createTime < createdHorizon) result.lateCreated = true;
          if (record.document.recievedTime < settledReceivedHorizon) result.receivedInSettled = true;
        }
      }
      aggregates.write(aggregateStatements);
      result.duplicates = records.length - result.inserted;
      return result;
    });
  }

  /** Inserts one alert and, when it is new, its CVE and payload bookkeeping. */
  private insertAlert(record: AlertRecord): boolean {
    const doc = record.document;
    const values = ALERT_FIELDS.map((field) => (field === 'clientDomain' ? (doc.clientDomain ? 1 : 0) : doc[field]));
    const id = toStoredId(record.id);
    if (this.statements.insertAlert.run(id, ...values).changes === 0) return false;
    for (const vulnid of record.cves) {
      this.statements.insertCve.run(
        id, vulnid, doc.createTime, doc.recievedTime, doc.clientDomain ? 1 : 0,
        doc.peerIdent, doc.peerType, doc.sourceEntryIp, doc.targetEntryIp,
      );
    }
    for (const payload of record.payloads) {
      const seen = doc.recievedTime;
      const known = (this.statements.payloadByMd5.get(payload.md5) as string | undefined) ??
        (payload.fuzzyHash === null ? undefined : (this.statements.payloadByFuzzy.get(payload.fuzzyHash) as string | undefined));
      if (known !== undefined) {
        this.statements.countPayload.run({ md5: known, seen });
      } else {
        this.statements.insertPayload.run({
          md5: payload.md5, fuzzyHash: payload.fuzzyHash, mimeType: payload.mimeType,
          // Beyond the size cap only md5 and size are kept: an empty blob.
          size: payload.size, bytes: payload.content?.() ?? EMPTY, seen,
          sourceIp: doc.sourceEntryIp, sourcePort: doc.sourceEntryPort, peerType: doc.peerType,
        });
      }
    }
    return true;
  }

  async storeAlerts(records: readonly AlertRecord[]): Promise<StoreOutcome> {
    if (records.length === 0) return { inserted: 0, duplicates: 0 };
    const { inserted, duplicates, lateReceived, lateForFeeds, lateCreated, receivedInSettled } = this.writeBatch.immediate(records);
    // Only now, committed: a rolled-back batch must change nothing that is kept in memory.
    for (const doc of lateReceived) this.queries.sourceWindows.addLate(doc);
    for (const doc of lateForFeeds) this.queries.feedHours.addLate(doc);
    if (lateCreated) this.queries.settledBuckets.forget();
    if (receivedInSettled) this.queries.settledReceived.forget();
    return { inserted, duplicates };
  }

  async getAlert(id: string): Promise<AlertDocument | undefined> {
    const row = this.statements.getAlert.get(toStoredId(id)) as Row | undefined;
    return row && rowToDocument(row);
  }

  async countAlerts(): Promise<number> {
    return this.statements.countAlerts.get() as number;
  }

  async getPayload(md5: string): Promise<PayloadRecord | undefined> {
    const row = this.statements.getPayload.get(md5) as Row | undefined;
    return row && toPayload(row);
  }

  async findPayloadsByFuzzyHash(fuzzyHash: string): Promise<PayloadRecord[]> {
    return (this.statements.payloadsByFuzzy.all(fuzzyHash) as Row[]).map(toPayload);
  }

  async listCveAlerts(vulnid: string): Promise<CveAlertRecord[]> {
    return (this.statements.cveAlerts.all(vulnid) as Row[]).map((row) => ({
      alertId: fromStoredId(row['alert_id']),
      vulnid: row['vulnid'] as string,
      createTime: row['createTime'] as string,
      recievedTime: row['recievedTime'] as string,
      clientDomain: row['clientDomain'] === 1,
      peerIdent: row['peerIdent'] as string,
      peerType: row['peerType'] as string,
      sourceEntryIp: row['sourceEntryIp'] as string,
      targetEntryIp: row['targetEntryIp'] as string,
    }));
  }

  async countReceived(scope: DomainScope, range: TimeRange): Promise<number> {
    return this.queries.countReceived(scope, range);
  }

  async countReceivedByPeerType(scope: DomainScope, range: TimeRange): Promise<KeyCount[]> {
    return this.queries.countReceivedByPeerType(scope, range);
  }

  async newestReceived(scope: DomainScope, limit: number): Promise<StoredAlert[]> {
    return this.queries.newestReceived(scope, limit);
  }

  async alertsStoredAfter(cursor: ArrivalCursor | null, limit: number): Promise<Arrivals> {
    return this.queries.alertsStoredAfter(cursor, limit);
  }

  async newestFromSource(scope: DomainScope, sourceIp: string, limit: number): Promise<StoredAlert[]> {
    return this.queries.newestFromSource(scope, sourceIp, limit);
  }

  async sourcesReceived(scope: DomainScope, range: TimeRange): Promise<KeyCount[]> {
    return this.queries.sourcesReceived(scope, range);
  }

  async sourceActivity(scope: DomainScope, query: SourceActivityQuery): Promise<SourceActivity[]> {
    return this.queries.sourceActivity(scope, query);
  }

  async createdPerDay(scope: DomainScope, range: TimeRange): Promise<DayCount[]> {
    const perDay = new Map<number, number>();
    for (const { day, count } of this.queries.createdPerDayAndType(scope, range)) perDay.set(day, (perDay.get(day) ?? 0) + count);
    return [...perDay].map(([day, count]) => ({ day, count })).sort((a, b) => a.day - b.day);
  }

  async createdPerDayAndType(scope: DomainScope, range: TimeRange): Promise<DayTypeCount[]> {
    return this.queries.createdPerDayAndType(scope, range);
  }

  async topCountriesReceived(scope: DomainScope, range: TimeRange, limit: number): Promise<Record<Side, CountryCount[]>> {
    return { source: this.queries.topCountriesReceived(scope, range, 'source', limit), target: this.queries.topCountriesReceived(scope, range, 'target', limit) };
  }

  async topLocationsCreated(scope: DomainScope, range: TimeRange, side: Side, limit: number): Promise<KeyCount[]> {
    return this.queries.topLocationsCreated(scope, range, side, limit);
  }

  async activitySummary(scope: DomainScope, range: TimeRange): Promise<ActivitySummary> {
    return this.queries.activitySummary(scope, range);
  }

  async sensorsReceived(scope: DomainScope, range: TimeRange): Promise<SensorReport[]> {
    return this.queries.sensorsReceived(scope, range);
  }

  async topTimelines(scope: DomainScope, kind: TopKind, range: TimeRange, bucketMs: number, limit: number): Promise<TopTimeline[]> {
    return this.queries.topTimelines(scope, kind, range, bucketMs, limit);
  }

  async putStatisticsSnapshot(snapshot: StatisticsSnapshot): Promise<void> {
    this.queries.putStatisticsSnapshot(snapshot);
  }

  async listStatisticsSnapshots(from: string, to: string): Promise<StatisticsSnapshot[]> {
    return this.queries.listStatisticsSnapshots(from, to);
  }

  async *exportAlerts(): AsyncIterable<StoredAlert> {
    yield* this.queries.exportAlerts();
  }

  /** Deletes in chunks, yielding to the event loop between them so ingestion is never held up long. */
  async deleteReceivedBefore(time: number): Promise<number> {
    const deleted = await inChunks((chunk) => {
      const rows = this.queries.deleteReceivedBeforeChunk(time, chunk);
      // After every chunk: a question between two chunks may count alerts the next one deletes.
      if (rows > 0) {
        this.queries.sourceWindows.forgetBefore(time);
        this.queries.feedHours.forget();
        this.queries.settledBuckets.forget();
        this.queries.settledReceived.forget();
      }
      return rows;
    });
    await inChunks((chunk) => this.queries.deleteCveAlertsBeforeChunk(time, chunk));
    this.queries.deletePayloadsLastSeenBefore(time);
    return deleted;
  }

  /** Chunked per table like deleteReceivedBefore: a first prune after years of data is large. */
  async pruneAggregatesBefore(time: number): Promise<number> {
    let deleted = 0;
    for (const table of this.queries.aggregateTables()) {
      deleted += await inChunks((chunk) => this.queries.pruneAggregateChunk(table, time, chunk));
    }
    return deleted;
  }

  /** A row per (job, slot) in the shared file: the first process to insert it runs the job. */
  async claimRun(job: string, slot: string): Promise<boolean> {
    this.db.exec('CREATE TABLE IF NOT EXISTS job_runs (job TEXT NOT NULL, slot TEXT NOT NULL, PRIMARY KEY (job, slot))');
    return this.db.prepare('INSERT OR IGNORE INTO job_runs (job, slot) VALUES (?, ?)').run(job, slot).changes === 1;
  }

  async getUser(peerName: string): Promise<UserRecord | undefined> {
    const row = this.statements.getUser.get(peerName) as Row | undefined;
    return row && toUser(row);
  }

  async putUser(user: UserRecord): Promise<void> {
    this.statements.putUser.run(user.peerName, user.tokenHash, user.community ? 1 : 0, user.getOnly ? 1 : 0, user.email);
  }

  async removeUser(peerName: string): Promise<boolean> {
    return this.statements.removeUser.run(peerName).changes > 0;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.statements.listUsers.all() as Row[]).map(toUser);
  }

  async ping(): Promise<void> {
    this.statements.ping.get();
  }

  /** A consistent copy of the database as of now in the new file `destination` (see backup.ts). */
  async backup(destination: string): Promise<void> {
    backupDatabase(this.db, destination);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

const EMPTY = Buffer.alloc(0);

function toPayload(row: Row): PayloadRecord {
  return {
    md5: row['md5'] as string,
    fuzzyHash: row['fuzzy_hash'] as string | null,
    mimeType: row['mime_type'] as string,
    size: row['size'] as number,
    bytes: row['bytes'] as Buffer,
    count: row['count'] as number,
    firstSeen: row['first_seen'] as string,
    lastSeen: row['last_seen'] as string,
    firstSourceIp: row['first_source_ip'] as string,
    firstSourcePort: row['first_source_port'] as string,
    peerType: row['peer_type'] as string,
  };
}

function toUser(row: Row): UserRecord {
  return {
    peerName: row['peer_name'] as string,
    tokenHash: row['token_hash'] as string,
    community: row['community'] === 1,
    getOnly: row['get_only'] === 1,
    email: row['email'] as string,
  };
}
