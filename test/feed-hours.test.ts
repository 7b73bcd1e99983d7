/** The feeds' kept hours stay within their memory bound (hour rows plus sources), and answers do not depend on it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { SourceActivityQuery } from '../src/domain/query';
import { formatUtc } from '../src/domain/time';
import { FeedHours } from '../src/store/sqlite/feed-hours';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { alertRecord, tempDir } from './helpers';

const HOUR = 3_600_000;

test('feed hours: a window with more sources than the bound is answered the same, and never kept beyond it', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'peba.db');
  const now = Math.floor(Date.now() / 1000) * 1000;
  const store = new SqliteStore({ path, synchronous: 'normal' });
  await store.storeAlerts(Array.from({ length: 600 }, (_, i) => {
    const time = formatUtc(now - ((i * 7919) % (60 * 3600)) * 1000);
    return alertRecord({
      recievedTime: time, createTime: time, clientDomain: i % 3 !== 0,
      peerType: ['SSH/console(cowrie)', 'Webpage'][i % 2]!, peerIdent: `sensor-${i % 5}`,
      sourceEntryIp: `198.51.100.${i % 40}`,
    }, createHash('md5').update(`feed-hours-${i}`).digest('hex'));
  }));
  await store.close();
  const db = new Database(path, { readonly: true });
  try {
    const statements = new Map<string, Database.Statement>();
    const statement = (sql: string): Database.Statement => statements.get(sql) ?? statements.set(sql, db.prepare(sql)).get(sql)!;
    const bounded = new FeedHours(db, statement, 100);
    const unbounded = new FeedHours(db, statement);
    const question = (hours: number, peerTypes: string[]): SourceActivityQuery =>
      ({ range: { from: now - hours * HOUR - 1234_000, to: now + 1000 }, peerTypes, minAlerts: 1, minSensors: 1 });
    for (const [hours, peerTypes] of [[24, []], [48, []], [24, ['Webpage']], [48, []], [24, []]] as const) {
      const query = question(hours, [...peerTypes]);
      const expected = await unbounded.activity([0, 1], query);
      assert.ok(expected.length > 10, `${expected.length} sources`);
      assert.deepEqual(await bounded.activity([0, 1], query), expected, `${hours} h ${peerTypes.join(',')}`);
      assert.ok(bounded.keptSize <= 100, `${bounded.keptSize} kept`);
    }
    assert.ok(unbounded.keptSize > 100, 'without the bound the shapes stay kept');
    // A bound that holds one shape but not two: the newer replaces the older.
    const one = new FeedHours(db, statement, 600);
    await one.activity([0, 1], question(48, []));
    const first = one.keptSize;
    assert.ok(first > 0 && first <= 600, `${first} kept`);
    await one.activity([0, 1], question(24, ['Webpage']));
    assert.ok(one.keptSize > 0 && one.keptSize < first, `${one.keptSize} kept after ${first}`);
  } finally {
    db.close();
    dir.remove();
  }
});
