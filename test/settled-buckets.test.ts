/** Groupings of settled past buckets kept between questions: same answers, fewer raw reads. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { HOUR_MS, MINUTE_MS } from '../src/store/range-split';
import { SettledBuckets } from '../src/store/sqlite/settled-buckets';
import { seededRandom, tempDir } from './helpers';

const BASE = Date.UTC(2026, 10, 27);

/** Events at whole seconds over two days, keyed by a few locations; `count` is the raw question. */
function events(): { add(time: number, key: string): void; count(from: number, to: number): Array<[string, number]>; calls: number } {
  const all: Array<[number, string]> = [];
  const store = {
    calls: 0,
    add(time: number, key: string): void {
      all.push([time, key]);
    },
    count(from: number, to: number): Array<[string, number]> {
      store.calls++;
      const totals = new Map<string, number>();
      for (const [time, key] of all) if (time >= from && time < to) totals.set(key, (totals.get(key) ?? 0) + 1);
      return [...totals];
    },
  };
  return store;
}

const nonZero = (pairs: Array<[string, number]>): Map<string, number> => new Map(pairs.filter(([, n]) => n !== 0));

test('answers equal the raw count for any range and any now, and stay equal after late events and forget()', () => {
  const next = seededRandom(11);
  const source = events();
  // An event every second for 8 hours: every edge second of every range has one.
  for (let t = 0; t < 8 * 3600; t++) source.add(BASE + t * 1000, `${Math.floor(next() * 6)}.0 , 1.0`);
  const db = new Database(':memory:');
  const kept = new SettledBuckets(db);
  for (let i = 0; i < 400; i++) {
    const from = BASE + Math.floor(next() * 5 * 3600) * 1000;
    const to = from + Math.floor(next() * 3 * 3600) * 1000;
    // Now anywhere from inside the range to 3 hours after it: buckets settled, unsettled and mixed.
    const now = from + Math.floor(next() * 6 * HOUR_MS);
    const question = i % 2 === 0 ? 'a' : 'b';
    assert.deepEqual(nonZero(kept.pairs(question, from, to, now, source.count)), nonZero(source.count(from, to)), `[${from}, ${to}) now=${now}`);
    if (i % 50 === 49) {
      // A late event into a bucket that may be kept; the store calls forget() after storing it.
      source.add(from + Math.floor(next() * (to - from) / 1000) * 1000, 'late');
      kept.forget();
    }
  }
  db.close();
});

test('a settled bucket is read raw once; later questions read only the partial edges', () => {
  const source = events();
  for (let t = 0; t < 6 * 3600; t += 7) source.add(BASE + t * 1000, t % 3 === 0 ? 'x' : 'y');
  const db = new Database(':memory:');
  const kept = new SettledBuckets(db);
  const now = BASE + 24 * HOUR_MS;
  // Two hours and a bit: whole 10-minute buckets plus a partial one at each end.
  const from = BASE + HOUR_MS + 3 * MINUTE_MS + 17_000;
  const to = from + 2 * HOUR_MS + 4 * MINUTE_MS;
  const expected = nonZero(source.count(from, to));
  source.calls = 0;
  assert.deepEqual(nonZero(kept.pairs('q', from, to, now, source.count)), expected);
  const first = source.calls;
  source.calls = 0;
  assert.deepEqual(nonZero(kept.pairs('q', from, to, now, source.count)), expected);
  assert.ok(first > 10, `the first question counts every bucket (${first} raw reads)`);
  assert.ok(source.calls <= 2, `the second reads only the partial edges (${source.calls} raw reads)`);
  // The horizon tells the store which stored alerts may belong to a kept bucket.
  assert.equal(kept.horizonText, '2026-11-27 03:10:00');
  kept.forget();
  assert.equal(kept.horizonText, '');
  db.close();
});

test('a commit by another connection drops what is kept', () => {
  const source = events();
  source.add(BASE + 30 * MINUTE_MS, 'x');
  const dir = tempDir();
  const path = join(dir.path, 'kept.db');
  const db = new Database(path);
  db.exec('CREATE TABLE t (x)');
  const kept = new SettledBuckets(db);
  const range = [BASE, BASE + HOUR_MS] as const;
  const now = BASE + 24 * HOUR_MS;
  kept.pairs('q', ...range, now, source.count);
  source.calls = 0;
  kept.pairs('q', ...range, now, source.count);
  assert.equal(source.calls, 0, 'kept');
  const other = new Database(path);
  other.exec('INSERT INTO t VALUES (1)');
  other.close();
  kept.pairs('q', ...range, now, source.count);
  assert.ok(source.calls > 0, 'counted again after the other connection wrote');
  db.close();
  dir.remove();
});
