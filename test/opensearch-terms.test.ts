/** When a terms aggregation's reported count errors prove its top exact, and when they do not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proveTopFromTimelines, provablyExactTop, readsEpochMillis } from '../src/store/opensearch/search';

const bucket = (key: string, count: number, error: number) => ({ key, doc_count: count, doc_count_error_upper_bound: error });

test('a top of exact counts strictly above what any unlisted key can have is exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 0), bucket('b', 10, 0), bucket('c', 3, 2)], 4, 100, 2), true);
});

test('a top bucket that may be undercounted is not exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 1), bucket('b', 10, 0)], 4, 100, 1), false);
});

test('an unlisted key that may reach or tie the K-th count makes the top not exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 0), bucket('b', 10, 0)], 10, 100, 2), false, 'tie: an unlisted key may sort first');
  assert.equal(provablyExactTop([bucket('a', 20, 0), bucket('b', 10, 0)], 9, 100, 2), true);
});

test('a key cut from a full answer may have up to the last listed count plus the overall error', () => {
  // Shard A lists x 10, y 9 (last 9); shard B lists y 8, z 7 (last 7): y 17 exact, overall error 16.
  // Asked for 2 buckets, x (10, error 7, maybe 17 and first by key) can be the cut one.
  assert.equal(provablyExactTop([bucket('y', 17, 0), bucket('x', 10, 7)], 16, 2, 1), false);
  assert.equal(provablyExactTop([bucket('y', 17, 0), bucket('x', 10, 7)], 16, 3, 1), false, 'x itself may reach 17');
  assert.equal(provablyExactTop([bucket('y', 18, 0), bucket('x', 10, 7)], 16, 3, 1), true);
});

test('fewer keys than asked are exact only when no shard cut its list', () => {
  assert.equal(provablyExactTop([bucket('a', 3, 0)], 0, 100, 5), true);
  assert.equal(provablyExactTop([bucket('a', 3, 0)], 1, 100, 5), false);
  assert.equal(provablyExactTop([], 0, 100, 5), true);
});

test('an unknown error (-1 or missing) is never taken as exact', () => {
  assert.equal(provablyExactTop([bucket('a', 20, 0)], -1, 100, 1), false);
  assert.equal(provablyExactTop([{ key: 'a', doc_count: 20 }], 0, 100, 1), false);
});

/** A time bucket's top list: [key, count, error] entries, the bucket's overall error and its other documents. */
const timeBucket = (key: number, entries: Array<[string, number, number]>, error = 0, other = 0) => ({
  key, keys: { doc_count_error_upper_bound: error, sum_other_doc_count: other, buckets: entries.map(([k, c, e]) => bucket(k, c, e)) },
});

test('per-bucket top lists that listed every key give the exact top and timelines in one search', () => {
  const proof = proveTopFromTimelines([timeBucket(0, [['a', 5, 0], ['b', 3, 0]]), timeBucket(10, [['b', 4, 0], ['c', 1, 0]])], 2);
  assert.deepEqual(proof, { top: [{ key: 'b', total: 7, buckets: new Map([[0, 3], [10, 4]]) }, { key: 'a', total: 5, buckets: new Map([[0, 5]]) }] });
});

test('a key cut from one bucket\'s list is recounted, not summed as if absent there', () => {
  // Bucket 10 listed only x (9) and cut the rest: 6 other documents. Summing the lists gives x 9,
  // a 8, b 3 (a second); but a and b may each hold up to 6 more in bucket 10, so b (up to 9) may
  // pass a: both need exact counts. c (up to 7) cannot reach the second place; x is exact.
  const proof = proveTopFromTimelines([
    timeBucket(0, [['a', 8, 0], ['b', 3, 0], ['c', 1, 0]]),
    timeBucket(10, [['x', 9, 0]], 0, 6),
  ], 2);
  assert.ok(proof !== undefined && !('top' in proof));
  assert.deepEqual(proof.exact.map((t) => [t.key, t.total]), [['x', 9]]);
  // Each is unsure only in bucket 10; its count in bucket 0 is exact and need not be counted again.
  assert.deepEqual(proof.recount, [
    { key: 'a', settled: new Map([[0, 8]]), unsettled: [10] },
    { key: 'b', settled: new Map([[0, 3]]), unsettled: [10] },
  ]);
});

test('a candidate is unsure only in the buckets that cut their list without it or listed it with an error', () => {
  const proof = proveTopFromTimelines([
    // Listed every key: b, absent, has 0 here (settled, nothing to recount).
    timeBucket(0, [['a', 5, 0], ['c', 1, 0]]),
    // b listed with an error: its count here may be short.
    timeBucket(10, [['a', 4, 0], ['b', 3, 2]], 2, 1),
    // Cut after a: b may have up to 2 here.
    timeBucket(20, [['a', 6, 0], ['x', 2, 0]], 0, 3),
    // b listed exactly.
    timeBucket(30, [['b', 7, 0]]),
  ], 2);
  assert.ok(proof !== undefined && !('top' in proof));
  assert.deepEqual(proof.exact.map((t) => [t.key, t.total]), [['a', 15]]);
  // b: 10 listed, up to 2 more in bucket 10 (its error) and up to min(2, 3) in bucket 20; c (at most
  // 1 + 3 + 2) and x (at most 2 + 3) cannot reach b's 10.
  assert.deepEqual(proof.recount, [{ key: 'b', settled: new Map([[30, 7]]), unsettled: [10, 20] }]);
});

test('keys never listed that may reach the K-th count leave the top unproven', () => {
  // Each bucket cut its list after 2 keys; a key never listed may have 2 + 2 = 4 alerts, as many as the second.
  const buckets = [timeBucket(0, [['a', 9, 0], ['b', 2, 0]], 0, 10), timeBucket(10, [['a', 9, 0], ['b', 2, 0]], 0, 10)];
  assert.equal(proveTopFromTimelines(buckets, 2), undefined);
  assert.deepEqual(proveTopFromTimelines(buckets, 1), { top: [{ key: 'a', total: 18, buckets: new Map([[0, 9], [10, 9]]) }] });
});

test('fewer keys than asked are the answer only when no bucket cut its list', () => {
  assert.deepEqual(proveTopFromTimelines([timeBucket(0, [['a', 2, 0]])], 5), { top: [{ key: 'a', total: 2, buckets: new Map([[0, 2]]) }] });
  assert.equal(proveTopFromTimelines([timeBucket(0, [['a', 2, 0]], 0, 1)], 5), undefined);
  assert.equal(proveTopFromTimelines([timeBucket(0, [['a', 2, 0]], -1)], 1), undefined, 'an unknown error');
});

test('a date format reads epoch milliseconds when it names them, or when there is none (the engine\'s default)', () => {
  assert.equal(readsEpochMillis('yyyy-MM-dd HH:mm:ss||yyyy-MM-dd||epoch_millis'), true);
  assert.equal(readsEpochMillis(undefined), true);
  assert.equal(readsEpochMillis('yyyy-MM-dd HH:mm:ss'), false);
  assert.equal(readsEpochMillis('epoch_second'), false);
});
