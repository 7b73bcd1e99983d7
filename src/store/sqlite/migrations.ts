/**
 * Versioned schema migrations, applied in order at open; `PRAGMA user_version` records the
 * last one applied. Never edit a released migration: append a new one.
 */
import type Database from 'better-sqlite3';

/**
 * The alert columns migration 1 created: the document's field names as they were then, so rows
 * map onto documents 1:1. Frozen: a field added to the document later gets its column from a new
 * migration (ALTER TABLE ... ADD COLUMN), never by changing what migration 1 creates, which
 * existing databases have already run.
 */
const MIGRATION_1_ALERT_FIELDS = [
  'createTime', 'recievedTime', 'clientDomain', 'peerIdent', 'peerType',
  'sourceEntryIp', 'sourceEntryPort', 'targetEntryIp', 'targetEntryPort', 'targetport',
  'country', 'countryName', 'sourceEntryAS', 'location',
  'targetCountry', 'targetCountryName', 'targetEntryAS', 'locationDestination',
  'originalRequestString', 'username', 'password', 'login', 'clientVersion',
  'sessionStart', 'sessionEnd', 'vulnid', 'additionalData', 'rawhttp',
  'externalIP', 'internalIP', 'hostname', 'client',
];
const alertColumns = MIGRATION_1_ALERT_FIELDS.map((field) =>
  field === 'clientDomain' ? `"${field}" INTEGER NOT NULL` : `"${field}" TEXT NOT NULL`,
).join(',\n  ');

