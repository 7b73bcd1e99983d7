/** Upgrading a database written by an earlier PEBA: its migrations carry the data forward. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ALERT_FIELDS } from '../src/domain/alert';
import { MIGRATIONS } from '../src/store/sqlite/migrations';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { tempDir } from './helpers';

const HOUR = 3_600_000;

/** A database as PEBA left it after migration `version`, with aggregate rows written by hand. */
function databaseAt(path: string, version: number, setup: (db: Database.Database) => void): void {
  const db = new Database(path);
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  setup(db);
  db.close();
}

test('migration 10 marks the heavy rows that earlier versions wrote, and answers stay the same', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'peba.db');
  const hour = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
  // Port 22 is heavy (>= 16, >= 8, >= 4) in one hour, 23 only >= 4, 80 never; locations alike.
  databaseAt(path, 9, (db) => {
    const top = db.prepare('INSERT INTO agg_received_hour_top (domain, kind, bucket, key, count) VALUES (1, 1, ?, ?, ?)');
    top.run(hour / 1000, '22', 20);
    top.run(hour / 1000, '23', 5);
    top.run(hour / 1000, '80', 2);
    top.run(hour / 1000 + 3600, '22', 1);
    const location = db.prepare('INSERT INTO agg_created_hour_location (domain, side, bucket, location, count) VALUES (1, 0, ?, ?, ?)');
    location.run(hour / 1000, '1.0 , 1.0', 130);
    location.run(hour / 1000, '2.0 , 2.0', 40);
    location.run(hour / 1000, '3.0 , 3.0', 3);
  });
  const store = new SqliteStore({ path });
  try {
    await store.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    const marks = db.prepare('SELECT tbl, part, at_least, key FROM agg_heavy ORDER BY tbl, at_least DESC, key').raw().all();
    assert.deepEqual(marks, [
      [0, 1, 16, '22'], [0, 1, 8, '22'], [0, 1, 4, '22'], [0, 1, 4, '23'],
      [2, 0, 128, '1.0 , 1.0'], [2, 0, 32, '1.0 , 1.0'], [2, 0, 32, '2.0 , 2.0'],
    ]);
    const partialIndexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%heavy%'`).pluck().all();
    assert.deepEqual(partialIndexes, [], 'the partial indexes the marks replace are gone');
    db.close();

    const reopened = new SqliteStore({ path });
    // 23 hours: never a whole UTC day, which would be read from the day rows this test leaves empty.
    const range = { from: hour - 19 * HOUR, to: hour + 4 * HOUR };
    const timelines = await reopened.topTimelines('community', 'destports', range, HOUR, 3);
    assert.deepEqual(timelines.map((t) => [t.key, t.total]), [['22', 21], ['23', 5], ['80', 2]]);
    await reopened.close();
  } finally {
    dir.remove();
  }
});

test('migration 1 is frozen: a field added to the alert document does not change what it creates', () => {
  // The compiled modules are CommonJS: add a field to the live list, load the migrations afresh.
  const alertModule = require('../src/domain/alert') as { ALERT_FIELDS: string[] };
  const migrationsPath = require.resolve('../src/store/sqlite/migrations');
  const before = MIGRATIONS[0];
  alertModule.ALERT_FIELDS.push('someFutureField');
  try {
    delete require.cache[migrationsPath];
    const reloaded = (require(migrationsPath) as { MIGRATIONS: readonly string[] }).MIGRATIONS;
    assert.equal(reloaded[0], before);
    assert.doesNotMatch(reloaded[0]!, /someFutureField/);
  } finally {
    alertModule.ALERT_FIELDS.pop();
    delete require.cache[migrationsPath];
  }
  // What it creates, column by column, as every existing database has it.
  const db = new Database(':memory:');
  try {
    db.exec(MIGRATIONS[0]!);
    const columns = (db.pragma('table_info(alerts)') as Array<{ name: string }>).map((c) => c.name);
    assert.deepEqual(columns, [
      'seq', 'id', 'createTime', 'recievedTime', 'clientDomain', 'peerIdent', 'peerType',
      'sourceEntryIp', 'sourceEntryPort', 'targetEntryIp', 'targetEntryPort', 'targetport',
      'country', 'countryName', 'sourceEntryAS', 'location',
      'targetCountry', 'targetCountryName', 'targetEntryAS', 'locationDestination',
      'originalRequestString', 'username', 'password', 'login', 'clientVersion',
      'sessionStart', 'sessionEnd', 'vulnid', 'additionalData', 'rawhttp',
      'externalIP', 'internalIP', 'hostname', 'client',
    ]);
  } finally {
    db.close();
  }
});

test('after every migration the alerts table has a column for every field of the document', async () => {
  const dir = tempDir();
  const store = new SqliteStore({ path: join(dir.path, 'peba.db'), synchronous: 'normal' });
  await store.close();
  const db = new Database(join(dir.path, 'peba.db'), { readonly: true });
  try {
    const columns = new Set((db.pragma('table_info(alerts)') as Array<{ name: string }>).map((c) => c.name));
    assert.deepEqual(ALERT_FIELDS.filter((f) => !columns.has(f)), [], 'a new field needs a migration that adds its column');
  } finally {
    db.close();
    dir.remove();
  }
});

test('a database migrated by a newer PEBA is refused, its schema untouched (rolling back needs the backup taken before the upgrade)', () => {
  const dir = tempDir();
  const path = join(dir.path, 'peba.db');
  try {
    databaseAt(path, MIGRATIONS.length, () => {});
    const newer = new Database(path);
    newer.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    newer.close();
    assert.throws(() => new SqliteStore({ path }), new RegExp(`database schema version ${MIGRATIONS.length + 1} is newer than this PEBA \\(${MIGRATIONS.length}\\); upgrade PEBA`));
    const after = new Database(path, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), MIGRATIONS.length + 1);
    after.close();
  } finally {
    dir.remove();
  }
});