export const MIGRATIONS: readonly string[] = [
  // 1: alerts, the CVE and payload side stores, users.
  `CREATE TABLE alerts (
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL,
  ${alertColumns}
);
CREATE UNIQUE INDEX alerts_id ON alerts(id);
CREATE INDEX alerts_domain_received ON alerts("clientDomain", "recievedTime");
CREATE INDEX alerts_source_created ON alerts("sourceEntryIp", "createTime");

CREATE TABLE cve_alerts (
  alert_id BLOB NOT NULL,
  vulnid TEXT NOT NULL,
  "createTime" TEXT NOT NULL,
  "recievedTime" TEXT NOT NULL,
  "clientDomain" INTEGER NOT NULL,
  "peerIdent" TEXT NOT NULL,
  "peerType" TEXT NOT NULL,
  "sourceEntryIp" TEXT NOT NULL,
  "targetEntryIp" TEXT NOT NULL,
  PRIMARY KEY (alert_id, vulnid)
) WITHOUT ROWID;
CREATE INDEX cve_alerts_vulnid ON cve_alerts(vulnid, "recievedTime");

CREATE TABLE payloads (
  md5 TEXT PRIMARY KEY,
  fuzzy_hash TEXT,
  mime_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  count INTEGER NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  first_source_ip TEXT NOT NULL,
  first_source_port TEXT NOT NULL,
  peer_type TEXT NOT NULL
);
CREATE INDEX payloads_fuzzy_hash ON payloads(fuzzy_hash) WHERE fuzzy_hash IS NOT NULL;

CREATE TABLE users (
  peer_name TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  community INTEGER NOT NULL DEFAULT 0,
  get_only INTEGER NOT NULL DEFAULT 0,
  email TEXT NOT NULL DEFAULT ''
);`,
  // 2: aggregates maintained at write time (see aggregates.ts), statistics snapshots, and the
  // indexes the raw-alert questions need. Bucket columns hold the bucket start, epoch seconds.
  `CREATE TABLE agg_received_minute (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, peer_type TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (domain, bucket, peer_type)) WITHOUT ROWID;
CREATE TABLE agg_received_hour (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, peer_type TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (domain, bucket, peer_type)) WITHOUT ROWID;
CREATE TABLE agg_created_day (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, peer_type TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (domain, bucket, peer_type)) WITHOUT ROWID;
CREATE TABLE agg_received_day_country (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, side INTEGER NOT NULL, code TEXT NOT NULL,
  name TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (domain, side, bucket, code, name)) WITHOUT ROWID;
CREATE TABLE agg_created_hour_location (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, side INTEGER NOT NULL, location TEXT NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (domain, side, bucket, location)) WITHOUT ROWID;
CREATE TABLE agg_received_day_sensor (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, sensor TEXT NOT NULL, peer_ident TEXT NOT NULL,
  peer_type TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (domain, bucket, sensor, peer_ident, peer_type)) WITHOUT ROWID;
CREATE TABLE agg_received_hour_top (domain INTEGER NOT NULL, kind INTEGER NOT NULL, bucket INTEGER NOT NULL, key TEXT NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (domain, kind, bucket, key)) WITHOUT ROWID;
CREATE TABLE agg_received_day_top (domain INTEGER NOT NULL, kind INTEGER NOT NULL, bucket INTEGER NOT NULL, key TEXT NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (domain, kind, bucket, key)) WITHOUT ROWID;
CREATE TABLE statistics (from_time TEXT PRIMARY KEY, to_time TEXT NOT NULL, vals TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX alerts_domain_created ON alerts("clientDomain", "createTime");
DROP INDEX alerts_domain_received;
CREATE INDEX alerts_domain_received ON alerts("clientDomain", "recievedTime", "sourceEntryIp");`,
  // 3: top keys without grouping whole windows (sqlite-queries.ts topTimelines): the rows
  // heavy enough to matter, and each key's buckets in one index range.
  `CREATE INDEX agg_received_hour_top_heavy ON agg_received_hour_top(domain, kind, bucket, key) WHERE count >= 4;
CREATE INDEX agg_received_day_top_heavy ON agg_received_day_top(domain, kind, bucket, key) WHERE count >= 16;
CREATE INDEX agg_received_hour_top_key ON agg_received_hour_top(domain, kind, key, bucket);
CREATE INDEX agg_received_day_top_key ON agg_received_day_top(domain, kind, key, bucket);`,
  // 4: the per-key bucket reads of the top tables cover count (no seek into the table per row).
  `DROP INDEX agg_received_hour_top_key;
CREATE INDEX agg_received_hour_top_key ON agg_received_hour_top(domain, kind, key, bucket, count);
DROP INDEX agg_received_day_top_key;
CREATE INDEX agg_received_day_top_key ON agg_received_day_top(domain, kind, key, bucket, count);`,
  // 5: a stricter tier of heavy top rows (sqlite-queries.ts HEAVY_TIERS): few candidates at high rates.
  `CREATE INDEX agg_received_hour_top_heavy2 ON agg_received_hour_top(domain, kind, bucket, key) WHERE count >= 16;
CREATE INDEX agg_received_day_top_heavy2 ON agg_received_day_top(domain, kind, bucket, key) WHERE count >= 128;`,
  // 6: the activity summary (TpotStats) of finished UTC days, kept once computed; dropped by
  // aggregates.ts when that day's sensor rows change, pruned with the other aggregates.
  `CREATE TABLE agg_received_day_activity (scope TEXT NOT NULL, bucket INTEGER NOT NULL, summary TEXT NOT NULL,
  PRIMARY KEY (scope, bucket)) WITHOUT ROWID;`,
  // 7: top locations from heavy hourly rows (sqlite-queries.ts heavyLocations), and each
  // location's hours in one index range.
  `CREATE INDEX agg_created_hour_location_heavy ON agg_created_hour_location(domain, side, bucket, location) WHERE count >= 32;
CREATE INDEX agg_created_hour_location_key ON agg_created_hour_location(domain, side, location, bucket, count);`,
  // 8: the raw edges of location questions (by createTime) read the index alone.
  `CREATE INDEX alerts_domain_created_location ON alerts("clientDomain", "createTime", "location", "locationDestination");
DROP INDEX alerts_domain_created;`,
  // 9: a stricter tier of heavy location rows (sqlite-queries.ts HEAVY_LOCATION_TIERS).
  `CREATE INDEX agg_created_hour_location_heavy2 ON agg_created_hour_location(domain, side, bucket, location) WHERE count >= 128;`,
  // 10: heavy rows marked once in a table of their own (aggregates.ts HEAVY_MARKS) instead of
  // partial indexes that every increment of a busy row rewrote (bench/ingest).
  `CREATE TABLE agg_heavy (tbl INTEGER NOT NULL, domain INTEGER NOT NULL, part INTEGER NOT NULL, at_least INTEGER NOT NULL,
  bucket INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, domain, part, at_least, bucket, key)) WITHOUT ROWID;
INSERT INTO agg_heavy SELECT 0, domain, kind, 16, bucket, key FROM agg_received_hour_top WHERE count >= 16;
INSERT INTO agg_heavy SELECT 0, domain, kind, 4, bucket, key FROM agg_received_hour_top WHERE count >= 4;
INSERT INTO agg_heavy SELECT 1, domain, kind, 128, bucket, key FROM agg_received_day_top WHERE count >= 128;
INSERT INTO agg_heavy SELECT 1, domain, kind, 16, bucket, key FROM agg_received_day_top WHERE count >= 16;
INSERT INTO agg_heavy SELECT 2, domain, side, 128, bucket, location FROM agg_created_hour_location WHERE count >= 128;
INSERT INTO agg_heavy SELECT 2, domain, side, 32, bucket, location FROM agg_created_hour_location WHERE count >= 32;
DROP INDEX agg_received_hour_top_heavy;
DROP INDEX agg_received_hour_top_heavy2;
DROP INDEX agg_received_day_top_heavy;
DROP INDEX agg_received_day_top_heavy2;
DROP INDEX agg_created_hour_location_heavy;
DROP INDEX agg_created_hour_location_heavy2;`,
  // 11: a middle tier (8) of heavy hourly top rows, for one-day tops at medium rates.
  `INSERT INTO agg_heavy SELECT 0, domain, kind, 8, bucket, key FROM agg_received_hour_top WHERE count >= 8;`,
];

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this PEBA (${MIGRATIONS.length}); upgrade PEBA`);
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}
